"""accounts: readers.deleted_at, set when a reader deletes their account

The row stays, emptied of the person (a placeholder email, no name, no password), so
the invoices that accounting law keeps still have a customer to belong to.

Revision ID: 7d3f1a9c5e20
Revises: 3f6a2d8c1b95
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d3f1a9c5e20'
down_revision = '3f6a2d8c1b95'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('readers') as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('readers') as batch_op:
        batch_op.drop_column('deleted_at')
