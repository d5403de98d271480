"""The team: creating users, resetting passwords, deactivating — and sessions ending with them."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from s7 import realtime
from s7.auth import authenticate, hash_password, issue_token, user_from_token
from s7.db import session_scope
from s7.domain import users
from s7.domain.chats import conversations
from s7.domain.models import AuditEvent, Conversation, User


def make_user(email: str, role: str = "seller", password: str = "clave-segura-1", name: str | None = None) -> int:
    with session_scope() as session:
        user = User(email=email, name=name or email.split("@")[0], role=role, password_hash=hash_password(password))
        session.add(user)
        session.flush()
        return user.id


def token_for(user_id: int) -> str:
    with session_scope() as session:
        return issue_token(session.get(User, user_id))


@pytest.fixture
def events() -> Iterator[list[realtime.Event]]:
    seen: list[realtime.Event] = []
    unsubscribe = realtime.subscribe(seen.append)
    yield seen
    unsubscribe()


def ended(events: list[realtime.Event]) -> list[int]:
    return [e.get("user_id") for e in events if e.kind == "session_ended"]


def test_admin_creates_a_seller_who_can_sign_in(any_db) -> None:
    admin = make_user("jefa@tienda.com", role="admin")
    with session_scope() as session:
        created = users.create_user(
            session, actor_id=admin, email="  Nuevo@Tienda.com ", name=" Juan   Pérez ", password="una-clave-larga"
        )
    assert created.email == "nuevo@tienda.com" and created.name == "Juan Pérez" and created.role == "seller"
    assert authenticate("nuevo@tienda.com", "una-clave-larga", "10.0.0.1").id == created.id
    with session_scope() as session:
        audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "user_created"))
        assert audit.actor_user_id == admin and audit.detail["user_id"] == created.id


@pytest.mark.parametrize(
    ("email", "name", "password", "role", "message"),
    [
        ("no-es-un-email", "Ana", "clave-segura-1", "seller", "email"),
        ("ana@tienda.com", "   ", "clave-segura-1", "seller", "nombre"),
        ("ana@tienda.com", "Ana", "corta", "seller", "8 caracteres"),
        ("ana@tienda.com", "Ana", "clave-segura-1", "root", "rol"),
    ],
)
def test_create_rejects_bad_input_with_a_clear_reason(pg_db, email, name, password, role, message) -> None:
    admin = make_user("jefa@tienda.com", role="admin")
    with session_scope() as session, pytest.raises(users.InvalidUser, match=message):
        users.create_user(session, actor_id=admin, email=email, name=name, password=password, role=role)


def test_duplicate_email_is_a_conflict_whatever_the_case(pg_db) -> None:
    admin = make_user("jefa@tienda.com", role="admin")
    make_user("ana@tienda.com")
    with session_scope() as session, pytest.raises(users.UserConflict, match="Ya existe"):
        users.create_user(session, actor_id=admin, email="ANA@tienda.com", name="Ana 2", password="clave-segura-2")


def test_only_an_active_admin_may_change_the_team(pg_db) -> None:
    seller = make_user("ana@tienda.com")
    admin = make_user("jefa@tienda.com", role="admin")
    with session_scope() as session, pytest.raises(users.NotAllowed):
        users.create_user(session, actor_id=seller, email="x@tienda.com", name="X", password="clave-segura-1")
    with session_scope() as session:
        session.get(User, admin).active = False
    with session_scope() as session, pytest.raises(users.NotAllowed):
        users.reset_password(session, seller, "otra-clave-99", actor_id=admin)


def test_password_reset_ends_open_sessions_and_only_the_new_password_works(pg_db, events) -> None:
    admin = make_user("jefa@tienda.com", role="admin")
    seller = make_user("ana@tienda.com", password="vieja-clave-1")
    token = token_for(seller)
    assert user_from_token(token) is not None
    with session_scope() as session:
        users.reset_password(session, seller, "nueva-clave-2", actor_id=admin)
        assert ended(events) == []  # not before the commit
    assert ended(events) == [seller]
    assert user_from_token(token) is None
    assert authenticate("ana@tienda.com", "vieja-clave-1", "10.0.0.2") is None
    assert authenticate("ana@tienda.com", "nueva-clave-2", "10.0.0.2") is not None


def test_a_rolled_back_reset_logs_nobody_out(pg_db, events) -> None:
    admin = make_user("jefa@tienda.com", role="admin")
    seller = make_user("ana@tienda.com")
    token = token_for(seller)
    with pytest.raises(RuntimeError), session_scope() as session:
        users.reset_password(session, seller, "nueva-clave-2", actor_id=admin)
        raise RuntimeError("something later in the same transaction failed")
    assert ended(events) == []
    assert user_from_token(token) is not None


def test_deactivation_ends_sessions_blocks_login_and_frees_their_chats(pg_db, events) -> None:
    admin = make_user("jefa@tienda.com", role="admin")
    seller = make_user("ana@tienda.com")
    token = token_for(seller)
    with session_scope() as session:
        chat = conversations.ensure_conversation(session, wa_id="5491155550000", name="Cliente")
        conversations.takeover(session, chat.id, session.get(User, seller))
        chat_id = chat.id
    with session_scope() as session:
        result = users.set_active(session, seller, False, actor_id=admin)
    assert result.active is False
    assert ended(events) == [seller]
    assert user_from_token(token) is None
    assert authenticate("ana@tienda.com", "clave-segura-1", "10.0.0.3") is None
    with session_scope() as session:
        assert session.get(Conversation, chat_id).assigned_to is None
        other = User(id=999, email="b@t.com", name="B", role="seller", password_hash="x")
        session.add(other)
        session.flush()
        conversations.takeover(session, chat_id, other)  # the team can take it now

    with session_scope() as session:
        assert users.set_active(session, seller, True, actor_id=admin).active is True
    assert authenticate("ana@tienda.com", "clave-segura-1", "10.0.0.3") is not None
    assert user_from_token(token) is None  # reactivation does not revive old sessions


def test_the_last_active_admin_cannot_be_deactivated_and_nobody_deactivates_themselves(pg_db) -> None:
    first = make_user("jefa@tienda.com", role="admin")
    second = make_user("socio@tienda.com", role="admin")
    with session_scope() as session, pytest.raises(users.UserConflict, match="propio"):
        users.set_active(session, first, False, actor_id=first)
    with session_scope() as session:
        users.set_active(session, second, False, actor_id=first)
    with session_scope() as session:
        session.get(User, second).active = True  # back, then the first admin is deactivated by hand
        session.get(User, first).active = False
    with session_scope() as session:
        third = users.create_user(
            session, actor_id=second, email="otro@tienda.com", name="Otro", password="clave-segura-3", role="admin"
        )
    with session_scope() as session:
        users.set_active(session, third.id, False, actor_id=second)
    with session_scope() as session:
        assert [u.email for u in users.list_users(session) if u.role == "admin" and u.active] == ["socio@tienda.com"]


def test_two_admins_deactivating_each_other_at_once_leave_one_admin(pg_db) -> None:
    first = make_user("jefa@tienda.com", role="admin")
    second = make_user("socio@tienda.com", role="admin")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def deactivate(target: int, actor: int) -> None:
        barrier.wait()
        try:
            with session_scope() as session:
                users.set_active(session, target, False, actor_id=actor)
            outcomes.append("ok")
        except users.UserError as exc:
            outcomes.append(type(exc).__name__)

    threads = [
        threading.Thread(target=deactivate, args=(second, first)),
        threading.Thread(target=deactivate, args=(first, second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    # The loser is refused as no longer an admin, whether it ran after the winner or waited on it.
    assert sorted(outcomes) == ["NotAllowed", "ok"]
    with session_scope() as session:
        assert session.scalars(select(User).where(User.role == "admin", User.active.is_(True))).all()


def test_generated_passwords_are_valid_and_unambiguous() -> None:
    password = users.generate_password()
    assert users.check_password(password) == password
    assert not set(password) & set("0O1lI")
