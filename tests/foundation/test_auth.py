"""Login (API and form), tokens, throttling, the gate on pages/websocket, health endpoints."""

import httpx
import pytest

from s7.auth import (
    hash_password,
    issue_token,
    safe_redirect_target,
    user_from_token,
    verify_password,
)
from s7.db import session_scope
from s7.domain.logins import PAIR_LIMIT
from s7.domain.models import User


def _make_user(email: str = "ana@tienda.com", password: str = "clave-segura-1", role: str = "seller") -> int:
    with session_scope() as session:
        user = User(email=email, name="Ana", role=role, password_hash=hash_password(password))
        session.add(user)
        session.flush()
        return user.id


def test_argon2_hashes_and_verifies() -> None:
    hashed = hash_password("clave")
    assert hashed.startswith("$argon2id$")
    assert verify_password("clave", hashed) and not verify_password("otra", hashed)
    assert not verify_password("clave", "garbage")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/admin/users", "/admin/users"),
        ("//evil.com", "/"),
        ("https://evil.com", "/"),
        ("/\\evil", "/"),
        ("", "/"),
        (None, "/"),
        ("/x\r\nSet-Cookie: a", "/"),
    ],
)
def test_redirect_targets_stay_on_site(target: str | None, expected: str) -> None:
    assert safe_redirect_target(target) == expected


def test_token_dies_when_user_is_deactivated_or_session_version_bumps(pg_db) -> None:
    user_id = _make_user()
    with session_scope() as session:
        token = issue_token(session.get(User, user_id))
    assert user_from_token(token).id == user_id
    assert user_from_token(token + "x") is None
    with session_scope() as session:
        session.get(User, user_id).session_version += 1
    assert user_from_token(token) is None


async def test_api_login_success_failure_and_throttle(pg_db, user) -> None:
    _make_user()
    client: httpx.AsyncClient = user.http_client
    ok = await client.post("/api/auth/login", json={"email": "ANA@tienda.com ", "password": "clave-segura-1"})
    assert ok.status_code == 200
    token = ok.json()["token"]
    assert ok.json()["user"]["role"] == "seller"
    assert (await client.get("/healthz")).status_code == 200

    bad = await client.post("/api/auth/login", json={"email": "ana@tienda.com", "password": "nope"})
    assert bad.status_code == 401
    for _ in range(PAIR_LIMIT - 1):
        await client.post("/api/auth/login", json={"email": "ana@tienda.com", "password": "nope"})
    throttled = await client.post("/api/auth/login", json={"email": "ana@tienda.com", "password": "clave-segura-1"})
    assert throttled.status_code == 429
    assert user_from_token(token) is not None  # throttling does not end existing sessions


async def test_unknown_email_fails_like_a_wrong_password(pg_db, user) -> None:
    response = await user.http_client.post("/api/auth/login", json={"email": "nadie@x.com", "password": "x"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Email o contraseña incorrectos"


async def test_pages_redirect_to_login_without_session(pg_db, user) -> None:
    client: httpx.AsyncClient = user.http_client
    for path in ("/", "/admin/users", "/dashboard"):
        response = await client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?redirect_to=")
    socket = await client.get("/_nicegui_ws/socket.io/?EIO=4&transport=polling", follow_redirects=False)
    assert socket.status_code == 401
    assert (await client.get("/login")).status_code == 200


async def test_form_login_sets_httponly_cookie_and_opens_the_inbox(pg_db, user) -> None:
    _make_user()
    client: httpx.AsyncClient = user.http_client
    response = await client.post(
        "/auth/login",
        data={"email": "ana@tienda.com", "password": "clave-segura-1", "redirect_to": "//evil.com"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "s7_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    inbox = await client.get("/", follow_redirects=False)
    assert inbox.status_code == 200

    wrong = await client.post("/auth/login", data={"email": "ana@tienda.com", "password": "x"}, follow_redirects=False)
    assert wrong.headers["location"].startswith("/login?error=credentials")


async def test_readyz_reports_database_and_schema(pg_db, user) -> None:
    response = await user.http_client.get("/readyz")
    assert response.status_code == 200 and response.json()["database"] == "ok"
