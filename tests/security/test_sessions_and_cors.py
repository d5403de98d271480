"""Sessions: tampering, expiry, fixation; CORS only for the configured panel origins."""

import time

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer

from s7.auth import SESSION_COOKIE, hash_password, issue_token, user_from_token
from s7.config import reset_settings
from s7.db import session_scope
from s7.domain.models import User
from tests.conftest import make_settings


def _user(role: str = "seller") -> User:
    with session_scope() as session:
        user = User(email=f"{role}@t.com", name=role, role=role, password_hash=hash_password("pw-123456"))
        session.add(user)
        session.flush()
        session.expunge(user)
        return user


def test_tampered_and_foreign_tokens_are_refused(pg_db) -> None:
    user = _user()
    token = issue_token(user)
    body, _, signature = token.rpartition(".")
    assert user_from_token(body + "." + signature[::-1]) is None
    forged = URLSafeTimedSerializer("another-secret-entirely", salt="s7-session-v1").dumps({"uid": user.id, "sv": 1})
    assert user_from_token(forged) is None
    elevated = URLSafeTimedSerializer(pg_db.session_secret, salt="other-purpose").dumps({"uid": user.id, "sv": 1})
    assert user_from_token(elevated) is None
    assert user_from_token("") is None and user_from_token("a.b.c") is None


def test_tokens_expire(pg_db) -> None:
    user = _user()
    reset_settings(make_settings(DATABASE_URL=pg_db.DATABASE_URL, TOKEN_MAX_AGE_HOURS=0.0003))  # ~1 s
    token = issue_token(user)
    assert user_from_token(token) is not None
    time.sleep(2.2)
    assert user_from_token(token) is None


async def test_a_cookie_planted_before_login_is_replaced(pg_db, user) -> None:
    """Session fixation: whatever s7_session the browser had, login issues a fresh token."""
    _user()
    client: httpx.AsyncClient = user.http_client
    client.cookies.set(SESSION_COOKIE, "attacker-chosen-value")
    assert (await client.get("/", follow_redirects=False)).status_code == 303
    response = await client.post(
        "/auth/login", data={"email": "seller@t.com", "password": "pw-123456"}, follow_redirects=False
    )
    new_cookie = response.cookies.get(SESSION_COOKIE)
    assert new_cookie and new_cookie != "attacker-chosen-value"
    assert user_from_token(new_cookie) is not None


async def test_logout_clears_the_cookie_and_revokes_the_session(pg_db, user) -> None:
    from s7.auth import csrf_token

    _user()
    client: httpx.AsyncClient = user.http_client
    await client.post("/auth/login", data={"email": "seller@t.com", "password": "pw-123456"})
    token = client.cookies.get(SESSION_COOKIE)
    page = await client.get("/")
    assert csrf_token(token) in page.text  # the panel's logout form carries this session's value
    response = await client.post("/auth/logout", data={"csrf": csrf_token(token)}, follow_redirects=False)
    assert response.status_code == 303
    assert "max-age=0" in response.headers["set-cookie"].lower() or "expires=" in response.headers["set-cookie"].lower()
    assert user_from_token(token) is None  # a copy of the cookie kept elsewhere is dead too


@pytest.mark.parametrize("origin", ["https://panel.tienda.com", "https://evil.example"])
def test_cors_only_for_panel_origins(pg_db, origin: str) -> None:
    from tests.conftest import ServerProcess, server_env

    server = ServerProcess(server_env(pg_db, PANEL_ORIGINS="https://panel.tienda.com,https://otro.com"))
    try:
        server.wait_ready()
        preflight = httpx.options(
            server.url + "/api/auth/login",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        allowed = preflight.headers.get("access-control-allow-origin")
        if origin == "https://panel.tienda.com":
            assert preflight.status_code == 200 and allowed == origin
        else:
            assert allowed is None
    finally:
        server.stop()


async def test_logout_needs_a_post_with_this_sessions_csrf_value(pg_db, user) -> None:
    from s7.auth import csrf_token

    _user()
    client: httpx.AsyncClient = user.http_client
    await client.post("/auth/login", data={"email": "seller@t.com", "password": "pw-123456"})
    token = client.cookies.get(SESSION_COOKIE)
    assert (await client.get("/auth/logout", follow_redirects=False)).status_code == 405  # a link cannot log out
    assert (await client.post("/auth/logout", follow_redirects=False)).status_code == 403
    other = issue_token(_user_row("seller@t.com"))  # another session's value is worthless here
    forged = await client.post("/auth/logout", data={"csrf": csrf_token(other)}, follow_redirects=False)
    assert forged.status_code == 403
    assert user_from_token(token) is not None


async def test_api_logout_revokes_that_token_only(pg_db, user) -> None:
    _user()
    client: httpx.AsyncClient = user.http_client
    credentials = {"email": "seller@t.com", "password": "pw-123456"}
    first = (await client.post("/api/auth/login", json=credentials)).json()["token"]
    second = (await client.post("/api/auth/login", json=credentials)).json()["token"]
    bearer = {"Authorization": f"Bearer {first}"}
    assert (await client.get("/api/conversations", headers=bearer)).status_code == 200
    assert (await client.post("/api/auth/logout", headers=bearer)).status_code == 204
    assert (await client.get("/api/conversations", headers=bearer)).status_code == 401
    assert (await client.post("/api/auth/logout", headers=bearer)).status_code == 401
    assert (await client.get("/api/conversations", headers={"Authorization": f"Bearer {second}"})).status_code == 200


def test_tokens_from_before_session_ids_are_refused(pg_db) -> None:
    user = _user()
    old = URLSafeTimedSerializer(pg_db.session_secret, salt="s7-session-v1").dumps({"uid": user.id, "sv": 1})
    assert user_from_token(old) is None


def test_revocations_are_pruned_once_the_token_would_have_expired(pg_db) -> None:
    from datetime import timedelta

    from sqlalchemy import func, select

    from s7.auth import prune_revoked_sessions, revoke_token
    from s7.clock import now
    from s7.domain.models import RevokedSession

    token = issue_token(_user())
    revoke_token(token)
    with session_scope() as session:
        assert prune_revoked_sessions(session, now()) == 0
        assert prune_revoked_sessions(session, now() + timedelta(hours=pg_db.TOKEN_MAX_AGE_HOURS, minutes=1)) == 1
        assert session.scalar(select(func.count()).select_from(RevokedSession)) == 0


def _user_row(email: str) -> User:
    from sqlalchemy import select

    with session_scope() as session:
        row = session.scalar(select(User).where(User.email == email))
        session.expunge(row)
        return row


async def test_api_logout_everywhere_ends_every_session_of_the_user(pg_db, user) -> None:
    _user()
    client: httpx.AsyncClient = user.http_client
    credentials = {"email": "seller@t.com", "password": "pw-123456"}
    tokens = [(await client.post("/api/auth/login", json=credentials)).json()["token"] for _ in range(2)]
    response = await client.post("/api/auth/logout?everywhere=true", headers={"Authorization": f"Bearer {tokens[0]}"})
    assert response.status_code == 204
    assert [user_from_token(token) for token in tokens] == [None, None]
