"""The store's team: create sellers and admins, reset passwords, deactivate and reactivate.

Every change is made by an admin (`actor_id`), re-checked here against the database, so the
panel and the API share one authorization rule. Deactivation and password resets bump
`session_version` (every token minted before dies, on every replica) and, once committed, tell
that user's open tabs their session ended (the `session_ended` event; s7.pages.sessions cuts them).
The store never loses its last active admin.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from s7 import realtime
from s7.auth import hash_password
from s7.domain.chats import conversations
from s7.domain.models import ROLES, Conversation, User

PASSWORD_MIN = 8
PASSWORD_MAX = 128
NAME_MAX = 120
EMAIL_MAX = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Readable generated passwords: no 0/O, 1/l/I confusion when dictated over the phone.
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"  # noqa: S105 - an alphabet


class UserError(Exception):
    """A team change that cannot be made as asked; the text is for the admin (es-AR)."""


class InvalidUser(UserError):
    """Bad input: email, name, role or password."""


class UserConflict(UserError):
    """Valid input that clashes with the team as it is (duplicate email, last admin)."""


class UserNotFound(UserError):
    pass


class NotAllowed(UserError):
    """The actor is not (or no longer) an active admin."""


@dataclass(frozen=True)
class UserView:
    """A user as the panel and the API show it (no hash, detached from the session)."""

    id: int
    email: str
    name: str
    role: str
    active: bool
    created_at: datetime | None
    last_login_at: datetime | None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "active": self.active,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "last_login_at": self.last_login_at.isoformat() if self.last_login_at else None,
        }


def view(user: User) -> UserView:
    return UserView(user.id, user.email, user.name, user.role, user.active, user.created_at, user.last_login_at)


# ---- validation ---------------------------------------------------------------------------------


def normalize_email(email: str) -> str:
    value = (email or "").strip().lower()
    if not value or len(value) > EMAIL_MAX or not _EMAIL.match(value):
        raise InvalidUser("Ese email no parece válido")
    return value


def check_password(password: str) -> str:
    if len(password or "") < PASSWORD_MIN:
        raise InvalidUser(f"La contraseña necesita al menos {PASSWORD_MIN} caracteres")
    if len(password) > PASSWORD_MAX:
        raise InvalidUser(f"La contraseña puede tener hasta {PASSWORD_MAX} caracteres")
    return password


def _check_name(name: str) -> str:
    value = " ".join((name or "").split())
    if not value:
        raise InvalidUser("Falta el nombre")
    if len(value) > NAME_MAX:
        raise InvalidUser(f"El nombre puede tener hasta {NAME_MAX} caracteres")
    return value


def generate_password(length: int = 12) -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


# ---- reads ----------------------------------------------------------------------------------------


def list_users(session: Session) -> list[UserView]:
    """Active first, then by name."""
    users = session.scalars(select(User).order_by(User.active.desc(), func.lower(User.name), User.id))
    return [view(u) for u in users]


def get_user(session: Session, user_id: int) -> UserView:
    return view(_get(session, user_id))


def require_admin(session: Session, actor_id: int) -> User:
    """The acting user, re-read now: still there, active and an admin."""
    actor = session.get(User, actor_id)
    if actor is None or not actor.active or actor.role != "admin":
        raise NotAllowed("Solo un administrador activo puede cambiar el equipo")
    return actor


def _get(session: Session, user_id: int, *, for_update: bool = False) -> User:
    statement = select(User).where(User.id == user_id)
    if for_update:
        statement = statement.with_for_update()
    user = session.scalar(statement)
    if user is None:
        raise UserNotFound("Ese usuario no existe")
    return user


# ---- changes --------------------------------------------------------------------------------------


def create_user(
    session: Session, *, actor_id: int, email: str, name: str, password: str, role: str = "seller"
) -> UserView:
    actor = require_admin(session, actor_id)
    if role not in ROLES:
        raise InvalidUser("El rol tiene que ser admin o vendedor")
    email = normalize_email(email)
    name = _check_name(name)
    check_password(password)
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise UserConflict(f"Ya existe un usuario con el email {email}")
    user = User(email=email, name=name, role=role, password_hash=hash_password(password), active=True)
    nested = session.begin_nested()
    try:
        session.add(user)
        session.flush()
        nested.commit()
    except Exception:  # the unique index caught a simultaneous create of the same email
        nested.rollback()
        raise UserConflict(f"Ya existe un usuario con el email {email}") from None
    _audit(session, actor, "user_created", user, role=role)
    return view(user)


def reset_password(session: Session, user_id: int, new_password: str, *, actor_id: int) -> UserView:
    """Set a new password; the user's open sessions end (they sign in with the new one)."""
    actor = require_admin(session, actor_id)
    check_password(new_password)
    user = _get(session, user_id, for_update=True)
    user.password_hash = hash_password(new_password)
    _end_sessions(session, user)
    _audit(session, actor, "password_reset", user)
    return view(user)


