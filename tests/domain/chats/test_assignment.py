"""Hot leads find a seller: availability, round-robin with a cap, reassignment, never a takeover."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from s7.config import reset_settings
from s7.db import session_scope
from s7.domain.bot import turn
from s7.domain.bot.replies import say
from s7.domain.chats import assignment, conversations, followups
from s7.domain.models import AuditEvent, Conversation, Message, User
from tests.chat_factory import customer_says, make_chat, make_user


@pytest.fixture
def auto(pg_db, fake_clock):  # type: ignore[no-untyped-def]
    """AUTO_ASSIGN on, cap 2, reassignment after 3 minutes."""
    reset_settings(pg_db.model_copy(update={"AUTO_ASSIGN": True, "AUTO_ASSIGN_MAX_OPEN": 2}))
    return fake_clock


def _team(*, away: bool = True) -> dict[str, int]:
    """Ana and Beto at the panel and available; Caro at the panel but away; Dani's tab closed
    15 minutes ago; the admin is never routed to."""
    with session_scope() as session:
        people = {n: make_user(session, n) for n in ("Ana", "Beto", "Caro", "Dani")}
        people["Jefa"] = make_user(session, "Jefa", role="admin")
        for name in ("Ana", "Beto", "Caro", "Jefa"):
            assignment.panel_seen(session, people[name].id)
        from s7.clock import now

        assignment.panel_seen(session, people["Dani"].id, now() - timedelta(minutes=15))
        if away:
            assignment.set_available(session, people["Caro"], False)
        return {n: u.id for n, u in people.items()}


def _hot_lead(wa_id: str) -> int:
    with session_scope() as session:
        chat = make_chat(session, wa_id=wa_id, text="me lo llevo")
        conversations.add_intent(session, chat, 100, reason="compra")
        return chat.id


def _assign(chat_id: int) -> int | None:
    with session_scope() as session:
        seller = assignment.auto_assign(session, conversations.get(session, chat_id), reason="lead caliente")
        return seller.id if seller else None


def test_round_robin_between_the_two_available_sellers_skips_away_admins_and_full(auto) -> None:
    team = _team()
    got = []
    for i in range(5):
        chat = _hot_lead(f"54911000001{i}")
        got.append(_assign(chat))
        auto.advance(seconds=1)
    assert got == [team["Ana"], team["Beto"], team["Ana"], team["Beto"], None]  # cap 2 each, then nobody
    with session_scope() as session:
        assert session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) == "auto_assign_none"
        audits = session.scalars(select(AuditEvent).where(AuditEvent.action == "assign")).all()
        assert len(audits) == 4 and all(a.actor == "system" and a.detail["via"] == "auto" for a in audits)


def test_assignment_is_not_a_takeover_and_the_hot_lost_clock_keeps_running(auto) -> None:
    team = _team()
    chat = _hot_lead("5491100000201")
    assert _assign(chat) == team["Ana"]
    with session_scope() as session:
        conversation = conversations.get(session, chat)
        assert conversation.mode == "BOT_ON" and conversation.awaiting_human_since is not None
        assert conversations.bot_may_speak(session, conversation) is False  # waits for a human, as before
    auto.advance(minutes=11)
    with session_scope() as session:
        followups.sweep_unclaimed_hot_leads(session, auto())
    with session_scope() as session:
        assert conversations.get(session, chat).lead == "HOT_LOST"


def test_an_assignee_who_does_not_open_it_loses_it_to_the_next_seller(auto) -> None:
    team = _team()
    first, second = _hot_lead("5491100000301"), _hot_lead("5491100000302")
    assert _assign(first) == team["Ana"]
    auto.advance(seconds=1)
    assert _assign(second) == team["Beto"]
    with session_scope() as session:
        assignment.opened(session, second, team["Beto"])  # Beto opens his; Ana does not
    auto.advance(minutes=2)
    with session_scope() as session:
        assert assignment.reassign_unopened(session, auto()) == 0  # not yet
    auto.advance(minutes=1, seconds=1)
    with session_scope() as session:
        assert assignment.reassign_unopened(session, auto()) == 1
    with session_scope() as session:
        assert conversations.get(session, first).assigned_to == team["Beto"]
        assert conversations.get(session, second).assigned_to == team["Beto"]


def test_two_hot_leads_assigned_at_once_never_break_the_cap_or_the_rotation(auto) -> None:
    reset_settings(pg_settings_with(AUTO_ASSIGN_MAX_OPEN=1))
    team = _team()
    chats = [_hot_lead(f"54911000004{i}") for i in range(3)]
    barrier = threading.Barrier(3)
    results: dict[int, int | None] = {}

    def run(chat_id: int) -> None:
        barrier.wait()
        results[chat_id] = _assign(chat_id)

    threads = [threading.Thread(target=run, args=(c,)) for c in chats]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assigned = [v for v in results.values() if v is not None]
    assert sorted(assigned) == sorted([team["Ana"], team["Beto"]])  # one each: cap 1, nobody twice
    assert list(results.values()).count(None) == 1
    with session_scope() as session:
        held = session.scalars(select(Conversation.assigned_to).where(Conversation.assigned_to.is_not(None))).all()
        assert sorted(held) == sorted([team["Ana"], team["Beto"]])


def pg_settings_with(**values):  # type: ignore[no-untyped-def]
    from s7.config import get_settings

    return get_settings().model_copy(update=values)


def _customer_asks_for_a_person(wa_id: str) -> tuple[str, Conversation]:
    with session_scope() as session:
        chat = make_chat(session, wa_id=wa_id, text="hola")
        message = customer_says(session, chat, "quiero hablar con una persona")
        turn.respond(session, chat, message)
        said = session.scalars(select(Message.text).where(Message.author == "bot")).all()
        session.expunge(chat)
        return said[-1], chat


def _everyone_away() -> None:
    with session_scope() as session:
        for seller in session.scalars(select(User).where(User.role == "seller")):
            assignment.set_available(session, seller, False)


def test_with_no_seller_free_while_open_the_bot_promises_no_one(auto) -> None:
    _team()
    _everyone_away()  # 15:00 UTC = 12:00 on a Wednesday in Buenos Aires: open
    said, chat = _customer_asks_for_a_person("5491100000501")
    assert said == say("nobody_now") and "ratito" not in said
    assert chat.assigned_to is None


def test_with_no_seller_free_after_hours_the_bot_says_when_the_store_opens(auto) -> None:
    _team()
    _everyone_away()
    auto.current = auto.current.replace(hour=23, minute=30)  # 20:30 in Buenos Aires: closed
    said, _ = _customer_asks_for_a_person("5491100000502")
    assert "abrimos" in said and "ratito" not in said


def test_with_a_seller_free_the_bot_promises_one_and_the_chat_is_assigned(auto) -> None:
    team = _team()
    with session_scope() as session:
        chat = make_chat(session, wa_id="5491100000601", text="hola")
        message = customer_says(session, chat, "quiero hablar con una persona")
        turn.respond(session, chat, message)
        said = session.scalars(select(Message.text).where(Message.author == "bot")).all()
        assert "te escribe" in said[-1] and chat.assigned_to == team["Ana"] and chat.mode == "BOT_ON"


def test_availability_needs_the_switch_and_a_recent_panel_tab(auto) -> None:
    team = _team()
    with session_scope() as session:
        assert assignment.availability(session, team["Ana"]).effective
        assert not assignment.availability(session, team["Caro"]).effective  # away
        dani = assignment.availability(session, team["Dani"])
        assert dani.available and not dani.connected  # tab closed beyond the grace period
    auto.advance(minutes=9)
    with session_scope() as session:
        assert assignment.availability(session, team["Ana"]).effective  # within the grace period
    auto.advance(minutes=2)
    with session_scope() as session:
        assert not assignment.availability(session, team["Ana"]).effective
