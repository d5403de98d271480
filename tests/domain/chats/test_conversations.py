"""The handoff state machine, its concurrency, notes, per-seller unread and the audit trail."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from s7.db import session_scope
from s7.domain.chats import conversations, messages
from s7.domain.models import AuditEvent, Conversation, Message, OutboxItem, ReadMark, User
from s7.domain.reads import conversation_list
from tests.chat_factory import customer_says, make_chat, make_user


@dataclass(frozen=True)
class World:
    chat: int
    a: int  # seller A
    b: int  # seller B
    admin: int


def _world(start: str) -> World:
    """A chat in one of the machine's states, and the people around it."""
    with session_scope() as session:
        a, b = make_user(session, "Ana"), make_user(session, "Beto")
        admin = make_user(session, "Admin", role="admin")
        chat = make_chat(session)
        if start == "bot_assigned_b":
            chat.assigned_to = b.id
        elif start in ("held_a", "held_b"):
            conversations.takeover(session, chat.id, a if start == "held_a" else b)
        elif start == "phone":
            conversations.record_human_message(session, chat, source="business_app")
        elif start == "awaiting":
            conversations.request_human(session, chat, reason="quiero hablar con alguien")
        return World(chat.id, a.id, b.id, admin.id)


def _act(session, world: World, action: str) -> None:  # type: ignore[no-untyped-def]
    a, b, admin = (session.get(User, i) for i in (world.a, world.b, world.admin))
    chat = session.get(Conversation, world.chat)
    match action:
        case "takeover A":
            conversations.takeover(session, world.chat, a)
        case "message A":
            conversations.send_seller_message(session, world.chat, a, "¡Hola! Te atiendo yo.")
        case "echo":
            conversations.record_human_message(session, chat, source="business_app")
        case "release A":
            conversations.release_to_bot(session, world.chat, actor_user=a)
        case "release admin":
            conversations.release_to_bot(session, world.chat, actor_user=admin)
        case "assign A→A":
            conversations.assign(session, world.chat, a.id, actor_user=a)
        case "assign A→B":
            conversations.assign(session, world.chat, b.id, actor_user=a)
        case "assign admin→A":
            conversations.assign(session, world.chat, a.id, actor_user=admin)
        case _:
            raise AssertionError(action)


# start state, action → mode, holder ("A", "B", None), human source; or "409 <holder name>"
TABLE = [
    ("bot", "takeover A", ("HUMAN_TAKEOVER", "A", "panel")),
    ("bot_assigned_b", "takeover A", ("HUMAN_TAKEOVER", "A", "panel")),
    ("held_a", "takeover A", ("HUMAN_TAKEOVER", "A", "panel")),
    ("held_b", "takeover A", "409 Beto"),
    ("phone", "takeover A", ("HUMAN_TAKEOVER", "A", "panel")),
    ("awaiting", "takeover A", ("HUMAN_TAKEOVER", "A", "panel")),
    ("bot", "message A", ("HUMAN_TAKEOVER", "A", "panel")),
    ("held_b", "message A", "409 Beto"),
    ("phone", "message A", ("HUMAN_TAKEOVER", "A", "panel")),
    ("bot", "echo", ("HUMAN_TAKEOVER", None, "business_app")),
    ("held_a", "echo", ("HUMAN_TAKEOVER", "A", "panel")),
    ("held_a", "release A", ("BOT_ON", "A", None)),
    ("held_b", "release A", "409 Beto"),
    ("held_b", "release admin", ("BOT_ON", "B", None)),
    ("phone", "release A", ("BOT_ON", None, None)),
    ("awaiting", "release A", ("BOT_ON", None, None)),
    ("held_b", "assign A→A", "409 Beto"),
    ("held_b", "assign admin→A", ("HUMAN_TAKEOVER", "A", "panel")),
    ("held_a", "assign A→B", ("HUMAN_TAKEOVER", "B", "panel")),
    ("bot", "assign A→A", ("BOT_ON", "A", None)),
]


