"""inbox search: a short GIN pending list on the search indexes (Postgres)

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30 05:40:00

Every message rewrites its chat's `search_doc`, so the trigram indexes take a stream of inserts.
With GIN's default fast update those queue in a pending list of up to 4 MB that every search
reads in full (measured: ~450 pages, 5-8 ms per index per search at 50k chats). 256 kB bounds
that to ~30 pages; the inserting transaction merges the list a little more often (measured
~0.4 → ~0.7 ms per message with short chats). SQLite has no such indexes: nothing to do.
"""
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

INDEXES = ('ix_conversations_search_name', 'ix_conversations_search_doc')
PENDING_KB = 256


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} SET (gin_pending_list_limit = {PENDING_KB})")
        # The list as it stands now is merged at once, not by the next few searches' writers.
        op.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} RESET (gin_pending_list_limit)")
