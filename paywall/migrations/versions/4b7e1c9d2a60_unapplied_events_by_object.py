"""billing: find the unapplied webhook events about one object

Applying an event also applies the other stored events about the same object that are
not applied yet, from the same re-read of Stripe; a partial index finds them.

Revision ID: 4b7e1c9d2a60
Revises: b7e3d1a5c8f2
Create Date: 2026-11-29 20:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4b7e1c9d2a60'
down_revision = 'b7e3d1a5c8f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_billing_webhook_events_unapplied_object',
        'billing_webhook_events',
        ['object_id'],
        postgresql_where=sa.text('applied_at IS NULL'),
        sqlite_where=sa.text('applied_at IS NULL'),
    )


def downgrade():
    op.drop_index('ix_billing_webhook_events_unapplied_object', table_name='billing_webhook_events')
