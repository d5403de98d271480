"""Engine, sessions, and the Postgres-or-SQLite helpers (advisory locks, SKIP LOCKED, migrations)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, Select, create_engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from s7.config import get_settings

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_LOCK_KEY = 7_100_001

_engine: Engine | None = None
_session_factory: sessionmaker[Session] | None = None
_sqlite_locks: dict[int, threading.Lock] = {}
_sqlite_locks_guard = threading.Lock()


def build_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,  # reconnect by itself after a Postgres restart
        pool_recycle=1800,
        connect_args={"connect_timeout": 5},
    )


def get_engine() -> Engine:
    global _engine, _session_factory
    if _engine is None:
        _engine = build_engine(get_settings().database_url)
        _session_factory = sessionmaker(_engine, expire_on_commit=False)
    return _engine


def reset_engine() -> None:
    """Forget the engine (tests switch databases; the CLI disposes before exit)."""
    global _engine, _session_factory
    if _engine is not None:
        _engine.dispose()
    _engine, _session_factory = None, None


def is_postgres(session_or_engine: Session | Engine | None = None) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return (bind or get_engine()).dialect.name == "postgresql"


@contextlib.contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error."""
    get_engine()
    assert _session_factory is not None
    session = _session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for an advisory lock (never Python's randomised hash())."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def try_xact_lock(session: Session, name: str) -> bool:
    """Take a transaction-scoped lock if free. Postgres: advisory lock, released at commit or
    crash, shared by every replica. SQLite (one process by design): always granted."""
    if is_postgres(session):
        return bool(session.scalar(select(func.pg_try_advisory_xact_lock(lock_key(name)))))
    return True


@contextlib.contextmanager
def process_lock(name: str) -> Iterator[bool]:
    """In-process try-lock for the SQLite fallback of work Postgres guards with advisory locks."""
    key = lock_key(name)
    with _sqlite_locks_guard:
        lock = _sqlite_locks.setdefault(key, threading.Lock())
    got = lock.acquire(blocking=False)
    try:
        yield got
    finally:
        if got:
            lock.release()


def skip_locked(statement: Select, session: Session) -> Select:
    """Claim rows without blocking other workers: FOR UPDATE SKIP LOCKED on Postgres; SQLite
    serialises writers itself, so the plain select is right there."""
    if is_postgres(session):
        return statement.with_for_update(skip_locked=True)
    return statement


def alembic_config():  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return config


def migrate() -> None:
    """Upgrade to head. Replicas starting together: one migrates, the others wait on the lock."""
    from alembic import command

    engine = get_engine()
    config = alembic_config()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATIONS_LOCK_KEY})
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        finally:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATIONS_LOCK_KEY})
                connection.commit()


def schema_at_head() -> bool:
    """True when the database answers and its schema is the newest migration."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    with get_engine().connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current == heads
