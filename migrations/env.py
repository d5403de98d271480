"""Alembic environment: one migration history for Postgres and SQLite (batch mode always)."""

from alembic import context
from sqlalchemy import Connection

from s7.db import get_engine
from s7.domain.models import Base

target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
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
