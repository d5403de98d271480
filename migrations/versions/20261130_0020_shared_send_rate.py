"""one send-rate bucket for every replica (Meta's throughput limit is per number)

Revision ID: 0020
Revises: 0018
Create Date: 2026-11-30 02:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("refilled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_rate")),
    )


def downgrade() -> None:
    op.drop_table("send_rate")
