"""System health (issue #12): what admins see of parked items, failed events and failed sends, and
the repairs they can make — each one audited and each one leading back into the normal path."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from s7.config import Settings
from s7.db import session_scope
from s7.domain import health
from s7.domain.models import AuditEvent, InboundItem, Message, OutboxItem, WebhookEvent
from s7.domain.reads import health as health_reads
from s7.whatsapp import outbox, processor
from s7.whatsapp.graph import SendError
from s7.whatsapp.webhook import store_event
from tests.conftest import FakeClock
from tests.domain.test_users import make_user
from tests.whatsapp.conftest import BotCalls, encode, load
from tests.whatsapp.test_ordered_core import chat_of, text_from
from tests.whatsapp.test_outbox import queue

POISONED = "5491155554444"
SENT_TO = "5491155556666"
UNDELIVERABLE = "(#131026) Message Undeliverable"


def park_a_message(monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock, wamid: str = "wamid.POISON") -> int:
    """A customer message whose processing keeps failing until it is parked. Returns the item id."""
    real = processor.dispatch

    def poisoned(session: Any, update: Any, **kw: Any) -> Any:
        if getattr(update, "wamid", None) == wamid:
            raise RuntimeError("poison: the catalog index is broken")
        return real(session, update, **kw)

    monkeypatch.setattr(processor, "dispatch", poisoned)
    store_event(encode(text_from(POISONED, wamid, "¿tienen mochilas?")))
    processor.process_pending()
    for _ in range(processor.MAX_ATTEMPTS):
        fake_clock.advance(seconds=61)  # past each retry delay, well inside the 10-minute stale limit
        processor.process_pending()
    monkeypatch.setattr(processor, "dispatch", real)  # "the fix was deployed"
    with session_scope() as session:
        item = session.scalar(select(InboundItem).where(InboundItem.state == "failed"))
        assert item is not None
        return item.id


def fail_an_event() -> int:
    """A history chunk the parser chokes on: the event is parked with its error."""
    poison = copy.deepcopy(load("history"))
    poison["entry"][0]["changes"][0]["value"]["history"][0]["errors"] = 5
    store_event(encode(poison))
    processor.process_pending()
    with session_scope() as session:
        return session.scalars(select(WebhookEvent.id).where(WebhookEvent.state == "failed")).one()


def fail_a_send(wa_id: str = SENT_TO, text: str = "Tenemos las Air Max en 42") -> int:
    """A bot reply Meta refused for good (the real sender's claim and failure steps)."""
    store_event(encode(text_from(wa_id, f"wamid.HI{wa_id}", "hola")))
    processor.process_pending()
    queue(chat_of(wa_id).id, text)
    claimed = outbox.claim_due()
    row = next(c for c in claimed if c.kind == "text")
    for other in claimed:
        if other is not row:
            outbox.record_failure(other, SendError("receipt", retryable=False), retry_in=None)
    outbox.record_failure(row, SendError(UNDELIVERABLE, retryable=False, code=131026), retry_in=None)
    return row.id


def seed_trouble(monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock) -> dict[str, int]:
    item = park_a_message(monkeypatch, fake_clock)
    event = fail_an_event()
    send = fail_a_send()
    return {"item": item, "event": event, "send": send}


async def quiet_background_work() -> None:
    """In the running app (NiceGUI `user` tests) the processor and the sender run on their own;
    stop them so the seeded trouble is exactly what the test made."""
    await processor.stop()
    await outbox.stop()


def audits(action: str) -> list[AuditEvent]:
    with session_scope() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.mark.parametrize("db", ["pg_db", "sqlite_db"])
def test_health_figures_on_a_seeded_set(
    db: str,
    request: pytest.FixtureRequest,
    fake_clock: FakeClock,
    bot_calls: BotCalls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request.getfixturevalue(db)
    seeded = seed_trouble(monkeypatch, fake_clock)
    # A backlog: one message split into its lane but not applied yet, five minutes old.
    store_event(encode(text_from("5491155557777", "wamid.WAITING", "¿hay alguien?")))
    processor.split_new_events()
    fake_clock.advance(minutes=5)
    with session_scope() as session:
        figures = health_reads.system_health(session)

    assert figures.parked.count == 1
    assert "poison" in (figures.parked.first_error or "")
    [parked] = figures.parked.recent
    assert parked.id == seeded["item"] and parked.chat_key == f"wa:{POISONED}"
    assert parked.kind == "CustomerMessage" and parked.attempts == processor.MAX_ATTEMPTS
    assert parked.conversation_id == chat_of(POISONED).id and parked.event_id is not None
    assert parked.at is not None

    assert figures.failed_events.count == 1
    assert "history" in (figures.failed_events.first_error or "")
    assert [e.id for e in figures.failed_events.recent] == [seeded["event"]]

    assert figures.failed_sends.count == 1
    [send] = figures.failed_sends.recent
    assert send.id == seeded["send"] and send.reason == UNDELIVERABLE
    assert send.conversation_id == chat_of(SENT_TO).id and send.text == "Tenemos las Air Max en 42"

    assert figures.backlog.items_pending == 1
    assert figures.backlog.oldest_age_seconds == pytest.approx(300, abs=1)
    assert figures.as_dict()["parked"]["count"] == 1  # the API's shape


def test_a_quiet_system_reports_zeros(pg_db: Settings) -> None:
    with session_scope() as session:
        figures = health_reads.system_health(session)
    assert (figures.parked.count, figures.failed_events.count, figures.failed_sends.count) == (0, 0, 0)
    assert figures.parked.first_error is None and figures.backlog.oldest_age_seconds is None


def test_retrying_a_parked_item_applies_the_message(
    pg_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = make_user("jefa@tienda.com", role="admin")
    item_id = park_a_message(monkeypatch, fake_clock)
    assert bot_calls.wamids == []
    with session_scope() as session:
        health.retry_parked_item(session, item_id, actor_id=admin)
    processor.process_pending()
    assert bot_calls.wamids == ["wamid.POISON"]  # the bot took its turn on the retried message
    with session_scope() as session:
        item = session.get(InboundItem, item_id)
        assert item is not None and item.state == "done"
        shown = session.scalars(select(Message).where(Message.wa_message_id == "wamid.POISON")).one()
        assert shown.error is None  # no longer marked "No se pudo procesar"
        assert health_reads.system_health(session).parked.count == 0
    [entry] = audits("inbound_item_retried")
    assert entry.actor == "admin" and entry.actor_user_id == admin and entry.detail["item_id"] == item_id
    assert entry.conversation_id == chat_of(POISONED).id


def test_only_parked_items_and_failed_things_can_be_retried(
    pg_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    admin = make_user("jefa@tienda.com", role="admin")
    store_event(encode(text_from(POISONED, "wamid.OK", "hola")))
    processor.process_pending()
    with session_scope() as session:
        done = session.scalars(select(InboundItem)).one()
        event = session.scalars(select(WebhookEvent)).one()
        with pytest.raises(health.NotRetryable):
            health.retry_parked_item(session, done.id, actor_id=admin)
        with pytest.raises(health.NotRetryable):
            health.resplit_event(session, event.id, actor_id=admin)
        with pytest.raises(health.NotFound):
            health.retry_failed_send(session, 999_999, actor_id=admin)
        with pytest.raises(health.NotFound):
            health.raw_body(session, 999_999, actor_id=admin)
    assert audits("inbound_item_retried") == []


def test_a_failed_event_is_split_again(
    pg_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = make_user("jefa@tienda.com", role="admin")
    event_id = fail_an_event()
    # "The parser was fixed": the same body now reads whole.
    monkeypatch.setattr(processor, "parse_body", lambda body: ([], []))
    with session_scope() as session:
        health.resplit_event(session, event_id, actor_id=admin)
    processor.process_pending()
    with session_scope() as session:
        event = session.get(WebhookEvent, event_id)
        assert event is not None and event.state == "done" and event.error is None
    assert len(audits("webhook_event_resplit")) == 1


def test_retrying_a_failed_send_queues_it_again_through_the_gate(
    pg_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    admin = make_user("jefa@tienda.com", role="admin")
    send_id = fail_a_send()
    fake_clock.advance(seconds=30)
    with session_scope() as session:
        health.retry_failed_send(session, send_id, actor_id=admin)
        row = session.get(OutboxItem, send_id)
        assert row is not None and (row.state, row.attempts) == ("pending", 0)
        shown = session.get(Message, row.message_id)
        assert shown is not None and (shown.status, shown.error) == ("queued", None)
    assert [c.id for c in outbox.claim_due()] == [send_id]  # the sender takes it now
    [entry] = audits("outbox_send_retried")
    assert entry.detail["outbox_id"] == send_id and entry.actor_user_id == admin


def test_raw_body_on_demand_is_audited(pg_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls) -> None:
    admin = make_user("jefa@tienda.com", role="admin")
    event_id = fail_an_event()
    with session_scope() as session:
        body = health.raw_body(session, event_id, actor_id=admin)
    assert '"history"' in body
    [entry] = audits("webhook_body_viewed")
    assert entry.detail["event_id"] == event_id


def test_backlog_age_counts_from_the_oldest_pending_item(pg_db: Settings, fake_clock: FakeClock) -> None:
    store_event(encode(text_from("5491155557777", "wamid.A", "uno")))
    processor.split_new_events()
    fake_clock.advance(seconds=90)
    store_event(encode(text_from("5491155558888", "wamid.B", "dos")))
    processor.split_new_events()
    fake_clock.advance(seconds=10)
    with session_scope() as session:
        backlog = health_reads.system_health(session).backlog
    assert backlog.items_pending == 2 and backlog.oldest_age_seconds == pytest.approx(100, abs=1)
    assert backlog.oldest_pending_at is not None and fake_clock.current - backlog.oldest_pending_at == timedelta(
        seconds=100
    )
