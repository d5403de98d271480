"""Nothing acknowledged is lost, nothing is processed twice: crashes, two processors, NOTIFY."""

from __future__ import annotations

import asyncio
import copy
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from s7.clock import now
from s7.config import Settings
from s7.db import session_scope
from s7.domain.models import InboundItem, Message, WebhookEvent
from s7.whatsapp import processor
from s7.whatsapp.webhook import store_event
from tests.conftest import server_env
from tests.whatsapp.conftest import BotCalls, encode, load, signed_headers, webhook_app

ROOT = Path(__file__).resolve().parents[2]

CRASHING_PROCESSOR = """
import sys, time, pathlib
from s7.domain import bot
from s7.whatsapp import processor

def hang(session, conversation, message):
    pathlib.Path(sys.argv[1]).write_text(message.wa_message_id)  # mid-transaction, then die
    time.sleep(600)

bot.respond = hang
processor.process_pending()
"""


def fresh_text(wamid: str, wa_id: str = "5491155550001", body: str = "hola") -> dict[str, Any]:
    """A text message sent just now (real clock: these tests cross process boundaries)."""
    payload = copy.deepcopy(load("text"))
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0].update(wa_id=wa_id, user_id=f"AR.{wa_id}")  # one BSUID per customer
    value["messages"][0].update({"from": wa_id, "id": wamid, "timestamp": str(int(now().timestamp()))})
    value["messages"][0]["text"]["body"] = body
    return payload


def count(model: Any, *where: Any) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def test_a_processor_killed_between_ack_and_commit_loses_nothing(
    pg_db: Settings, bot_calls: BotCalls, tmp_path: Path
) -> None:
    body = encode(fresh_text("wamid.CRASH1"))
    transport = httpx.ASGITransport(app=webhook_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.post("/webhook", content=body, headers=signed_headers(pg_db, body))
    assert response.status_code == 200  # acknowledged: Meta will not send it again

    marker = tmp_path / "claimed"
    env = {**os.environ, **server_env(pg_db), "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen([sys.executable, "-c", CRASHING_PROCESSOR, str(marker)], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert worker.poll() is None, "the worker exited before claiming the event"
            assert time.monotonic() < deadline, "the worker never claimed the event"
            time.sleep(0.05)
        # The worker holds the event row locked and has inserted the message, uncommitted.
        assert processor.process_pending() == 0  # SKIP LOCKED: nobody else takes it meanwhile
        worker.kill()
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    time.sleep(0.2)  # Postgres notices the dropped connection and rolls its transaction back

    assert processor.process_pending() == 1  # a new processor finds the event still pending
    assert count(Message, Message.wa_message_id == "wamid.CRASH1") == 1
    assert bot_calls.wamids == ["wamid.CRASH1"]
    assert count(WebhookEvent, WebhookEvent.state == "done") == 1


def test_two_processors_on_one_postgres_never_process_an_event_twice(
    pg_db: Settings, bot_calls: BotCalls, monkeypatch: Any
) -> None:
    monkeypatch.setattr(processor, "APPLY_LANES", 2)  # small batches, so both get lanes
    wamids = [f"wamid.PAR{i:03d}" for i in range(80)]
    for i, wamid in enumerate(wamids):
        store_event(encode(fresh_text(wamid, wa_id=f"54911555{i % 7:05d}", body=wamid)))
    # The same messages again, batched differently by Meta: other bodies, same wamids.
    for first in range(0, 80, 10):
        batch = fresh_text(wamids[first], wa_id="54911555" + f"{first % 7:05d}")
        value = batch["entry"][0]["changes"][0]["value"]
        value["messages"] = [
            fresh_text(w, wa_id=f"54911555{(first + k) % 7:05d}")["entry"][0]["changes"][0]["value"]["messages"][0]
            for k, w in enumerate(wamids[first : first + 10])
        ]
        store_event(encode(batch))

    handled: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait()
            total = 0
            while True:  # until the queue is empty, not until this thread once found nothing
                total += processor.process_pending(limit=5)
                if (
                    count(InboundItem, InboundItem.state == "pending") == 0
                    and count(WebhookEvent, WebhookEvent.state == "pending") == 0
                ):
                    break
            handled.append(total)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(handled) == 160  # every update (80 + 80 redelivered) applied exactly once between the two
    assert all(h > 0 for h in handled), handled  # and both really worked
    assert sorted(bot_calls.wamids) == sorted(wamids)  # one bot turn per message
    assert count(Message) == 80
    assert count(WebhookEvent, WebhookEvent.state != "done") == 0


async def test_a_processor_in_another_process_is_woken_by_notify(pg_db: Settings, bot_calls: BotCalls) -> None:
    original = processor._loop._poll_seconds
    processor._loop._poll_seconds = 60  # only NOTIFY can wake it within the test's patience
    processor.start()
    try:
        await asyncio.sleep(0.5)  # let LISTEN connect
        # Stored without the in-process wake-up, as another replica would store it.
        await asyncio.to_thread(store_event, encode(fresh_text("wamid.NOTIFY1")))
        for _ in range(100):
            if bot_calls.calls:
                break
            await asyncio.sleep(0.05)
    finally:
        await processor.stop()
        processor._loop._poll_seconds = original
    assert bot_calls.wamids == ["wamid.NOTIFY1"]


async def test_the_running_processor_handles_a_webhook_right_after_the_ack(
    any_db: Settings, bot_calls: BotCalls
) -> None:
    processor.start()
    try:
        body = encode(fresh_text("wamid.INPROC1"))
        transport = httpx.ASGITransport(app=webhook_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            assert (await http.post("/webhook", content=body, headers=signed_headers(any_db, body))).status_code == 200
        for _ in range(100):
            if bot_calls.calls:
                break
            await asyncio.sleep(0.02)
    finally:
        await processor.stop()
    assert bot_calls.wamids == ["wamid.INPROC1"]


def test_processing_steps_aside_for_acks_but_never_stops(
    sqlite_db: Settings, bot_calls: BotCalls, monkeypatch: Any
) -> None:
    from s7.whatsapp import webhook

    for i in range(3):
        store_event(encode(fresh_text(f"wamid.BUSY{i}")))
    monkeypatch.setattr(webhook, "_in_flight", 1)  # a webhook is being answered, and stays so
    began = time.monotonic()
    assert processor.process_pending() == 3
    elapsed = time.monotonic() - began
    assert elapsed >= processor.ACK_PRIORITY_MAX_WAITS * 0.001  # it did wait between batches
    assert len(bot_calls.calls) == 3
