"""articles: tiers as text (a list of tier names could pass 200 characters)

Revision ID: 9b4d1f6e2c08
Revises: a7c2e9f04d13
Create Date: 2026-11-29 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9b4d1f6e2c08'
down_revision = 'a7c2e9f04d13'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.alter_column('tiers', existing_type=sa.String(length=200), type_=sa.Text(),
                              existing_nullable=False)


def downgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.alter_column('tiers', existing_type=sa.Text(), type_=sa.String(length=200),
                              existing_nullable=False)
