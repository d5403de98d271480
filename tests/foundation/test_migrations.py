"""One migration history, Postgres and SQLite: up from empty, models in sync, safe with replicas."""

import threading

from alembic import command
from sqlalchemy import inspect

from s7.config import reset_settings
from s7.db import alembic_config, get_engine, migrate, reset_engine, schema_at_head
from s7.domain.models import Base
from tests.conftest import create_pg_database, drop_pg_database, make_settings


def _fresh(url: str) -> None:
    reset_settings(make_settings(DATABASE_URL=url))
    reset_engine()


def _assert_migrated_and_in_sync() -> None:
    assert schema_at_head()
    tables = set(inspect(get_engine()).get_table_names())
    assert set(Base.metadata.tables) <= tables
    command.check(alembic_config())  # raises when models and migrations differ


def test_postgres_upgrade_from_empty_and_alembic_check() -> None:
    url = create_pg_database("s7_mig")
    try:
        _fresh(url)
        assert not schema_at_head()
        migrate()
        _assert_migrated_and_in_sync()
    finally:
        reset_engine()
        drop_pg_database(url)
        reset_settings(None)


def test_sqlite_upgrade_from_empty_and_alembic_check(tmp_path) -> None:
    _fresh(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        migrate()
        _assert_migrated_and_in_sync()
    finally:
        reset_engine()
        reset_settings(None)


def test_two_replicas_migrating_together_both_succeed_once() -> None:
    url = create_pg_database("s7_mig")
    errors: list[BaseException] = []
    try:
        _fresh(url)

        def replica() -> None:
            try:
                migrate()
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=replica) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert schema_at_head()
    finally:
        reset_engine()
        drop_pg_database(url)
        reset_settings(None)


def test_downgrade_round_trip_on_sqlite(tmp_path) -> None:
    _fresh(f"sqlite:///{tmp_path / 'rt.db'}")
    try:
        migrate()
        command.downgrade(alembic_config(), "base")
        assert not schema_at_head()
        migrate()
        assert schema_at_head()
    finally:
        reset_engine()
        reset_settings(None)
