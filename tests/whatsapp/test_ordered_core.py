"""The ordered core (rules 8 and 9) under real timing: bursts from one customer applied in order by
one writer at a time, poison events that end, and two replicas on one customer's burst."""

from __future__ import annotations

import copy
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from s7.clock import now
from s7.config import Settings
from s7.db import session_scope
from s7.domain import catalog
from s7.domain.models import Contact, Conversation, InboundItem, Message, WebhookEvent
from s7.whatsapp import processor
from s7.whatsapp.webhook import store_event
from tests.conftest import FakeClock, server_env
from tests.whatsapp.conftest import BotCalls, encode, load

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "catalog" / "demo.json"

# A shopper's burst: product questions and buying signals, typed in a few seconds.
BURST = [
    "hola!",
    "tenés zapatillas nike?",
    "en 42",
    "cuánto sale en cuotas?",
    "me la llevo",
    "la reservo y paso a buscarla hoy",
]


def text_from(wa_id: str, wamid: str, body: str, *, at: int | None = None) -> dict[str, Any]:
    payload = copy.deepcopy(load("text"))
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0].update(wa_id=wa_id, user_id=f"AR.{wa_id}")  # one BSUID per customer
    value["messages"][0].update({"from": wa_id, "id": wamid, "timestamp": str(at or int(now().timestamp()))})
    value["messages"][0]["text"]["body"] = body
    return payload


def chat_of(wa_id: str) -> Conversation:
    with session_scope() as session:
        conversation = session.scalar(
            select(Conversation).join(Contact, Contact.id == Conversation.contact_id).where(Contact.wa_id == wa_id)
        )
        assert conversation is not None
        return conversation


def texts_of(wa_id: str, author: str) -> list[str | None]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(Message.text)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .join(Contact, Contact.id == Conversation.contact_id)
                .where(Contact.wa_id == wa_id, Message.author == author)
                .order_by(Message.id)
            )
        )


