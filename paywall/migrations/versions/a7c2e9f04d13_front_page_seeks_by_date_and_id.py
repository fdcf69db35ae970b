"""articles: index (published_at, id) for the paginated front page

The front page is read a page at a time by keyset on (published_at, id), newest
first; the index on published_at alone left the tie-break on id to a sort. The
new index serves both, so the old one goes.

Revision ID: a7c2e9f04d13
Revises: e5d8a3c7b1f4
Create Date: 2026-11-30 10:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7c2e9f04d13'
down_revision = 'e5d8a3c7b1f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_index('ix_articles_published_at_id', ['published_at', 'id'], unique=False)
        batch_op.drop_index('ix_articles_published_at')


def downgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_index('ix_articles_published_at', ['published_at'], unique=False)
        batch_op.drop_index('ix_articles_published_at_id')
