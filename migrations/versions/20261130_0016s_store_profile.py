"""store profile: the facts the bot may state, opening hours, the store's own vocabulary

Revision ID: 0016s (issue 16; 0016 was taken)
Revises: 0017
Create Date: 2026-11-30 02:10:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0016s'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('store_profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_store_profile_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_store_profile'))
    )


def downgrade() -> None:
    op.drop_table('store_profile')
