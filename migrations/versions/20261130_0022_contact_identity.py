"""contacts: phone optional, BSUID unique, username (WhatsApp usernames, 2026)

Revision ID: 0022
Revises: 0020
Create Date: 2026-11-30 02:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None


# The inbox search (0018) keeps `conversations.search_name` = folded name + phone; a customer with
# no phone must still be found, by @username: NULL-safe and with the username.
SEARCH_NAME = "coalesce(s7_fold({k}name), '') || ' ' || coalesce({k}wa_id, '') || coalesce(' @' || lower({k}username), '')"
OLD_SEARCH_NAME = "coalesce(s7_fold({k}name), '') || ' ' || {k}wa_id"


def search_functions(expression: str, columns: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION s7_search_name_of_contact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations SET search_name = {expression.format(k="NEW.")} WHERE contact_id = NEW.id;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION s7_search_name_of_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT {expression.format(k="")} INTO NEW.search_name FROM contacts WHERE id = NEW.contact_id;
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS s7_contacts_search ON contacts;
CREATE TRIGGER s7_contacts_search AFTER INSERT OR UPDATE OF {columns} ON contacts
    FOR EACH ROW EXECUTE FUNCTION s7_search_name_of_contact();

UPDATE conversations c SET search_name = {expression.format(k="k.")} FROM contacts k WHERE k.id = c.contact_id;
"""


def upgrade() -> None:
    # Before usernames the parser stored a BSUID-only customer's id in wa_id: move it where it belongs.
    op.execute(
        "UPDATE contacts SET user_id = wa_id WHERE user_id IS NULL AND wa_id IS NOT NULL "
        "AND wa_id LIKE '%.%'"
    )
    # The BSUID becomes unique: a repeated one stays on the oldest contact only.
    op.execute(
        "UPDATE contacts SET user_id = NULL WHERE user_id IS NOT NULL AND id <> "
        "(SELECT MIN(c2.id) FROM contacts c2 WHERE c2.user_id = contacts.user_id)"
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_user_id")
        batch_op.alter_column("user_id", new_column_name="bsuid", existing_type=sa.String(length=64))
        batch_op.alter_column("wa_id", existing_type=sa.String(length=32), nullable=True)
        batch_op.add_column(sa.Column("username", sa.String(length=64), nullable=True))
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_contacts_bsuid"), ["bsuid"])
        batch_op.create_index(batch_op.f("ix_contacts_username"), ["username"], unique=False)
    op.execute("UPDATE contacts SET wa_id = NULL WHERE wa_id LIKE '%.%'")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(search_functions(SEARCH_NAME, "name, wa_id, username"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(search_functions(OLD_SEARCH_NAME, "name, wa_id"))
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_username"))
        batch_op.drop_constraint(batch_op.f("uq_contacts_bsuid"), type_="unique")
        batch_op.drop_column("username")
        batch_op.alter_column("bsuid", new_column_name="user_id", existing_type=sa.String(length=64))
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index("ix_contacts_user_id", ["user_id"], unique=False)
    op.execute("UPDATE contacts SET wa_id = user_id WHERE wa_id IS NULL")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.alter_column("wa_id", existing_type=sa.String(length=32), nullable=False)
