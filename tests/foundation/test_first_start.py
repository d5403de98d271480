"""A store's first start is safe: no SQLite outside sandbox, the first admin from the environment
or a one-time setup link, demo users only in sandbox (off the moment the store goes real), no
fixed demo password, and the API docs behind a session outside sandbox."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

import s7.seed as seed_module
from s7.auth import issue_token, user_from_token, verify_password
from s7.bootstrap import create_first_admin, on_start
from s7.config import ConfigError, load_settings, reset_settings
from s7.db import reset_engine, session_scope
from s7.domain.models import User
from s7.seed import DEMO_EMAILS, seed
from tests.conftest import ServerProcess, make_settings, server_env

ROOT = Path(__file__).resolve().parents[2]
REAL = {"WHATSAPP_TOKEN": "EAAG-first-start", "WHATSAPP_PHONE_NUMBER_ID": "106540352242922"}


def _admins() -> list[tuple[str, str, bool]]:
    with session_scope() as session:
        return [(u.email, u.password_hash, u.active) for u in session.scalars(select(User).where(User.role == "admin"))]


def _go_real(pg_db, **extra: str) -> None:
    reset_settings(make_settings(DATABASE_URL=pg_db.DATABASE_URL, **REAL, **extra))
    reset_engine()


# ---- SQLite outside sandbox -------------------------------------------------------------------------


def test_real_mode_refuses_sqlite_unless_allowed(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    for key, value in {**REAL, "SESSION_SECRET": "s" * 32, "META_APP_SECRET": "x"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith("DATABASE_URL: fuera de sandbox no uso SQLite") and "\n" not in message
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ConfigError):
        load_settings()
    monkeypatch.setenv("ALLOW_SQLITE", "true")
    assert load_settings().is_sqlite


def test_a_real_container_without_database_url_does_not_start(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SESSION_SECRET": "s" * 32, "META_APP_SECRET": "x", **REAL}
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py")], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("error: DATABASE_URL: fuera de sandbox no uso SQLite")
    assert not (tmp_path / ".s7" / "sector7.db").exists()


# ---- the first admin -----------------------------------------------------------------------------------


def test_first_admin_from_the_environment_is_created_once_and_never_overwritten(pg_db) -> None:
    _go_real(pg_db, ADMIN_EMAIL="Duena@Tienda.com", ADMIN_PASSWORD="clave-de-la-duena")
    report = on_start()
    assert report.admin_created == "duena@tienda.com" and report.setup_url is None
    [(email, first_hash, active)] = _admins()
    assert email == "duena@tienda.com" and active and verify_password("clave-de-la-duena", first_hash)
    # A later deploy with other values changes nothing.
    _go_real(pg_db, ADMIN_EMAIL="duena@tienda.com", ADMIN_PASSWORD="otra-clave-nueva")
    assert on_start().admin_created is None
    _go_real(pg_db, ADMIN_EMAIL="otro@tienda.com", ADMIN_PASSWORD="otra-clave-nueva")
    assert on_start().admin_created is None
    assert _admins() == [("duena@tienda.com", first_hash, True)]


def test_replicas_starting_at_once_make_exactly_one_first_admin(pg_db) -> None:
    _go_real(pg_db)
    results: list[str | None] = []
    barrier = threading.Barrier(4)

    def start(index: int) -> None:
        barrier.wait()
        results.append(create_first_admin(f"admin{index}@tienda.com", "clave-segura-1", name=None))

    threads = [threading.Thread(target=start, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([r for r in results if r]) == 1 and len(_admins()) == 1


def test_an_admin_email_that_belongs_to_a_seller_is_left_alone(pg_db) -> None:
    _go_real(pg_db)
    with session_scope() as session:
        session.add(User(email="ana@tienda.com", name="Ana", role="seller", password_hash="x"))
    _go_real(pg_db, ADMIN_EMAIL="ana@tienda.com", ADMIN_PASSWORD="clave-segura-1")
    report = on_start()
    assert report.admin_email_taken and report.admin_created is None and report.setup_url
    with session_scope() as session:
        ana = session.scalar(select(User).where(User.email == "ana@tienda.com"))
        assert ana.role == "seller" and ana.password_hash == "x"


# ---- demo users ----------------------------------------------------------------------------------------


def test_demo_users_are_disabled_the_moment_the_store_runs_in_real_mode(pg_db) -> None:
    seed()  # a sandbox past: demo users with known passwords
    with session_scope() as session:
        demo_admin = session.scalar(select(User).where(User.email == DEMO_EMAILS[0]))
        token = issue_token(demo_admin)
    assert user_from_token(token) is not None
    _go_real(pg_db, ADMIN_EMAIL="duena@tienda.com", ADMIN_PASSWORD="clave-de-la-duena")
    report = on_start()
    assert report.demo_users_disabled == 3 and report.admin_created == "duena@tienda.com"
    assert user_from_token(token) is None  # sessions ended too
    with session_scope() as session:
        assert not any(session.scalars(select(User.active).where(User.email.in_(DEMO_EMAILS))))
    from s7.seed import SeedRefused

    with pytest.raises(SeedRefused):  # and `s7 seed` cannot bring them back in a real store
        seed()


def test_demo_passwords_are_generated_kept_and_never_the_old_fixed_ones(pg_db, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(seed_module, "GENERATED_LOGINS", tmp_path / "demo-logins.json")
    reset_settings(make_settings(DATABASE_URL=pg_db.DATABASE_URL, ADMIN_SEED_PASSWORD="", SELLER_SEED_PASSWORD=""))
    first = seed_module.demo_logins()
    assert seed_module.demo_logins() == first  # kept: the same ones at every start
    passwords = {password for _, password in first}
    assert len(passwords) == 2 and not passwords & {"admin-sector7", "vendedor-sector7"}
    assert all(len(p) >= 12 for p in passwords)
    assert (tmp_path / "demo-logins.json").stat().st_mode & 0o077 == 0


# ---- the setup link, /docs, the login page: a real server process ---------------------------------------


def test_setup_link_creates_the_first_admin_once_and_docs_need_a_session(pg_db) -> None:
    seed()  # demo users from a sandbox past, to be switched off
    env = server_env(pg_db, **REAL, META_GRAPH_BASE_URL="http://127.0.0.1:9")
    server = ServerProcess(env)
    try:
        server.wait_ready(timeout=60)
        found = re.search(r"(/setup\?token=[\w.\-]+)", server.output())
        assert found, server.output()
        link = server.url + found.group(1)
        token = link.split("token=")[1]
        with httpx.Client(base_url=server.url, timeout=10) as client:
            assert (
                client.post(
                    "/api/auth/login", json={"email": DEMO_EMAILS[0], "password": pg_db.ADMIN_SEED_PASSWORD}
                ).status_code
                == 401
            )
            assert client.get("/openapi.json").status_code == 401
            docs = client.get("/docs")
            assert docs.status_code == 303 and docs.headers["location"].startswith("/login")
            page = client.get(link)
            assert page.status_code == 200 and "Creá el primer administrador" in page.text
            bad = client.post(
                "/setup",
                data={"token": token, "email": "duena@tienda.com", "password": "corta", "password_again": "corta"},
            )
            assert bad.status_code == 303 and "8+caracteres" in bad.headers["location"]
            made = client.post(
                "/setup",
                data={
                    "token": token,
                    "name": "Dueña",
                    "email": "duena@tienda.com",
                    "password": "clave-de-la-duena",
                    "password_again": "clave-de-la-duena",
                },
            )
            assert made.status_code == 303 and made.headers["location"].startswith("/login?created=")
            again = client.post(
                "/setup",
                data={
                    "token": token,
                    "email": "intruso@x.com",
                    "password": "clave-intruso",
                    "password_again": "clave-intruso",
                },
            )
            assert "ya+no+sirve" in again.headers["location"]
            assert "Este enlace ya no sirve" in client.get(link).text
            login = client.post("/api/auth/login", json={"email": "duena@tienda.com", "password": "clave-de-la-duena"})
            assert login.status_code == 200 and login.json()["user"]["role"] == "admin"
            bearer = {"Authorization": f"Bearer {login.json()['token']}"}
            assert client.get("/openapi.json", headers=bearer).status_code == 200
            assert client.get("/docs", headers=bearer).status_code == 200
        assert [email for email, _, _ in _admins() if email not in DEMO_EMAILS] == ["duena@tienda.com"]
    finally:
        server.stop()
