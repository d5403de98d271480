"""inbox search: folded name/phone and chat text on conversations, trigram indexes (Postgres)

Revision ID: 0018
Revises: 0016s
Create Date: 2026-11-30 02:45:00

On Postgres: pg_trgm and unaccent, an IMMUTABLE wrapper `s7_fold(text)` (lower + unaccent with
an explicit dictionary, so it can be indexed), triggers that keep `search_name` (contact name +
phone) and `search_doc` (the chat's newest ~8000 characters of message text) folded, GIN trigram
indexes on both, and an index on the inbox's sort order so a common word reads the newest chats
first. SQLite gets the plain columns (unused there: search falls back to LIKE).
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0016s'
branch_labels = None
depends_on = None

DOC_CHARS = 8000

FUNCTIONS = f"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE OR REPLACE FUNCTION s7_fold(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, value)) $$;

CREATE OR REPLACE FUNCTION s7_search_name_of_contact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations SET search_name = coalesce(s7_fold(NEW.name), '') || ' ' || NEW.wa_id
     WHERE contact_id = NEW.id;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION s7_search_name_of_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT coalesce(s7_fold(name), '') || ' ' || wa_id INTO NEW.search_name FROM contacts WHERE id = NEW.contact_id;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION s7_search_doc_of_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.text IS NOT NULL AND NEW.text <> '' THEN
        UPDATE conversations
           SET search_doc = right(coalesce(search_doc, '') || ' ' || s7_fold(NEW.text), {DOC_CHARS})
         WHERE id = NEW.conversation_id;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER s7_contacts_search AFTER INSERT OR UPDATE OF name, wa_id ON contacts
    FOR EACH ROW EXECUTE FUNCTION s7_search_name_of_contact();
CREATE TRIGGER s7_conversations_search BEFORE INSERT ON conversations
    FOR EACH ROW EXECUTE FUNCTION s7_search_name_of_conversation();
CREATE TRIGGER s7_messages_search AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION s7_search_doc_of_message();
"""

BACKFILL = f"""
UPDATE conversations c SET search_name = coalesce(s7_fold(k.name), '') || ' ' || k.wa_id
  FROM contacts k WHERE k.id = c.contact_id;
UPDATE conversations c SET search_doc = d.doc FROM (
    SELECT conversation_id, right(string_agg(s7_fold(text), ' ' ORDER BY id), {DOC_CHARS}) AS doc
      FROM messages WHERE text IS NOT NULL AND text <> '' GROUP BY conversation_id
) d WHERE d.conversation_id = c.id;
"""

SORT_INDEX = """
CREATE INDEX ix_conversations_sort_at ON conversations ((
    CASE WHEN attention_at > coalesce(last_message_at, created_at) THEN attention_at
         ELSE coalesce(last_message_at, created_at) END) DESC, id DESC);
"""


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        op.execute(FUNCTIONS)
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_name', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('search_doc', sa.Text(), nullable=True))
    if postgres:
        op.execute(BACKFILL)
        op.execute(SORT_INDEX)
        op.create_index('ix_conversations_search_name', 'conversations', ['search_name'], unique=False,
                        postgresql_using='gin', postgresql_ops={'search_name': 'gin_trgm_ops'})
        op.create_index('ix_conversations_search_doc', 'conversations', ['search_doc'], unique=False,
                        postgresql_using='gin', postgresql_ops={'search_doc': 'gin_trgm_ops'})
    else:
        with op.batch_alter_table('conversations', schema=None) as batch_op:
            batch_op.create_index('ix_conversations_search_name', ['search_name'], unique=False)
            batch_op.create_index('ix_conversations_search_doc', ['search_doc'], unique=False)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        op.execute("""
            DROP TRIGGER IF EXISTS s7_messages_search ON messages;
            DROP TRIGGER IF EXISTS s7_conversations_search ON conversations;
            DROP TRIGGER IF EXISTS s7_contacts_search ON contacts;
            DROP FUNCTION IF EXISTS s7_search_doc_of_message();
            DROP FUNCTION IF EXISTS s7_search_name_of_conversation();
            DROP FUNCTION IF EXISTS s7_search_name_of_contact();
            DROP INDEX IF EXISTS ix_conversations_sort_at;
        """)
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_search_doc')
        batch_op.drop_index('ix_conversations_search_name')
        batch_op.drop_column('search_doc')
        batch_op.drop_column('search_name')
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS s7_fold(text);")
