"""billing: gift subscriptions

A buyer pays once for N months of a plan for a recipient's email; the recipient redeems
a single-use link (only its digest is kept).

Revision ID: 8e4b2f6a1c39
Revises: 7d2e4a9c1b53
Create Date: 2026-11-29 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8e4b2f6a1c39'
down_revision = '7d2e4a9c1b53'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'billing_gifts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('buyer_email', sa.String(length=254), nullable=False),
        sa.Column('buyer_reader_id', sa.Integer(), nullable=True),
        sa.Column('recipient_email', sa.String(length=254), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('plan_code', sa.String(length=64), nullable=False),
        sa.Column('plan_name', sa.String(length=120), nullable=False),
        sa.Column('tier', sa.String(length=40), nullable=False),
        sa.Column('months', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('stripe_payment_intent_id', sa.String(length=255), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('token_digest', sa.String(length=64), nullable=True),
        sa.Column('redeemed_by', sa.Integer(), nullable=True),
        sa.Column('redeemed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['buyer_reader_id'], ['readers.id'], name=op.f('fk_billing_gifts_buyer_reader_id_readers'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['redeemed_by'], ['readers.id'], name=op.f('fk_billing_gifts_redeemed_by_readers'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_gifts')),
        sa.UniqueConstraint('stripe_payment_intent_id', name=op.f('uq_billing_gifts_stripe_payment_intent_id')),
        sa.UniqueConstraint('token_digest', name=op.f('uq_billing_gifts_token_digest')),
    )
    op.create_index(op.f('ix_billing_gifts_redeemed_by'), 'billing_gifts', ['redeemed_by'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_billing_gifts_redeemed_by'), table_name='billing_gifts')
    op.drop_table('billing_gifts')
