"""billing: outcome unknown, pauses, cancel_at, disputes, 3-D Secure, scheduled plan
changes; no event clocks

Rows are written from objects re-read from Stripe, so the per-row time of the newest
event applied (last_event_at) is gone.

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


MIRRORED = ('billing_customers', 'billing_subscriptions', 'billing_payment_methods',
            'billing_invoices')


def upgrade():
    with op.batch_alter_table('billing_customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state_unknown_since', sa.DateTime(timezone=True), nullable=True))
    for table in MIRRORED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('last_event_at')
    with op.batch_alter_table('billing_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pause_reason', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('collection_paused', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('collection_resumes_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancel_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('disputed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('stripe_schedule_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('scheduled_plan_code', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('scheduled_change_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('billing_invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_intent_status', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('billing_invoices', schema=None) as batch_op:
        batch_op.drop_column('payment_intent_status')
    with op.batch_alter_table('billing_subscriptions', schema=None) as batch_op:
        for column in ('scheduled_change_at', 'scheduled_plan_code', 'stripe_schedule_id',
                       'disputed_at', 'cancel_at', 'collection_resumes_at', 'collection_paused',
                       'pause_reason'):
            batch_op.drop_column(column)
    for table in MIRRORED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('last_event_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('billing_customers', schema=None) as batch_op:
        batch_op.drop_column('state_unknown_since')
