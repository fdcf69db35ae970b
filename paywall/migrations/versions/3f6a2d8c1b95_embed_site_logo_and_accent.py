"""embed: a site's logo and accent colour, shown in its sign-in popup

The popup belongs to the publisher: it shows the site's name, and its logo (https) and
accent colour (#rrggbb) when set. Both are empty for existing sites.

Revision ID: 3f6a2d8c1b95
Revises: 5e2b7c9a1d34
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f6a2d8c1b95'
down_revision = '5e2b7c9a1d34'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('embed_sites') as batch_op:
        batch_op.add_column(sa.Column('logo_url', sa.String(500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('accent_color', sa.String(7), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('embed_sites') as batch_op:
        batch_op.drop_column('accent_color')
        batch_op.drop_column('logo_url')
