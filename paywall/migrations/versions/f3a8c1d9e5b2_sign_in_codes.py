"""accounts: one-time sign-in codes, one row per request for a sign-in email

The six-digit code in the sign-in email signs in the browser that asked for it (for
in-app browsers, where the emailed link opens elsewhere). Only digests are stored: of
the code, of the address asked for and of the token naming the request in the session.

Revision ID: f3a8c1d9e5b2
Revises: 7d3f1a9c5e20
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a8c1d9e5b2'
down_revision = '7d3f1a9c5e20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_digest', sa.String(length=64), nullable=False),
    sa.Column('email_digest', sa.String(length=64), nullable=False),
    sa.Column('reader_id', sa.Integer(), nullable=True),
    sa.Column('code_digest', sa.String(length=64), nullable=False),
    sa.Column('issued_for', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reader_id'], ['readers.id'], name=op.f('fk_sign_in_codes_reader_id_readers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_codes')),
    sa.UniqueConstraint('request_digest', name=op.f('uq_sign_in_codes_request_digest'))
    )
    with op.batch_alter_table('sign_in_codes', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_codes_email_digest', ['email_digest'], unique=False)
        batch_op.create_index('ix_sign_in_codes_expires_at', ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('sign_in_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_codes_expires_at')
        batch_op.drop_index('ix_sign_in_codes_email_digest')

    op.drop_table('sign_in_codes')
