"""articles: sections and author lists; indexes for the lists and staff pages that grow

Articles get a section (and the slugs of their section's and author's lists, each list
sought by (slug, published_at, id)). At 1,000,000 readers and 200,000 subscriptions the
staff pages must not scan a table per view: partial indexes for the comped and staff
readers, indexes on the subscription and invoice dates the dashboard counts by, one
covering the subscription columns its totals count by, and on (site_id, id) for a
site's content list. On PostgreSQL,
trigram (pg_trgm) indexes serve the "email contains" and "title contains" searches;
SQLite keeps scanning, as it always did.

Revision ID: 6b1d4e8f2a93
Revises: 8e4b2f6a1c39
Create Date: 2026-11-29 21:00:00

"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6b1d4e8f2a93'
down_revision = '8e4b2f6a1c39'
branch_labels = None
depends_on = None

BATCH = 5_000


def _name_slug(name):
    """As ``paywall.articles.service.name_slug`` was when this migration was written."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:200]


def upgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_slug', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('section', sa.String(length=80), server_default='', nullable=False))
        batch_op.add_column(sa.Column('section_slug', sa.String(length=80), server_default='', nullable=False))
    _fill_author_slugs()
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_index('ix_articles_section_slug_published_at_id', ['section_slug', 'published_at', 'id'], unique=False)
        batch_op.create_index('ix_articles_author_slug_published_at_id', ['author_slug', 'published_at', 'id'], unique=False)

    op.create_index(
        'ix_readers_comped_email', 'readers', ['email'],
        postgresql_where=sa.text('is_comped'), sqlite_where=sa.text('is_comped'),
    )
    op.create_index(
        'ix_readers_staff_id', 'readers', ['id'],
        postgresql_where=sa.text("role IN ('editor', 'admin')"),
        sqlite_where=sa.text("role IN ('editor', 'admin')"),
    )
    op.create_index('ix_billing_subscriptions_tally', 'billing_subscriptions',
                    ['status', 'plan_code', 'cancel_at_period_end', 'was_active', 'ended_at'])
    op.create_index('ix_billing_subscriptions_created_at', 'billing_subscriptions', ['created_at'])
    op.create_index('ix_billing_subscriptions_ended_at', 'billing_subscriptions', ['ended_at'])
    op.create_index('ix_billing_subscriptions_trial_end', 'billing_subscriptions', ['trial_end'])
    op.create_index('ix_billing_invoices_created', 'billing_invoices', ['created'],
                    postgresql_include=['status', 'currency', 'amount_paid', 'attempt_count'])
    op.create_index('ix_embed_articles_site_id_id', 'embed_articles', ['site_id', 'id'])

    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.execute('CREATE INDEX ix_readers_email_trgm ON readers USING gin (email gin_trgm_ops)')
        op.execute(
            'CREATE INDEX ix_articles_title_trgm ON articles USING gin (lower(title) gin_trgm_ops)'
        )


def _fill_author_slugs():
    bind = op.get_bind()
    articles = sa.table('articles', sa.column('id', sa.Integer), sa.column('author', sa.String),
                        sa.column('author_slug', sa.String))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(articles.c.id, articles.c.author)
            .where(articles.c.id > last, articles.c.author != '')
            .order_by(articles.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            articles.update().where(articles.c.id == sa.bindparam('article_id'))
            .values(author_slug=sa.bindparam('slug')),
            [{'article_id': row.id, 'slug': _name_slug(row.author)} for row in rows],
        )
        last = rows[-1].id


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_articles_title_trgm')
        op.execute('DROP INDEX IF EXISTS ix_readers_email_trgm')
    op.drop_index('ix_embed_articles_site_id_id', table_name='embed_articles')
    op.drop_index('ix_billing_invoices_created', table_name='billing_invoices')
    op.drop_index('ix_billing_subscriptions_trial_end', table_name='billing_subscriptions')
    op.drop_index('ix_billing_subscriptions_ended_at', table_name='billing_subscriptions')
    op.drop_index('ix_billing_subscriptions_created_at', table_name='billing_subscriptions')
    op.drop_index('ix_billing_subscriptions_tally', table_name='billing_subscriptions')
    op.drop_index('ix_readers_staff_id', table_name='readers')
    op.drop_index('ix_readers_comped_email', table_name='readers')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index('ix_articles_author_slug_published_at_id')
        batch_op.drop_index('ix_articles_section_slug_published_at_id')
        batch_op.drop_column('section_slug')
        batch_op.drop_column('section')
        batch_op.drop_column('author_slug')
