"""Passwords, signed session tokens, login throttling, and the guards for pages, API and websocket.

One token format serves the panel cookie and the API's Bearer header: an itsdangerous-signed
`{uid, sv}` with an expiry. `sv` is the user's session_version, bumped on deactivation or a
password reset, so every token minted before dies at once on every replica.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from passlib.context import CryptContext
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from s7 import realtime
from s7.clock import now
from s7.config import get_settings
from s7.db import session_scope
from s7.domain import logins
from s7.domain.models import RevokedSession, User

log = logging.getLogger(__name__)

SESSION_COOKIE = "s7_session"
_TOKEN_SALT = "s7-session-v1"  # noqa: S105 - a namespace, not a secret

_passwords = CryptContext(schemes=["argon2"], deprecated="auto")


# ---- passwords -----------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _passwords.verify(password, password_hash)
    except (ValueError, TypeError):
        return False


# A real hash to verify against when the account does not exist, so a wrong email costs the
# same time as a wrong password (no user enumeration by timing).
_DUMMY_HASH = _passwords.hash("not-a-real-password")


# ---- tokens ----------------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().session_secret, salt=_TOKEN_SALT)


def issue_token(user: User) -> str:
    """A new session: its own random id (`sid`, what a logout revokes) and the user's current
    session_version (what ending every session bumps)."""
    return _serializer().dumps({"uid": user.id, "sv": user.session_version, "sid": secrets.token_hex(16)})


@dataclass(frozen=True)
class CurrentUser:
    """What a request knows about its user and session (detached from any DB session)."""

    id: int
    email: str
    name: str
    role: str
    session_version: int = 0
    session_id: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class _Claims:
    uid: int
    sv: int
    sid: str
    issued_at: datetime


def _claims(token: str | None) -> _Claims | None:
    """Signature valid and not expired; tokens from before session ids (no `sid`) are refused."""
    if not token:
        return None
    max_age = get_settings().TOKEN_MAX_AGE_HOURS * 3600
    try:
        claims, issued_at = _serializer().loads(token, max_age=max_age, return_timestamp=True)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(claims, dict):
        return None
    uid, sv, sid = claims.get("uid"), claims.get("sv"), claims.get("sid")
    if not isinstance(uid, int) or not isinstance(sv, int) or not isinstance(sid, str) or len(sid) != 32:
        return None
    return _Claims(uid, sv, sid, issued_at)


def _live_user(session: Session, uid: int, sv: int, sid: str) -> User | None:
    user = session.get(User, uid)
    if user is None or not user.active or user.session_version != sv:
        return None
    if session.get(RevokedSession, sid) is not None:
        return None
    return user


def user_from_token(token: str | None) -> CurrentUser | None:
    """Valid signature, not expired, not logged out, user active and session_version unchanged
    → the user."""
    claims = _claims(token)
    if claims is None:
        return None
    with session_scope() as session:
        user = _live_user(session, claims.uid, claims.sv, claims.sid)
        if user is None:
            return None
        return CurrentUser(user.id, user.email, user.name, user.role, user.session_version, claims.sid)


def session_alive(user: CurrentUser) -> bool:
    """Re-check, now, that this session still stands (panel actions ask before each event)."""
    with session_scope() as session:
        return _live_user(session, user.id, user.session_version, user.session_id) is not None


def revoke_token(token: str | None) -> int | None:
    """Logout: this token's session is refused from now on, on every replica; its open tabs are
    told (and cut) once committed. Returns the user id, None for a token that was not valid."""
    claims = _claims(token)
    if claims is None:
        return None
    expires_at = claims.issued_at + timedelta(hours=get_settings().TOKEN_MAX_AGE_HOURS)
    with session_scope() as session:
        if session.get(RevokedSession, claims.sid) is None:
            session.add(RevokedSession(session_id=claims.sid, user_id=claims.uid, expires_at=expires_at))
        realtime.publish_after_commit(session, "session_ended", user_id=claims.uid, session_id=claims.sid)
    return claims.uid


def csrf_token(session_token: str | None) -> str:
    """The panel's anti-CSRF value for state-changing form posts (logout): bound to the session
    id, so it is useless in another session and needs no storage."""
    claims = _claims(session_token)
    if claims is None:
        return ""
    secret = get_settings().session_secret.encode()
    return hmac.new(secret, f"csrf:{claims.sid}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(session_token: str | None, presented: str | None) -> bool:
    expected = csrf_token(session_token)
    return bool(expected) and hmac.compare_digest(expected, presented or "")


def prune_revoked_sessions(session: Session, now: datetime) -> int:
    """Revocations of tokens that have expired anyway are no longer needed."""
    result = session.execute(delete(RevokedSession).where(RevokedSession.expires_at < now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ---- login --------------------------------------------------------------------------------------

LoginThrottled = logins.Throttled  # 429 with Retry-After; see s7.domain.logins for the limits
_attempt_lock = threading.Lock()  # SQLite's stand-in for the per-address advisory lock


def authenticate(email: str, password: str, ip: str, user_agent: str = "") -> User | None:
    """Check credentials with throttling. Returns the user, None on bad credentials; raises
    LoginThrottled (at once, without checking the password) after repeated failures for this
    (account, address) pair or this address. Every checked attempt is audited."""
    email = (email or "").strip().lower()[: logins.EMAIL_MAX]
    with _attempt_lock, session_scope() as session:
        try:
            logins.begin_attempt(session, email, ip, now())
        except logins.Throttled:
            log.info("login throttled for %s from %s", email, ip)
            raise
    with session_scope() as session:
        found = session.execute(
            select(User.id, User.password_hash, User.active).where(func.lower(User.email) == email)
        ).first()
    ok = verify_password(password or "", found.password_hash if found else _DUMMY_HASH)
    with session_scope() as session:
        user = session.get(User, found.id) if found else None
        if not ok or user is None or not user.active:
            logins.attempt_failed(session, email, ip, user_agent, user)
            log.info("login failed for %s from %s", email, ip)
            return None
        if _passwords.needs_update(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = now()
        logins.attempt_succeeded(session, email, ip, user_agent, user)
        session.flush()
        session.expunge(user)
        return user


def safe_redirect_target(target: str | None) -> str:
    """Only same-site paths: `/x` yes, `//evil.com`, `/\\evil`, `https://…` no."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(c in target for c in "\r\n\t"):
        return "/"
    return target


