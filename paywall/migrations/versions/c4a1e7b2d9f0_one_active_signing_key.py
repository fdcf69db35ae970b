"""embed: at most one active entitlement signing key

Two instances signing for the first time at once each made a key; a partial unique
index on the active keys (retired_at IS NULL) lets the database keep exactly one.
Extra active keys left by that race are retired (the newest one keeps signing).

Revision ID: c4a1e7b2d9f0
Revises: b3e0c9d1a7f2
Create Date: 2026-11-29 13:30:00

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4a1e7b2d9f0'
down_revision = 'b3e0c9d1a7f2'
branch_labels = None
depends_on = None

INDEX = 'uq_embed_signing_keys_one_active'
ACTIVE = sa.text('retired_at IS NULL')


def upgrade():
    keys = sa.table(
        'embed_signing_keys',
        sa.column('id', sa.Integer),
        sa.column('retired_at', sa.DateTime(timezone=True)),
    )
    newest_active = sa.select(sa.func.max(keys.c.id)).where(keys.c.retired_at.is_(None))
    op.execute(
        keys.update()
        .where(keys.c.retired_at.is_(None), keys.c.id != newest_active.scalar_subquery())
        .values(retired_at=datetime.now(UTC))
    )
    op.create_index(
        INDEX,
        'embed_signing_keys',
        [sa.text('(retired_at IS NULL)')],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )


def downgrade():
    op.drop_index(INDEX, table_name='embed_signing_keys')
