"""console: gate views per article and day, sign-ups and subscriptions per article

Gate views are counted in memory (or Redis) and flushed in batches into one row per
(day, article); the key leads with the day so the dashboard sums a range of days.
Conversions are read by time range, hence the index on created_at.

Revision ID: 3c8e5f1a9b27
Revises: 3f8a2d6c1e57
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c8e5f1a9b27'
down_revision = '3f8a2d6c1e57'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'gate_views',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('views', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('day', 'article_id'),
    )
    op.create_table(
        'article_conversions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('reader_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reader_id'], ['readers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        'ix_article_conversions_created_at', 'article_conversions', ['created_at'], unique=False
    )


def downgrade():
    op.drop_index('ix_article_conversions_created_at', table_name='article_conversions')
    op.drop_table('article_conversions')
    op.drop_table('gate_views')
