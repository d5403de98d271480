"""Dashboard figures from real rows: messages and the audit trail the conversation rules leave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from s7.db import session_scope
from s7.domain.chats import conversations
from s7.domain.models import Message, User
from s7.domain.reads import stats
from tests.conftest import FakeClock
from tests.domain.test_users import make_user

# 2026-11-25 12:00 in Buenos Aires (UTC-3): "today" started at 03:00 UTC.
NOON_LOCAL = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A November 2026 Buenos Aires wall-clock time, as UTC."""
    return datetime(2026, 11, day, hour + 3, minute, tzinfo=UTC)


class Story:
    """Writes one chat's history with the clock set to each moment."""

    def __init__(self, clock: FakeClock, wa_id: str, start: datetime) -> None:
        self.clock = clock
        clock.current = start
        with session_scope() as session:
            self.id = conversations.ensure_conversation(session, wa_id=wa_id, name=wa_id).id

    def at(self, when: datetime) -> Story:
        self.clock.current = when
        return self

    def message(self, direction: str, author: str, user_id: int | None = None) -> Story:
        with session_scope() as session:
            session.add(
                Message(
                    conversation_id=self.id,
                    direction=direction,
                    author=author,
                    author_user_id=user_id,
                    text="…",
                    created_at=self.clock.current,
                )
            )
        return self

    def customer(self) -> Story:
        return self.message("in", "customer")

    def bot(self) -> Story:
        return self.message("out", "bot")

    def seller(self, user_id: int) -> Story:
        return self.message("out", "seller", user_id)

    def lead(self, lead: str, actor: str = "bot", user_id: int | None = None) -> Story:
        with session_scope() as session:
            chat = conversations.get(session, self.id)
            user = session.get(User, user_id) if user_id else None
            conversations.set_lead(session, chat, lead, actor=actor, user=user)
        return self

    def takeover(self, user_id: int) -> Story:
        with session_scope() as session:
            conversations.takeover(session, self.id, session.get(User, user_id))
        return self

    def business_app_reply(self) -> Story:
        with session_scope() as session:
            conversations.record_human_message(session, conversations.get(session, self.id), source="business_app")
        return self.message("out", "business_app")

    def release(self) -> Story:
        with session_scope() as session:
            conversations.release_to_bot(session, self.id, reason="inactivity")
        return self


@pytest.fixture
def store(pg_db, fake_clock: FakeClock) -> dict[str, int]:
    """A morning at the store, plus yesterday and last week."""
    ana = make_user("ana@tienda.com", name="Ana")
    beto = make_user("beto@tienda.com", name="Beto")
    make_user("jefa@tienda.com", role="admin", name="Jefa")
    # Last week: outside both periods.
    Story(fake_clock, "549110000005", local(17, 10)).customer().bot().lead("HOT")
    # Yesterday: a hot lead nobody has taken yet.
    Story(fake_clock, "549110000004", local(24, 18)).customer().bot().at(local(24, 18, 5)).lead("HOT")
    # Today 08:00: answered from the WhatsApp Business app 3 minutes later.
    Story(fake_clock, "549110000003", local(25, 8)).customer().at(local(25, 8, 3)).business_app_reply()
    # Today 09:00: hot at 09:05, lost at 09:20, recovered by Beto at 10:00 who answers at 10:02.
    (
        Story(fake_clock, "549110000002", local(25, 9))
        .customer()
        .bot()
        .at(local(25, 9, 5))
        .lead("HOT")
        .at(local(25, 9, 20))
        .lead("HOT_LOST", actor="system")
        .at(local(25, 10))
        .takeover(beto)
        .at(local(25, 10, 2))
        .seller(beto)
    )
    # Today 11:00: hot at 11:10, Ana takes it at 11:15 and answers at 11:16; later back to the bot,
    # the customer writes again and Ana answers 30 minutes later: a second hand-off.
    (
        Story(fake_clock, "549110000001", local(25, 11))
        .customer()
        .bot()
        .at(local(25, 11, 10))
        .lead("HOT")
        .at(local(25, 11, 15))
        .takeover(ana)
        .at(local(25, 11, 16))
        .seller(ana)
        .at(local(25, 11, 17))
        .customer()
        .at(local(25, 11, 18))
        .seller(ana)
        .at(local(25, 11, 30))
        .release()
        .at(local(25, 11, 31))
        .customer()
        .bot()
        .at(local(25, 11, 40))
        .customer()
        .at(local(25, 12, 1))
        .seller(ana)
    )
    fake_clock.current = NOON_LOCAL + timedelta(minutes=5)
    return {"ana": ana, "beto": beto}


