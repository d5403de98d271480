"""Alembic environment: one migration history for Postgres and SQLite (batch mode always)."""

from alembic import context
from sqlalchemy import Connection

from s7.db import get_engine
from s7.domain.models import Base, UTCDateTime

target_metadata = Base.metadata


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Migrations stay free of app imports: our UTC type is a plain timezone-aware DateTime."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# Postgres-only expression indexes made in migrations (autogenerate cannot model them).
RAW_INDEXES = {"ix_conversations_sort_at"}


def _include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "index" and name in RAW_INDEXES)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
        include_object=_include_object,
    )


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:  # s7.db.migrate() hands us its (locked) connection
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    with get_engine().connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `s7 migrate`")
run_migrations_online()
