"""billing: keep correctly signed webhook bodies that are not Stripe events

They answered 500 (or 400 as if the signature were bad) and were lost. Each is kept
once, as received, for a person to inspect; nothing applies them.

Revision ID: e5d8a3c7b1f4
Revises: c4a1e7b2d9f0
Create Date: 2026-11-29 14:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5d8a3c7b1f4'
down_revision = 'c4a1e7b2d9f0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('billing_malformed_webhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_malformed_webhooks')),
    sa.UniqueConstraint('sha256', name=op.f('uq_billing_malformed_webhooks_sha256'))
    )


def downgrade():
    op.drop_table('billing_malformed_webhooks')
