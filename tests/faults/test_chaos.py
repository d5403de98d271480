"""Faults under load, on real processes: kill -9 mid-load, Postgres restarted mid-load.

Promises: every webhook that got a 200 is stored once; every reply the bot queued is sent
(a row leased by the killed process is sent again only if it was in flight at the kill);
during a database outage webhooks get 5xx (Meta retries), never a 200 for something unstored.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from s7.config import reset_settings
from s7.db import reset_engine, session_scope
from s7.domain.models import InboundItem, Message, OutboxItem, WebhookEvent
from s7.whatsapp.signature import sign
from tests.conftest import ServerProcess, make_settings, server_env
from tests.fakes.graph_server import FakeGraph
from tests.faults.pgcluster import PrivateCluster

PHONE_NUMBER_ID = "106540352242922"
SECRET = "test-app-secret"


def text_webhook(index: int, text: str = "hola, busco zapatillas") -> tuple[str, bytes]:
    wamid = f"wamid.CHAOS{index:06d}"
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "5491100000000", "phone_number_id": PHONE_NUMBER_ID},
                            "contacts": [{"profile": {"name": f"Cliente {index}"}, "wa_id": f"54911{index:08d}"}],
                            "messages": [
                                {
                                    "from": f"54911{index:08d}",
                                    "id": wamid,
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return wamid, json.dumps(body).encode()


def post(client: httpx.Client, url: str, raw: bytes) -> int:
    try:
        return client.post(
            url + "/webhook",
            content=raw,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(SECRET, raw)},
        ).status_code
    except httpx.HTTPError:
        return 0  # connection refused / reset: not acknowledged, Meta would retry


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def drained() -> bool:
    with session_scope() as session:
        pending_events = session.scalar(select(func.count()).where(WebhookEvent.state == "pending"))
        pending_events += session.scalar(select(func.count()).where(InboundItem.state == "pending")) or 0
        pending_sends = session.scalar(select(func.count()).where(OutboxItem.state.in_(("pending", "sending"))))
    return pending_events == 0 and pending_sends == 0


def test_kill_9_mid_load_then_restart_loses_and_duplicates_nothing(pg_db) -> None:
    total = 120
    acked: set[str] = set()
    with FakeGraph(token="chaos-token", phone_number_id=PHONE_NUMBER_ID) as graph:
        env = server_env(
            pg_db,
            WHATSAPP_TOKEN="chaos-token",
            WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
            META_GRAPH_BASE_URL=graph.base_url,
            OUTBOX_LEASE_SECONDS="3",
        )
        first = ServerProcess(env)
        first.wait_ready()
        bodies = [text_webhook(i) for i in range(total)]
        with httpx.Client(timeout=5) as client:
            for index, (wamid, raw) in enumerate(bodies):
                if index == total // 2:
                    first.kill()  # kill -9: no shutdown hooks, leases and queues left as they are
                    with session_scope() as session:
                        in_flight = session.scalar(select(func.count()).where(OutboxItem.state == "sending"))
                    second = ServerProcess(env)
                    second.wait_ready()
                url = first.url if index < total // 2 else second.url
                if post(client, url, raw) == 200:
                    acked.add(wamid)
            # Meta retries whatever was not acknowledged; the restarted server takes it.
            for wamid, raw in bodies:
                if wamid not in acked and post(client, second.url, raw) == 200:
                    acked.add(wamid)
        try:
            assert len(acked) == total
            wait_until(drained, 60, "events processed and replies sent")
            with session_scope() as session:
                stored = Counter(session.scalars(select(Message.wa_message_id).where(Message.direction == "in")).all())
                bot_replies = session.scalar(select(func.count()).where(Message.author == "bot"))
                unsent = session.scalar(
                    select(func.count()).where(Message.author == "bot", Message.status.in_(("queued", "failed")))
                )
            assert set(stored) == acked and max(stored.values()) == 1
            assert bot_replies >= total and unsent == 0
            sends = Counter(
                (r["to"], json.dumps(r.get("text") or r.get("interactive"), sort_keys=True)) for r in graph.sends()
            )
            duplicates = sum(n - 1 for n in sends.values())
            assert duplicates <= in_flight, f"{duplicates} duplicate sends, {in_flight} rows were in flight"
            assert "Traceback" not in second.output()
        finally:
            second.stop()


@pytest.fixture
def private_pg() -> Any:
    cluster = PrivateCluster()
    cluster.start()
    yield cluster
    cluster.destroy()


def test_postgres_restart_mid_load_never_acks_unstored_and_recovers(private_pg: PrivateCluster) -> None:
    import psycopg

    with psycopg.connect(private_pg.url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE s7_outage")
    url = private_pg.url.rsplit("/", 1)[0] + "/s7_outage"
    settings = make_settings(DATABASE_URL=url)
    # A send whose "sent" bookkeeping hit the outage is retried after its lease: keep it short here.
    server = ServerProcess(server_env(settings, OUTBOX_LEASE_SECONDS="3"))
    acked: set[str] = set()
    refused_during_outage: list[int] = []
    outage = threading.Event()
    try:
        server.wait_ready()
        bodies = [text_webhook(i, "hola") for i in range(90)]
        with httpx.Client(timeout=10) as client:
            for index, (wamid, raw) in enumerate(bodies):
                if index == 30:
                    private_pg.stop("fast")
                    outage.set()
                if index == 60:
                    private_pg.start()
                    outage.clear()
                status = post(client, server.url, raw)
                if outage.is_set():
                    refused_during_outage.append(status)
                if status == 200:
                    acked.add(wamid)
            # Meta retries what was refused; the app must have reconnected by itself.
            for wamid, raw in bodies:
                if wamid not in acked:
                    for _ in range(20):
                        if post(client, server.url, raw) == 200:
                            acked.add(wamid)
                            break
                        time.sleep(0.5)
        assert refused_during_outage and all(s >= 500 or s == 0 for s in refused_during_outage), refused_during_outage
        assert len(acked) == len(bodies)
        reset_settings(settings)
        reset_engine()
        try:
            wait_until(drained, 60, "events processed after the outage")
        except AssertionError:
            print(server.output()[-8000:])
            raise
        with session_scope() as session:
            stored = Counter(session.scalars(select(Message.wa_message_id).where(Message.direction == "in")).all())
        assert set(stored) == acked and max(stored.values()) == 1
        assert httpx.get(server.url + "/readyz").status_code == 200
    finally:
        server.stop()
        reset_engine()
        reset_settings(None)