def set_active(session: Session, user_id: int, active: bool, *, actor_id: int) -> UserView:
    """Deactivate (sessions end, their chats are freed for the team) or reactivate a user."""
    actor = require_admin(session, actor_id)
    if active:
        user = _get(session, user_id, for_update=True)
        if not user.active:
            user.active = True
            _audit(session, actor, "user_reactivated", user)
        return view(user)
    if user_id == actor.id:
        raise UserConflict("No podés desactivar tu propio usuario")
    _lock_active_admins(session)
    session.refresh(actor)  # another admin may have deactivated the actor while we waited for the lock
    require_admin(session, actor_id)
    user = _get(session, user_id, for_update=True)
    if not user.active:
        return view(user)
    if user.role == "admin" and _active_admin_count(session) <= 1:
        raise UserConflict("No podés desactivar al último administrador activo")
    user.active = False
    _end_sessions(session, user)
    _free_their_chats(session, user, actor)
    _audit(session, actor, "user_deactivated", user)
    return view(user)


def end_all_sessions(session: Session, user_id: int, *, actor_id: int) -> UserView:
    """ "Cerrar sesión en todos los dispositivos": every token and open tab of this user ends now.
    Allowed to the user themself (lost phone, shared computer) and to any active admin."""
    actor = session.get(User, actor_id)
    if actor is None or not actor.active:
        raise NotAllowed("Tu sesión ya no es válida")
    if actor_id != user_id:
        require_admin(session, actor_id)
    user = _get(session, user_id, for_update=True)
    _end_sessions(session, user)
    session.flush()
    conversations.audit(session, None, "sessions_ended", actor=actor.role, user=actor, user_id=user.id)
    realtime.publish_after_commit(session, "user", user_id=user.id)
    return view(user)


def _lock_active_admins(session: Session) -> None:
    """Two admins deactivating each other at once: the second waits and then sees one admin left.
    (SQLite serialises writers by itself; FOR UPDATE is a no-op there.)"""
    session.execute(select(User.id).where(User.role == "admin", User.active.is_(True)).with_for_update()).all()


def _active_admin_count(session: Session) -> int:
    return session.scalar(select(func.count(User.id)).where(User.role == "admin", User.active.is_(True))) or 0


def _free_their_chats(session: Session, user: User, actor: User) -> None:
    """A deactivated seller's chats go back to the team: nobody else could take them otherwise."""
    held = session.scalars(select(Conversation.id).where(Conversation.assigned_to == user.id)).all()
    for conversation_id in held:
        conversations.assign(session, conversation_id, None, actor_user=actor)


def _end_sessions(session: Session, user: User) -> None:
    user.session_version = (user.session_version or 1) + 1
    session.flush()
    # Only once the change is committed (a rolled-back reset must not log anybody out), every
    # open tab of this user, on every replica, is ended by the server (s7.pages.sessions).
    realtime.publish_after_commit(session, "session_ended", user_id=user.id)


def _audit(session: Session, actor: User, action: str, user: User, **detail: object) -> None:
    session.flush()
    conversations.audit(session, None, action, actor="admin", user=actor, user_id=user.id, **detail)
    realtime.publish_after_commit(session, "user", user_id=user.id)