# ---- the gate: pages and the websocket need a session -----------------------------------------

OPEN_PATHS = {
    "/login",
    "/auth/login",
    "/auth/logout",
    "/healthz",
    "/readyz",
    "/webhook",
    "/favicon.ico",
    "/setup",  # the first-admin page checks its own one-time token
    # The installable app's manifest, icons and service worker (browsers fetch them without cookies).
    "/manifest.webmanifest",
    "/sw.js",
    "/icons/icon-192.png",
    "/icons/icon-512.png",
}
# The API's documentation: open in sandbox, behind a session (cookie or Bearer) in a real store.
DOCS_PATHS = {"/docs", "/openapi.json", "/docs/oauth2-redirect", "/redoc"}


def _is_open(path: str) -> bool:
    if path in OPEN_PATHS or path.startswith(("/api/", "/media/")):  # these answer 401 themselves
        return True
    if path in DOCS_PATHS:
        return get_settings().sandbox
    # NiceGUI's versioned static assets (JS/CSS libraries, fonts) carry no data.
    return path.startswith("/_nicegui/") and not path.startswith("/_nicegui/client/")


def token_from_scope(scope: Scope) -> str | None:
    """The session cookie, or a Bearer header (API clients using the panel's websocket)."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    cookie_header = headers.get("cookie")
    if cookie_header:
        cookies: SimpleCookie = SimpleCookie()
        try:
            cookies.load(cookie_header)
        except Exception:  # a malformed cookie header is just "no session"
            return None
        if SESSION_COOKIE in cookies:
            return cookies[SESSION_COOKIE].value
    return None


class AuthGate:
    """Pure ASGI middleware (sees HTTP and websocket scopes alike): no session, no entry.

    Pages redirect to /login; the NiceGUI websocket, uploads and other endpoints get 401/403.
    The signed-in user is put on `scope["state"]["user"]` for pages to read.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if _is_open(path):
            await self.app(scope, receive, send)
            return
        from starlette.concurrency import run_in_threadpool

        user = await run_in_threadpool(user_from_token, token_from_scope(scope))
        if user is not None:
            scope.setdefault("state", {})["user"] = user
            await self.app(scope, receive, send)
            return
        await _refuse(scope, receive, send, path)


async def _refuse(scope: Scope, receive: Receive, send: Send, path: str) -> None:
    from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse

    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 4401})
        return
    method = scope.get("method", "GET")
    if path == "/openapi.json":
        response: Any = JSONResponse({"detail": "Necesitás iniciar sesión"}, status_code=401)
    elif method == "GET" and not path.startswith(("/_nicegui", "/_nicegui_ws")):
        query = scope.get("query_string", b"").decode("latin-1")
        target = path + (f"?{query}" if query else "")
        response = RedirectResponse(f"/login?redirect_to={quote(target, safe='')}", status_code=303)
    else:
        response = PlainTextResponse("Necesitás iniciar sesión", status_code=401)
    await response(scope, receive, send)


def request_user(request: Any) -> CurrentUser | None:
    """The user the gate attached to this request (pages)."""
    return getattr(request.state, "user", None)
