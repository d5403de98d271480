"""Follow-up reminders: read "mañana 10:00" in store time; at that time the chat is back on top."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from s7 import realtime
from s7.db import session_scope
from s7.domain.chats import reminders
from s7.domain.chats.conversations import ConversationError
from s7.domain.models import Reminder
from s7.domain.reads import inbox
from tests.chat_factory import make_chat, make_user

NOON_LOCAL = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # Wednesday 12:00 in Buenos Aires


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour + 3, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("recordame mañana 10:00", local(26, 10)),
        ("mañana a las 10hs", local(26, 10)),
        ("hoy 18:30", local(25, 18, 30)),
        ("en 2 horas", local(25, 14)),
        ("en 30 min", local(25, 12, 30)),
        ("viernes 9", local(27, 9)),
        ("el lunes a las 9", local(30, 9)),
        ("10:00", local(26, 10)),  # already past today: tomorrow
        ("pasado mañana", local(27, 9)),
        ("27/11 16:45", local(27, 16, 45)),
    ],
)
def test_when_is_read_in_store_time(sqlite_db, said: str, expected: datetime) -> None:
    assert reminders.parse_when(said, NOON_LOCAL) == expected


@pytest.mark.parametrize("said", ["", "cuando puedas", "25:00", "31/02 10:00", "hoy 09:00", "en 200 dias"])
def test_unreadable_or_past_times_are_refused(sqlite_db, said: str) -> None:
    with pytest.raises(ConversationError):
        reminders.parse_when(said, NOON_LOCAL)


def test_a_due_reminder_puts_the_chat_on_top_once_and_alerts_its_seller(any_db, fake_clock) -> None:
    fake_clock.current = NOON_LOCAL
    events: list[realtime.Event] = []
    realtime.reset()
    realtime.subscribe(events.append)
    with session_scope() as session:
        ana = make_user(session, "Ana")
        old = make_chat(session, wa_id="5491100000001", name="Vieja")
        ana_id, old_id = ana.id, old.id
    fake_clock.advance(minutes=5)
    with session_scope() as session:
        make_chat(session, wa_id="5491100000002", name="Nueva")
        reminders.schedule(session, old_id, session.get(reminders.User, ana_id), reminders.parse_when("en 1 hora"))
        assert [r.id for r in inbox.list_chats(session, ana_id)][1] == old_id
    fake_clock.advance(minutes=30)
    with session_scope() as session:
        assert reminders.fire_due(session, fake_clock()) == 0  # not yet
    fake_clock.advance(minutes=40)
    with session_scope() as session:
        assert reminders.fire_due(session, fake_clock()) == 1
    with session_scope() as session:
        assert reminders.fire_due(session, fake_clock()) == 0  # fired once
        assert [r.id for r in inbox.list_chats(session, ana_id)][0] == old_id
        assert session.scalar(select(Reminder.fired_at)) is not None
    alerts = [e for e in events if e.kind == "alert"]
    assert alerts and alerts[0].get("reason") == "reminder" and alerts[0].get("for_user") == ana_id
    realtime.reset()
