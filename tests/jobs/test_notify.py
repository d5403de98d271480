"""n8n events against a real local HTTP server: sent after commit, retried, never blocking."""

from __future__ import annotations

import time

import pytest

from s7 import jobs
from s7.config import reset_settings
from s7.db import session_scope
from s7.domain.chats import conversations, notify
from s7.domain.models import Conversation
from tests.chat_factory import make_chat
from tests.conftest import make_settings
from tests.jobs.http_sink import HttpSink


@pytest.fixture
def n8n(pg_db, monkeypatch):  # type: ignore[no-untyped-def]
    def start(statuses: list[int] | None = None, delay: float = 0.0) -> HttpSink:
        sink = HttpSink(statuses, delay).__enter__()
        sinks.append(sink)
        reset_settings(make_settings(DATABASE_URL=pg_db.DATABASE_URL, N8N_WEBHOOK_URL=sink.url))
        return sink

    sinks: list[HttpSink] = []
    monkeypatch.setattr(notify, "RETRY_DELAYS", (0.05, 0.05, 0.05))
    yield start
    notify.shutdown()
    for sink in sinks:
        sink.__exit__()


def _hot_chat(wa_id: str = "5491155550001") -> int:
    with session_scope() as session:
        chat = make_chat(session, wa_id=wa_id, name="Carla")
        conversations.add_intent(session, chat, 10, reason="llevo")
        return chat.id


def test_a_hot_lead_is_posted_after_commit_and_retried(n8n) -> None:  # type: ignore[no-untyped-def]
    sink = n8n(statuses=[500, 503])
    chat_id = _hot_chat()
    posts = sink.wait_for(3)
    assert [p["answered"] for p in posts] == [500, 503, 200]
    body = posts[0]["json"]
    assert body["event"] == "hot_lead" and body["reason"] == "llevo"
    assert body["conversation"]["id"] == chat_id and body["conversation"]["wa_id"] == "5491155550001"
    assert body["conversation"]["lead"] == "HOT" and body["panel_url"].endswith(f"/?chat={chat_id}")
    assert {p["headers"]["Idempotency-Key"] for p in posts} == {body["id"]}  # n8n can drop the repeats
    assert all(p["json"] == body for p in posts)


def test_the_caller_never_waits_for_n8n(n8n) -> None:  # type: ignore[no-untyped-def]
    sink = n8n(delay=1.5)
    started = time.perf_counter()
    _hot_chat()
    assert time.perf_counter() - started < 1.0
    assert len(sink.wait_for(1, timeout=5)) == 1


def test_nothing_is_posted_when_the_transaction_rolls_back(n8n) -> None:  # type: ignore[no-untyped-def]
    sink = n8n()
    with pytest.raises(RuntimeError), session_scope() as session:
        chat = make_chat(session)
        conversations.add_intent(session, chat, 10, reason="llevo")
        raise RuntimeError("something else failed")
    _hot_chat("5491155550002")  # a later event does arrive: the first one was really dropped
    posts = sink.wait_for(2, timeout=1.5)
    assert [p["json"]["conversation"]["wa_id"] for p in posts] == ["5491155550002"]


def test_a_permanent_refusal_is_not_retried(n8n) -> None:  # type: ignore[no-untyped-def]
    sink = n8n(statuses=[404])
    _hot_chat()
    assert len(sink.wait_for(2, timeout=1.0)) == 1


def test_hot_lost_is_posted_once_by_the_sweep(n8n, fake_clock) -> None:  # type: ignore[no-untyped-def]
    sink = n8n()
    chat_id = _hot_chat()
    sink.wait_for(1)
    fake_clock.advance(minutes=11)
    assert jobs.run_job("hot_lost_sweep") == 1
    assert jobs.run_job("hot_lost_sweep") == 0
    posts = sink.wait_for(3, timeout=1.5)
    assert [p["json"]["event"] for p in posts] == ["hot_lead", "hot_lost"]
    assert posts[1]["json"]["conversation"]["lead"] == "HOT_LOST"
    with session_scope() as session:
        assert session.get(Conversation, chat_id).lead == "HOT_LOST"