@pytest.mark.parametrize(("start", "action", "expected"), TABLE, ids=[f"{s}|{a}" for s, a, _ in TABLE])
def test_state_machine(pg_db, fake_clock, start: str, action: str, expected) -> None:  # type: ignore[no-untyped-def]
    world = _world(start)
    fake_clock.advance(seconds=5)
    if isinstance(expected, str):
        with pytest.raises(conversations.HeldByOther) as refused, session_scope() as session:
            _act(session, world, action)
        assert str(refused.value) == f"La conversación la tiene {expected.split(' ', 1)[1]}"
        return
    with session_scope() as session:
        _act(session, world, action)
    with session_scope() as session:
        chat = session.get(Conversation, world.chat)
        holders = {world.a: "A", world.b: "B", None: None}
        assert (chat.mode, holders[chat.assigned_to], chat.human_source) == expected
        assert chat.awaiting_human_since is None  # any human action (or a release) ends a wait


def test_state_machine_on_sqlite_too(sqlite_db) -> None:
    world = _world("held_b")
    with pytest.raises(conversations.HeldByOther), session_scope() as session:
        _act(session, world, "takeover A")
    with session_scope() as session:
        _act(session, world, "release admin")
        _act(session, world, "takeover A")
        assert session.get(Conversation, world.chat).assigned_to == world.a


def _take(world: World, who: str, hold: float, barrier: threading.Barrier, results: dict[str, str]) -> None:
    try:
        with session_scope() as session:
            user = session.get(User, world.a if who == "A" else world.b)
            session.get(Conversation, world.chat)  # both have read BOT_ON before either writes
            barrier.wait()
            conversations.takeover(session, world.chat, user)
            time.sleep(hold)  # the winner keeps its transaction open a moment
        results[who] = "won"
    except conversations.HeldByOther as exc:
        results[who] = f"409 {exc.holder_name}"


