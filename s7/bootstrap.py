"""A store's first start, made safe: the first admin, the demo users' fate, the setup link.

- Real mode (WHATSAPP_TOKEN set): the demo users of `s7 seed` are deactivated at every start,
  and their sessions end. Whatever password they had, nobody signs in with them any more.
- The store has no active admin: one is created from ADMIN_EMAIL / ADMIN_PASSWORD. Once any
  admin exists nothing here touches users again, so a later change of those variables (or an
  ADMIN_EMAIL that already belongs to someone) overwrites nothing.
- No admin and those variables unset: a setup link is printed in the log. Its token is signed
  with SESSION_SECRET and is good only while the store has no admin (and 24 h at most): the
  first admin made through it is the last use it has.

Every replica may run this at once: the check-and-create holds one lock (Postgres advisory
lock; SQLite runs one process, an in-process lock there).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from s7.auth import hash_password
from s7.config import EMAIL_SHAPE, Settings, get_settings
from s7.db import is_postgres, lock_key, session_scope
from s7.domain.models import User

log = logging.getLogger(__name__)

SETUP_PATH = "/setup"
SETUP_MAX_AGE_SECONDS = 24 * 3600
_SETUP_SALT = "s7-first-admin-setup-v1"
_FIRST_ADMIN_LOCK = "first-admin"
_sqlite_lock = threading.Lock()
SANDBOX_WARNING_SHORT = "Demo: nada es durable"
SANDBOX_WARNING = (
    "Esto es una demo (sandbox): nada de lo que pase acá es durable ni llega a WhatsApp, y se puede "
    "borrar en cualquier reinicio."
)


class SetupError(Exception):
    """The setup form cannot create the admin as asked; the text is for the person (es-AR)."""


@dataclass(frozen=True)
class StartReport:
    demo_users_disabled: int = 0
    admin_created: str | None = None  # the e-mail of the admin created now
    setup_url: str | None = None  # set when the store still has no admin
    admin_email_taken: bool = False  # ADMIN_EMAIL belongs to a non-admin account: left as it is


def on_start(settings: Settings | None = None) -> StartReport:
    """Run once per process start, after the migrations."""
    from s7.seed import disable_demo_users

    settings = settings or get_settings()
    disabled = 0 if settings.sandbox else disable_demo_users()
    if disabled:
        log.warning("modo real: %d usuario(s) de demo desactivado(s)", disabled)
    created, taken = _first_admin_from_settings(settings)
    if created:
        log.info("primer administrador creado desde ADMIN_EMAIL: %s", created)
    if taken:
        log.warning("ADMIN_EMAIL ya es de un usuario que no es administrador: no lo cambio")
    setup_url = None
    if not has_admin():
        setup_url = f"{settings.public_base_url}{SETUP_PATH}?token={setup_token(settings)}"
        log.warning("la tienda no tiene administrador: crealo una sola vez en %s", setup_url)
    return StartReport(disabled, created, setup_url, taken)


# ---- the first admin -------------------------------------------------------------------------------


def has_admin() -> bool:
    with session_scope() as session:
        return _active_admins(session) > 0


def _active_admins(session: Session) -> int:
    from s7.seed import DEMO_EMAILS

    statement = select(func.count(User.id)).where(User.role == "admin", User.active.is_(True))
    if not get_settings().sandbox:  # demo admins do not count in a real store (they are off anyway)
        statement = statement.where(User.email.not_in(DEMO_EMAILS))
    return session.scalar(statement) or 0


def _first_admin_from_settings(settings: Settings) -> tuple[str | None, bool]:
    if not settings.ADMIN_EMAIL:
        return None, False
    try:
        return create_first_admin(settings.ADMIN_EMAIL, settings.ADMIN_PASSWORD, name=None), False
    except SetupError:
        with session_scope() as session:
            owner = session.scalar(select(User).where(func.lower(User.email) == settings.ADMIN_EMAIL))
        return None, owner is not None and owner.role != "admin"


def create_first_admin(email: str, password: str, *, name: str | None) -> str | None:
    """Create the store's first admin. Returns its e-mail, or None when an admin already exists
    (nothing changes then). Raises SetupError for bad input or an e-mail already in use."""
    email = (email or "").strip().lower()
    if not EMAIL_SHAPE.match(email) or len(email) > 254:
        raise SetupError("Ese email no parece válido (alguien@dominio.com)")
    if len(password or "") < 8:
        raise SetupError("La contraseña necesita al menos 8 caracteres")
    name = " ".join((name or "").split())[:120] or email.split("@")[0]
    with _first_admin_lock() as session:
        if _active_admins(session):
            return None
        if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
            raise SetupError(f"Ya existe un usuario con el email {email}")
        session.add(User(email=email, name=name, role="admin", password_hash=hash_password(password), active=True))
    return email


class _first_admin_lock:  # noqa: N801 - used as a context manager, reads like one
    """A session whose transaction holds the first-admin lock until it commits."""

    def __enter__(self) -> Session:
        self._scope = session_scope()
        session = self._scope.__enter__()
        if is_postgres(session):
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(_FIRST_ADMIN_LOCK)})
            self._local = False
        else:
            _sqlite_lock.acquire()
            self._local = True
        return session

    def __exit__(self, *exc: object) -> None:
        try:
            self._scope.__exit__(*exc)
        finally:
            if self._local:
                _sqlite_lock.release()


# ---- the one-time setup link ----------------------------------------------------------------------


def _setup_serializer(settings: Settings | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer((settings or get_settings()).session_secret, salt=_SETUP_SALT)


def setup_token(settings: Settings | None = None) -> str:
    return _setup_serializer(settings).dumps({"purpose": "first-admin"})


def setup_token_valid(token: str | None) -> bool:
    """Signed by this store, not older than a day, and the store still has no admin."""
    if not token:
        return False
    try:
        claims = _setup_serializer().loads(token, max_age=SETUP_MAX_AGE_SECONDS)
    except (SignatureExpired, BadSignature):
        return False
    return isinstance(claims, dict) and claims.get("purpose") == "first-admin" and not has_admin()


def setup_with_token(token: str | None, email: str, password: str, name: str | None) -> str:
    """The setup page's action: the token must be valid, and the admin is created only if the
    store still has none at the moment of creating it (two tabs at once: one wins)."""
    if not setup_token_valid(token):
        raise SetupError("Este enlace ya no sirve: la tienda ya tiene administrador o venció")
    created = create_first_admin(email, password, name=name)
    if created is None:
        raise SetupError("Este enlace ya no sirve: la tienda ya tiene administrador")
    return created


# ---- who is looking -------------------------------------------------------------------------------

_FORWARDING_HEADERS = (b"x-forwarded-for", b"forwarded", b"x-real-ip")


def is_loopback_visitor(scope: dict) -> bool:  # type: ignore[type-arg]
    """A visitor on this same machine: the socket peer is loopback and no proxy forwarded the
    request (a proxy's X-Forwarded-For may be rewritten into the peer, so any forwarding
    header means "from elsewhere")."""
    if any(name.lower() in _FORWARDING_HEADERS for name, _ in scope.get("headers", [])):
        return False
    client = scope.get("client")
    return bool(client) and _is_loopback(str(client[0]))


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "testclient"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def exposed_sandbox(settings: Settings | None = None) -> bool:
    """Sandbox meant for others: a public URL or a Railway deploy. (A visitor from elsewhere is
    caught at run time too: `note_outside_visitor`.) Nothing there is durable and nothing
    reaches WhatsApp."""
    settings = settings or get_settings()
    if not settings.sandbox:
        return False
    host = (urlsplit(settings.PUBLIC_BASE_URL).hostname or "") if settings.PUBLIC_BASE_URL else ""
    if host and not _is_loopback(host):
        return True
    return any(name.startswith("RAILWAY_") for name in os.environ)


_outside_visitor_seen = threading.Event()


def note_outside_visitor(scope: dict) -> bool:  # type: ignore[type-arg]
    """Sandbox pages call this: True (and, once per process, a warning in the log) when the
    visitor is not on this machine, so the page can show the same warning."""
    if not get_settings().sandbox or is_loopback_visitor(scope):
        return False
    if not _outside_visitor_seen.is_set():
        _outside_visitor_seen.set()
        log.warning("sandbox abierto desde otra máquina: %s", SANDBOX_WARNING)
    return True
