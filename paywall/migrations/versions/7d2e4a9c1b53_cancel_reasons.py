"""billing: keep why a reader canceled

The cancel page asks for an optional reason and comment; they are kept with the
subscription for the publisher.

Revision ID: 7d2e4a9c1b53
Revises: 3c8e5f1a9b27
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d2e4a9c1b53'
down_revision = '3c8e5f1a9b27'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('billing_subscriptions') as batch_op:
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('cancel_comment', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('billing_subscriptions') as batch_op:
        batch_op.drop_column('cancel_comment')
        batch_op.drop_column('cancel_reason')