def test_two_takeovers_at_once_exactly_one_wins(pg_db) -> None:
    """Both sellers read BOT_ON, then both write while the first write is still uncommitted: a
    read-then-write implementation would let both win; the conditional UPDATE waits for the row
    lock, re-checks against the winner, and refuses naming them."""
    for hold_a, hold_b in ((0.3, 0.0), (0.0, 0.3), (0.1, 0.1)):
        world = _world("bot")
        results: dict[str, str] = {}
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=_take, args=(world, "A", hold_a, barrier, results)),
            threading.Thread(target=_take, args=(world, "B", hold_b, barrier, results)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert sorted(results.values()) in (["409 Ana", "won"], ["409 Beto", "won"]), results
        winner = "A" if results["A"] == "won" else "B"
        with session_scope() as session:
            chat = session.get(Conversation, world.chat)
            assert chat.assigned_to == (world.a if winner == "A" else world.b)
            takeovers = session.scalar(
                select(func.count()).where(AuditEvent.conversation_id == chat.id, AuditEvent.action == "takeover")
            )
            assert takeovers == 1
        _reset()


def _reset() -> None:
    from tests.conftest import _truncate_all

    _truncate_all()


def test_seller_message_is_takeover_plus_the_one_send_path(pg_db) -> None:
    world = _world("bot")
    with session_scope() as session:
        ana = session.get(User, world.a)
        sent = conversations.send_seller_message(session, world.chat, ana, "  Hola, soy Ana 👋 ")
        assert (sent.direction, sent.author, sent.author_user_id, sent.status) == ("out", "seller", ana.id, "queued")
    with session_scope() as session:
        chat = session.get(Conversation, world.chat)
        assert chat.mode == "HUMAN_TAKEOVER" and chat.assigned_to == world.a
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 1
        assert conversations.unread_counts(session, world.a).get(world.chat, 0) == 0  # she answered: she saw it


def test_send_outside_the_window_fails_visibly_and_changes_nothing(pg_db, fake_clock) -> None:
    world = _world("bot")
    fake_clock.advance(hours=24, seconds=1)
    with pytest.raises(messages.WindowClosed) as closed, session_scope() as session:
        conversations.send_seller_message(session, world.chat, session.get(User, world.a), "¿Seguís ahí?")
    assert "24 horas" in closed.value.user_message
    with session_scope() as session:
        chat = session.get(Conversation, world.chat)
        assert chat.mode == "BOT_ON" and chat.assigned_to is None
        assert session.scalar(select(func.count()).where(Message.direction == "out")) == 0
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 0


@pytest.mark.parametrize("text", ["", "   \n"])
def test_empty_seller_message_is_refused(pg_db, text: str) -> None:
    world = _world("bot")
    with pytest.raises(conversations.ConversationError, match="vacío"), session_scope() as session:
        conversations.send_seller_message(session, world.chat, session.get(User, world.a), text)


def test_notes_are_internal_and_validated(pg_db) -> None:
    world = _world("bot")
    with session_scope() as session:
        ana = session.get(User, world.a)
        conversations.add_note(session, world.chat, ana, "  Quiere el talle 42, llamar a la tarde ")
        with pytest.raises(conversations.ConversationError, match="vacía"):
            conversations.add_note(session, world.chat, ana, "  ")
        with pytest.raises(conversations.ConversationError, match="4000"):
            conversations.add_note(session, world.chat, ana, "x" * 4001)
        with pytest.raises(conversations.NotFound):
            conversations.add_note(session, 999_999, ana, "hola")
    with session_scope() as session:
        notes = conversations.notes(session, world.chat)
        assert [(n.text, n.author.name) for n in notes] == [("Quiere el talle 42, llamar a la tarde", "Ana")]
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 0  # never sent


def test_unread_is_per_seller(pg_db) -> None:
    world = _world("bot")
    with session_scope() as session:
        chat = session.get(Conversation, world.chat)
        customer_says(session, chat, "¿tienen talle 42?")
    with session_scope() as session:
        assert conversations.unread_counts(session, world.a) == {world.chat: 2}
        conversations.mark_read(session, world.chat, world.a)
    with session_scope() as session:
        chat = session.get(Conversation, world.chat)
        customer_says(session, chat, "¿y en negro?")
    with session_scope() as session:
        assert conversations.unread_counts(session, world.a) == {world.chat: 1}
        assert conversations.unread_counts(session, world.b) == {world.chat: 3}
        rows, total = conversation_list.list_conversations(
            session, world.b, conversation_list.ConversationFilter(unread_only=True)
        )
        assert total == 1 and rows[0].unread == 3
        assert session.scalar(select(func.count()).select_from(ReadMark)) == 1


def test_audit_trail_says_who_did_what(pg_db) -> None:
    world = _world("bot")
    with session_scope() as session:
        ana, beto, admin = (session.get(User, i) for i in (world.a, world.b, world.admin))
        chat = session.get(Conversation, world.chat)
        conversations.add_intent(session, chat, 10, reason="llevo: me lo llevo")
        conversations.takeover(session, world.chat, ana)
        conversations.assign(session, world.chat, beto.id, actor_user=ana)
        conversations.release_to_bot(session, world.chat, actor_user=admin)
        conversations.record_human_message(session, chat, source="business_app")
    with session_scope() as session:
        trail = [
            (e.action, e.actor, e.actor_user_id, e.detail)
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.conversation_id == world.chat).order_by(AuditEvent.id)
            )
        ]
    assert trail == [
        ("lead", "bot", None, {"previous": "NONE", "lead": "HOT", "reason": "llevo: me lo llevo"}),
        ("takeover", "seller", world.a, {"via": "button", "previous_mode": "BOT_ON"}),
        ("assign", "seller", world.a, {"to": world.b, "previous": world.a}),
        ("release", "admin", world.admin, {"reason": "button", "previous_mode": "HUMAN_TAKEOVER"}),
        ("takeover", "business_app", None, {"via": "message"}),
    ]


def test_hot_lead_waits_for_a_human_and_a_seller_clears_hot_lost(pg_db) -> None:
    world = _world("bot")
    with session_scope() as session:
        chat = session.get(Conversation, world.chat)
        assert conversations.add_intent(session, chat, 3, reason="cuotas") == "WARM"
        assert conversations.bot_may_speak(session, chat)
        assert conversations.add_intent(session, chat, 5, reason="llevo") == "HOT"
        assert chat.awaiting_human_since is not None and not conversations.bot_may_speak(session, chat)
        conversations.set_lead(session, chat, "HOT_LOST", actor="system")
        assert conversations.add_intent(session, chat, 50, reason="comprar") == "HOT_LOST"  # stays flagged
        conversations.takeover(session, world.chat, session.get(User, world.a))
        assert chat.lead == "HOT"