def test_today_counts_conversations_leads_and_outcomes(store) -> None:
    with session_scope() as session:
        today = stats.dashboard(session, "today")
    assert today.start == datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert today.conversations == 3
    assert today.new_conversations == 3
    assert (today.hot_leads, today.taken, today.lost, today.waiting) == (2, 1, 1, 0)
    assert today.hot_lost == 1


def test_first_human_response_is_measured_from_the_hand_off(store) -> None:
    with session_scope() as session:
        today = stats.dashboard(session, "today")
    # business app 3 min; Beto 57 min (from HOT at 09:05); Ana 6 min (from HOT at 11:10) and
    # 30 min (first customer message after the release, 11:31 → 12:01); Ana's 11:18 is no hand-off.
    assert sorted(today.response_seconds) == [180, 360, 1800, 3420]
    assert today.median_response_seconds == (360 + 1800) / 2
    by_name = {s.name: s for s in today.sellers}
    assert by_name["Ana"].response_seconds == [360, 1800]
    assert by_name["Ana"].leads_taken == 1 and by_name["Ana"].takeovers == 1 and by_name["Ana"].messages == 3
    assert by_name["Beto"].leads_taken == 0 and by_name["Beto"].takeovers == 1
    assert by_name[stats.BUSINESS_APP_NAME].median_response_seconds == 180
    assert today.sellers[0].name == "Ana"  # most leads taken first


def test_the_week_adds_yesterday_but_not_last_week(store) -> None:
    with session_scope() as session:
        week = stats.dashboard(session, "week")
    assert week.start == datetime(2026, 11, 19, 3, 0, tzinfo=UTC)
    assert week.conversations == 4
    assert (week.hot_leads, week.taken, week.lost, week.waiting) == (3, 1, 1, 1)
    assert [b.label for b in week.series] == [
        "jue 19/11",
        "vie 20/11",
        "sáb 21/11",
        "dom 22/11",
        "lun 23/11",
        "mar 24/11",
        "mié 25/11",
    ]
    assert [b.conversations for b in week.series] == [0, 0, 0, 0, 0, 1, 3]
    assert [b.hot_leads for b in week.series] == [0, 0, 0, 0, 0, 1, 2]
    assert week.to_dict()["median_first_response_seconds"] == week.median_response_seconds


def test_hourly_series_for_today(store) -> None:
    with session_scope() as session:
        today = stats.dashboard(session, "today")
    assert len(today.series) == 13 and today.series[0].label == "00 h" and today.series[-1].label == "12 h"
    assert {b.label: b.conversations for b in today.series if b.conversations} == {"08 h": 1, "09 h": 1, "11 h": 1}
    assert {b.label: b.hot_lost for b in today.series if b.hot_lost} == {"09 h": 1}


def test_a_lead_that_was_already_held_by_a_seller_counts_as_taken(pg_db, fake_clock) -> None:
    ana = make_user("ana@tienda.com", name="Ana")
    (
        Story(fake_clock, "549110000009", local(25, 10))
        .customer()
        .takeover(ana)
        .seller(ana)
        .at(local(25, 10, 5))
        .lead("HOT")
    )
    fake_clock.current = NOON_LOCAL
    with session_scope() as session:
        today = stats.dashboard(session, "today")
    assert (today.hot_leads, today.taken) == (1, 1)
    assert {s.name: s.leads_taken for s in today.sellers}["Ana"] == 1


def test_today_starts_at_local_midnight_not_utc() -> None:
    late_evening = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 23:00 on the 24th in Buenos Aires
    from zoneinfo import ZoneInfo

    start, _ = stats.period_bounds("today", late_evening, ZoneInfo("America/Argentina/Buenos_Aires"))
    assert start == datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def test_an_empty_store_has_no_median(pg_db, fake_clock) -> None:
    with session_scope() as session:
        empty = stats.dashboard(session, "week")
    assert empty.conversations == 0 and empty.median_response_seconds is None
    assert empty.to_dict()["median_first_response_seconds"] is None
