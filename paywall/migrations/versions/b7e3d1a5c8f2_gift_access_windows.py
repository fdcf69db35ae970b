"""billing: each redeemed gift's window of access

A gift gives its plan's tier for its months, decided from these two columns (no longer
by a complimentary access to every tier). Gifts redeemed before get a window from their
redemption.

Revision ID: b7e3d1a5c8f2
Revises: 6b1d4e8f2a93
Create Date: 2026-11-29 20:40:00

"""
import calendar

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e3d1a5c8f2'
down_revision = '6b1d4e8f2a93'
branch_labels = None
depends_on = None


def _add_months(moment, months):
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def upgrade():
    with op.batch_alter_table('billing_gifts') as batch:
        batch.add_column(sa.Column('access_from', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('access_until', sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f('ix_billing_gifts_access_until'), ['access_until'], unique=False)
    gifts = sa.table(
        'billing_gifts',
        sa.column('id', sa.Integer()),
        sa.column('months', sa.Integer()),
        sa.column('redeemed_at', sa.DateTime(timezone=True)),
        sa.column('access_from', sa.DateTime(timezone=True)),
        sa.column('access_until', sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    redeemed = connection.execute(
        sa.select(gifts.c.id, gifts.c.months, gifts.c.redeemed_at).where(gifts.c.redeemed_at.is_not(None))
    ).all()
    for gift_id, months, redeemed_at in redeemed:
        connection.execute(
            gifts.update()
            .where(gifts.c.id == gift_id)
            .values(access_from=redeemed_at, access_until=_add_months(redeemed_at, months))
        )


def downgrade():
    with op.batch_alter_table('billing_gifts') as batch:
        batch.drop_index(batch.f('ix_billing_gifts_access_until'))
        batch.drop_column('access_until')
        batch.drop_column('access_from')
