"""accounts: login sessions, one row per signed-in browser

Sign-out, "sign out all my devices" and a password change end sessions by deleting
their rows, which every host sees on its next request; the cookies carry a token whose
SHA-256 digest is stored here. Sessions from before this revision carried the reader's
id and security stamp instead: their readers sign in again once.

Revision ID: 5e2b7c9a1d34
Revises: 9b4d1f6e2c08
Create Date: 2026-11-29 14:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e2b7c9a1d34'
down_revision = '9b4d1f6e2c08'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reader_id', sa.Integer(), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('device', sa.String(length=120), nullable=False),
    sa.Column('remember', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reader_id'], ['readers.id'], name=op.f('fk_login_sessions_reader_id_readers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_login_sessions_token_digest'))
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_login_sessions_reader_id', ['reader_id'], unique=False)


def downgrade():
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_login_sessions_reader_id')

    op.drop_table('login_sessions')
