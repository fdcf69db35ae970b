"""billing: when a Stripe call's outcome became unknown for a customer

Revision ID: b3e0c9d1a7f2
Revises: f77006aee972
Create Date: 2026-11-29 12:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3e0c9d1a7f2'
down_revision = 'f77006aee972'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('billing_customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state_unknown_since', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('billing_customers', schema=None) as batch_op:
        batch_op.drop_column('state_unknown_since')
