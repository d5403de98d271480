"""Shared fixtures: a throwaway real Postgres database per test session, SQLite files per test,
settings swapped per test, and a controllable clock.

Postgres is required (CI starts it); set S7_TEST_PG_URL to point elsewhere. Each pytest run
creates its own database `s7_test_<random>` and drops it at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from s7 import clock
from s7.config import Settings, reset_settings
from s7.db import get_engine, migrate, reset_engine
from s7.domain.models import Base

PG_ADMIN_URL = os.environ.get("S7_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin_conninfo() -> str:
    return PG_ADMIN_URL


def create_pg_database(prefix: str = "s7_test") -> str:
    """Create an empty database; return its postgresql:// URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_settings(**overrides: object) -> Settings:
    """Settings for tests: sandbox, fast timers, no .env file."""
    values: dict[str, object] = {
        "SESSION_SECRET": "test-secret-0123456789abcdef",
        "META_APP_SECRET": "test-app-secret",
        "META_VERIFY_TOKEN": "test-verify-token",
        "ADMIN_SEED_PASSWORD": "admin-pass-123",
        "SELLER_SEED_PASSWORD": "seller-pass-123",
        "ENABLE_JOBS": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """One migrated Postgres database for the whole run (tables are emptied between tests)."""
    url = create_pg_database()
    reset_settings(make_settings(DATABASE_URL=url))
    reset_engine()
    migrate()
    reset_engine()
    yield url
    reset_engine()
    drop_pg_database(url)


def _truncate_all() -> None:
    engine = get_engine()
    tables = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Settings]:
    """A clean, migrated Postgres database and settings pointing at it."""
    settings = make_settings(DATABASE_URL=pg_url)
    reset_settings(settings)
    reset_engine()
    _truncate_all()
    yield settings
    reset_engine()
    reset_settings(None)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Settings]:
    """A fresh migrated SQLite file."""
    settings = make_settings(DATABASE_URL=f"sqlite:///{tmp_path / 's7.db'}")
    reset_settings(settings)
    reset_engine()
    migrate()
    yield settings
    reset_engine()
    reset_settings(None)


@pytest.fixture(params=["postgres", "sqlite"])
def any_db(request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Runs a test on both dialects."""
    fixture = "pg_db" if request.param == "postgres" else "sqlite_db"
    yield request.getfixturevalue(fixture)


class FakeClock:
    """An injectable clock: `advance(minutes=...)` instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 25, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@pytest.fixture
def fake_clock() -> Iterator[FakeClock]:
    fake = FakeClock()
    clock.set_clock(fake)
    yield fake
    clock.set_clock(None)


# ---- a real server process ------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`python main.py` in a subprocess on a free port: the app exactly as deployed."""

    def __init__(self, env: dict[str, str], cwd: Path | None = None) -> None:
        import subprocess
        import sys

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("NICEGUI", "PYTEST"))}
        full_env.update({"PORT": str(self.port), "HOST": "127.0.0.1", "PYTHONUNBUFFERED": "1"})
        full_env.update(env)
        root = Path(__file__).resolve().parent.parent
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"s7-server-{self.port}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(root / "main.py")],
            cwd=str(cwd or root),
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 40.0) -> None:
        import time

        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.output()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready after {timeout}s:\n{self.output()}")

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        import signal

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except Exception:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self._log.close()


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a server process needs to run on the test's database and settings."""
    env = {
        "DATABASE_URL": settings.DATABASE_URL,
        "SESSION_SECRET": settings.SESSION_SECRET,
        "META_APP_SECRET": settings.META_APP_SECRET,
        "META_VERIFY_TOKEN": settings.META_VERIFY_TOKEN,
        "ADMIN_SEED_PASSWORD": settings.ADMIN_SEED_PASSWORD,
        "SELLER_SEED_PASSWORD": settings.SELLER_SEED_PASSWORD,
        "ENABLE_JOBS": "false",
    }
    env.update(extra)
    return env
