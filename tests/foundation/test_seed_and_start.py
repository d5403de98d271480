"""Seeding is idempotent; the embedded first start creates, migrates and seeds a SQLite file."""

import re
import subprocess
import sys

import httpx
from sqlalchemy import func, select

from s7.auth import verify_password
from s7.db import session_scope
from s7.domain.models import Product, User
from s7.seed import DEMO_USERS, seed
from tests.conftest import ServerProcess


def _counts() -> tuple[int, int]:
    with session_scope() as session:
        return (session.scalar(select(func.count(User.id))), session.scalar(select(func.count(Product.id))))


def test_seed_is_idempotent_on_both_databases(any_db) -> None:
    first = seed()
    assert first["users_created"] == 3 and first["products_created"] > 20
    users, products = _counts()
    second = seed()
    assert second["users_created"] == 0 and second["users_updated"] == 0 and second["products_created"] == 0
    assert _counts() == (users, products)
    with session_scope() as session:
        admin = session.scalar(select(User).where(User.email == DEMO_USERS[0].email))
        assert admin.role == "admin" and verify_password(any_db.ADMIN_SEED_PASSWORD, admin.password_hash)


def test_cli_seed_and_missing_catalog_file_errors_are_one_line(pg_db, tmp_path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": pg_db.DATABASE_URL,
        "ADMIN_SEED_PASSWORD": "a-123456",
        "SELLER_SEED_PASSWORD": "s-123456",
        "HOME": str(tmp_path),
    }
    ok = subprocess.run([sys.executable, "-m", "s7.cli", "seed"], env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "s7.cli", "import-catalog", str(tmp_path / "nope.json")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode != 0
    assert missing.stderr.strip().splitlines() == [f"error: No encuentro el archivo {tmp_path / 'nope.json'}"]
    unreachable = subprocess.run(
        [sys.executable, "-m", "s7.cli", "migrate"],
        env={**env, "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unreachable.returncode != 0
    lines = unreachable.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: DATABASE_URL: no puedo conectar")


def test_embedded_first_start_on_sqlite(tmp_path) -> None:
    """No DATABASE_URL, no token: a SQLite file is created, migrated and seeded with generated demo
    passwords (printed, never a fixed one); the login page shows them to this machine only."""
    # A public URL: the demo is reachable from outside, and says nothing there lasts.
    env = {
        "HOME": str(tmp_path),
        "ADMIN_SEED_PASSWORD": "",
        "SELLER_SEED_PASSWORD": "",
        "PUBLIC_BASE_URL": "https://demo-tienda.example.com",
    }
    server = ServerProcess(env, cwd=tmp_path)
    try:
        server.wait_ready(timeout=60)
        assert (tmp_path / ".s7" / "sector7.db").exists()
        printed = dict(re.findall(r"(\S+@sector7\.local) / (\S+)", server.output()))
        assert set(printed) == {demo.email for demo in DEMO_USERS}, server.output()
        admin_password = printed["admin@sector7.local"]
        assert admin_password not in ("admin-sector7", "admin-pass-123") and len(admin_password) >= 12
        token = httpx.post(
            server.url + "/api/auth/login", json={"email": "admin@sector7.local", "password": admin_password}
        )
        assert token.status_code == 200
        assert httpx.get(server.url + "/readyz").json()["database"] == "ok"
        local = httpx.get(server.url + "/login")
        assert local.status_code == 200 and printed["vendedor1@sector7.local"] in local.text
        proxied = httpx.get(server.url + "/login", headers={"X-Forwarded-For": "203.0.113.9"}).text
        assert printed["vendedor1@sector7.local"] not in proxied and "en el log del servidor" in proxied
        assert "nada de lo que pase acá es durable" in proxied
        httpx.get(server.url + "/login", headers={"X-Forwarded-For": "203.0.113.10"})
        assert "ATENCIÓN: este sandbox se puede abrir desde afuera" in server.output()
        assert server.output().count("sandbox abierto desde otra máquina") == 1  # logged once, at the first
        assert httpx.get(server.url + "/openapi.json").status_code == 200  # sandbox: the docs stay open
    finally:
        server.stop()