def _drain_in_parallel(workers: int) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(workers)

    def run() -> None:
        try:
            start.wait()
            for _ in range(50):
                if processor.process_pending() == 0 and processor.process_pending() == 0:
                    break
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_a_burst_delivered_at_once_scores_like_the_same_messages_one_by_one(
    pg_db: Settings, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with session_scope() as session:
        catalog.import_path(session, DEMO)
    stamp = int(fake_clock.current.timestamp())
    # One by one: each message processed before the next arrives.
    for i, body in enumerate(BURST):
        store_event(encode(text_from("5491155551111", f"wamid.SEQ{i}", body, at=stamp + i)))
        processor.process_pending()
    # The same six at once, taken by four workers racing (the old core's four claimers).
    for i, body in enumerate(BURST):
        store_event(encode(text_from("5491155552222", f"wamid.BURST{i}", body, at=stamp + i)))
    with caplog.at_level(logging.WARNING):
        _drain_in_parallel(4)
    one_by_one, burst = chat_of("5491155551111"), chat_of("5491155552222")
    assert (burst.intent_score, burst.lead) == (one_by_one.intent_score, one_by_one.lead)
    assert burst.lead == "HOT"
    assert texts_of("5491155552222", "customer") == BURST  # every message stored, in order
    assert texts_of("5491155552222", "bot"), "the burst was answered"
    assert "Deadlock" not in caplog.text and "deadlock" not in caplog.text


@pytest.mark.parametrize("db", ["pg_db", "sqlite_db"])
def test_a_poison_event_is_parked_while_other_customers_keep_being_answered(
    db: str, request: pytest.FixtureRequest, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    request.getfixturevalue(db)
    poison = copy.deepcopy(load("history"))
    poison["entry"][0]["changes"][0]["value"]["history"][0]["errors"] = 5  # the parser chokes on it
    store_event(encode(poison))
    store_event(encode(text_from("5491155553333", "wamid.AFTER1", "hola, ¿tenés mochilas?")))
    processor.process_pending()
    assert bot_calls.wamids == ["wamid.AFTER1"]  # the customer behind the poison is answered
    with session_scope() as session:
        events = list(session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))
    assert events[0].state == "failed" and "history" in (events[0].error or "")
    assert events[1].state == "done"
    store_event(encode(text_from("5491155553333", "wamid.AFTER2", "y en azul?")))
    processor.process_pending()
    assert bot_calls.wamids == ["wamid.AFTER1", "wamid.AFTER2"]


@pytest.mark.parametrize("db", ["pg_db", "sqlite_db"])
def test_an_update_that_keeps_failing_is_parked_shown_in_its_chat_and_its_lane_moves_on(
    db: str,
    request: pytest.FixtureRequest,
    fake_clock: FakeClock,
    bot_calls: BotCalls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request.getfixturevalue(db)
    real = processor.dispatch

    def poisoned(session: Any, update: Any, **kw: Any) -> Any:
        if getattr(update, "wamid", None) == "wamid.POISON":
            raise RuntimeError("poison")
        return real(session, update, **kw)

    monkeypatch.setattr(processor, "dispatch", poisoned)
    store_event(encode(text_from("5491155554444", "wamid.POISON", "mensaje envenenado")))
    store_event(encode(text_from("5491155554444", "wamid.NEXT", "¿y el siguiente?")))
    store_event(encode(text_from("5491155555555", "wamid.OTHER", "otro cliente")))
    processor.process_pending()
    assert bot_calls.wamids == ["wamid.OTHER"]  # the poisoned chat waits in order; others don't
    for _ in range(processor.MAX_ATTEMPTS + 1):
        fake_clock.advance(minutes=2)
        processor.process_pending()
    with session_scope() as session:
        states = dict(session.execute(select(InboundItem.chat_key, InboundItem.state).order_by(InboundItem.id)).all())
        parked = session.scalar(select(InboundItem).where(InboundItem.state == "failed"))
        assert parked is not None and parked.attempts == processor.MAX_ATTEMPTS and "poison" in (parked.error or "")
    assert bot_calls.wamids == ["wamid.OTHER", "wamid.NEXT"]  # the lane moved on after parking
    shown = texts_of("5491155554444", "customer")
    assert shown == ["mensaje envenenado", "¿y el siguiente?"]  # the parked message still shows
    assert states


REPLICA = """
import sys, time
from s7.whatsapp import processor
deadline = time.monotonic() + 60
idle = 0
while time.monotonic() < deadline and idle < 20:
    idle = idle + 1 if processor.process_pending() == 0 else 0
    time.sleep(0.02)
"""


def test_two_replicas_apply_one_customers_burst_in_arrival_order(pg_db: Settings) -> None:
    wamids = [f"wamid.R{i:02d}" for i in range(24)]
    env = {**os.environ, **server_env(pg_db), "PYTHONPATH": str(ROOT)}
    replicas = [subprocess.Popen([sys.executable, "-c", REPLICA], cwd=ROOT, env=env) for _ in range(2)]
    try:
        for i, wamid in enumerate(wamids):
            store_event(encode(text_from("5491155556666", wamid, f"mensaje {i}")))
            store_event(encode(text_from(f"54911555{i:05d}", f"wamid.X{i:02d}", "hola")))  # other chats
        for replica in replicas:
            replica.wait(timeout=90)
    finally:
        for replica in replicas:
            if replica.poll() is None:
                replica.kill()
    assert texts_of("5491155556666", "customer") == [f"mensaje {i}" for i in range(24)]
    with session_scope() as session:
        assert session.scalar(select(InboundItem.id).where(InboundItem.state != "done").limit(1)) is None


def test_a_known_customer_writing_with_a_new_username_has_it_stored(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    """The one-statement path for known customers must not skip what ensure_conversation updates."""
    store_event(encode(text_from("5491155558888", "wamid.U1", "hola")))
    processor.process_pending()
    later = text_from("5491155558888", "wamid.U2", "sigo yo")
    later["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["username"] = "sofi.compras"
    store_event(encode(later))
    processor.process_pending()
    with session_scope() as session:
        contact = session.scalar(select(Contact).where(Contact.wa_id == "5491155558888"))
        assert contact is not None and contact.username == "sofi.compras"
