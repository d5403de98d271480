"""ordered core: per-chat inbound lanes, the send gate, cancelled messages

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 02:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

OLD_STATUSES = "status IN ('received', 'queued', 'sent', 'delivered', 'read', 'failed')"
NEW_STATUSES = "status IN ('received', 'queued', 'sent', 'delivered', 'read', 'failed', 'cancelled')"
OLD_OUTBOX = "state IN ('pending', 'sending', 'sent', 'failed')"
NEW_OUTBOX = "state IN ('pending', 'sending', 'sent', 'failed', 'cancelled')"


def upgrade() -> None:
    op.create_table(
        "inbound_chats",
        sa.Column("chat_key", sa.String(length=96), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leased_by", sa.String(length=64), nullable=True),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("chat_key", name=op.f("pk_inbound_chats")),
    )
    with op.batch_alter_table("inbound_chats") as batch_op:
        batch_op.create_index("ix_inbound_chats_due_at", ["due_at"], unique=False)
    op.create_table(
        "inbound_items",
        sa.Column("id", BigId, nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("chat_key", sa.String(length=96), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'done', 'failed')", name=op.f("ck_inbound_items_state")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["webhook_events.id"],
            name=op.f("fk_inbound_items_event_id_webhook_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_items")),
    )
    with op.batch_alter_table("inbound_items") as batch_op:
        batch_op.create_index("ix_inbound_items_chat_key_state_id", ["chat_key", "state", "id"], unique=False)
        batch_op.create_index("ix_inbound_items_state", ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbound_items_event_id"), ["event_id"], unique=False)
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("gated", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.alter_column("state", existing_type=sa.String(length=8), type_=sa.String(length=10))
        batch_op.drop_constraint(op.f("ck_outbox_state"), type_="check")
        batch_op.create_check_constraint("state", NEW_OUTBOX)
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_constraint(op.f("ck_messages_status"), type_="check")
        batch_op.create_check_constraint("status", NEW_STATUSES)
    # Bot rows already queued when this runs keep the gate too.
    op.execute(
        "UPDATE outbox SET gated = true WHERE message_id IN (SELECT id FROM messages WHERE author = 'bot') "
        "OR kind = 'typing'"
    )


def downgrade() -> None:
    op.execute("UPDATE messages SET status = 'failed' WHERE status = 'cancelled'")
    op.execute("UPDATE outbox SET state = 'failed' WHERE state = 'cancelled'")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_constraint(op.f("ck_messages_status"), type_="check")
        batch_op.create_check_constraint("status", OLD_STATUSES)
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_state"), type_="check")
        batch_op.create_check_constraint("state", OLD_OUTBOX)
        batch_op.alter_column("state", existing_type=sa.String(length=10), type_=sa.String(length=8))
        batch_op.drop_column("gated")
    op.drop_table("inbound_items")
    op.drop_table("inbound_chats")
