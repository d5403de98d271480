"""Two real app processes with jobs on, one Postgres: every effect happens exactly once, and an
event published in one process reaches a listener in another (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select

from s7 import realtime
from s7.auth import issue_token
from s7.config import get_settings, reset_settings
from s7.db import migrate, reset_engine, session_scope
from s7.domain.chats import conversations, followups
from s7.domain.models import AuditEvent, Conversation, Message, User
from tests.chat_factory import make_chat, make_user
from tests.conftest import ServerProcess, create_pg_database, drop_pg_database, make_settings, server_env
from tests.jobs.http_sink import HttpSink

CHATS = 8


@dataclass
class Cluster:
    url: str
    replicas: list[ServerProcess]
    n8n: HttpSink


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    url = create_pg_database("s7_replicas")
    settings = make_settings(DATABASE_URL=url)
    reset_settings(settings)
    reset_engine()
    migrate()
    with session_scope() as session:  # users exist: the sandbox start-up does not seed
        make_user(session, "Ana")
        make_user(session, "Beto")
    reset_engine()
    reset_settings(None)
    sink = HttpSink().__enter__()
    env = server_env(
        settings,
        ENABLE_JOBS="true",
        JOBS_INTERVAL_SECONDS="0.3",
        HOT_LEAD_UNCLAIMED_MINUTES="0.02",
        HUMAN_INACTIVITY_MINUTES="0.02",
        N8N_WEBHOOK_URL=sink.url,
    )
    replicas = [ServerProcess(env), ServerProcess(env)]
    try:
        for replica in replicas:
            replica.wait_ready()
        yield Cluster(url, replicas, sink)
    finally:
        for replica in replicas:
            replica.stop()
        sink.__exit__()
        drop_pg_database(url)


@pytest.fixture
def on_cluster(cluster: Cluster) -> Iterator[Cluster]:
    """This test process reads and writes the replicas' database."""
    reset_settings(make_settings(DATABASE_URL=cluster.url))
    reset_engine()
    yield cluster
    reset_engine()
    reset_settings(None)


def _count(statement) -> int:  # type: ignore[no-untyped-def]
    with session_scope() as session:
        return session.scalar(statement) or 0


def test_each_job_effect_happens_exactly_once_across_two_replicas(on_cluster: Cluster) -> None:
    hot, taken = [], []
    with session_scope() as session:
        ana = session.scalar(select(User).where(User.name == "Ana"))
        for i in range(CHATS):
            chat = make_chat(session, wa_id=f"54911000{i:05d}")
            conversations.add_intent(session, chat, 10, reason="llevo")  # HOT, the bot waits for a seller
            hot.append(chat.id)
            chat = make_chat(session, wa_id=f"54922000{i:05d}")
            conversations.takeover(session, chat.id, ana)  # a seller who then goes quiet
            taken.append(chat.id)

    deadline = time.monotonic() + 30
    while True:
        lost = _count(select(func.count()).where(Conversation.id.in_(hot), Conversation.lead == "HOT_LOST"))
        back = _count(select(func.count()).where(Conversation.id.in_(taken), Conversation.mode == "BOT_ON"))
        if lost == back == CHATS:
            break
        assert time.monotonic() < deadline, f"after 30 s: {lost} HOT_LOST, {back} back to the bot"
        time.sleep(0.2)
    time.sleep(1.5)  # several more rounds on both replicas: nothing may happen twice

    with session_scope() as session:
        for chat_id in hot:
            said = session.scalars(
                select(Message.text).where(Message.conversation_id == chat_id, Message.author == "bot")
            )
            assert list(said) == [followups.phrase("hot_lost")], chat_id
        releases = session.execute(
            select(AuditEvent.conversation_id, func.count())
            .where(AuditEvent.conversation_id.in_(taken), AuditEvent.action == "release")
            .group_by(AuditEvent.conversation_id)
        ).all()
        assert sorted(releases) == sorted((chat_id, 1) for chat_id in taken)
    hot_lost_posts = [p["json"] for p in on_cluster.n8n.wait_for(CHATS) if p["json"]["event"] == "hot_lost"]
    assert sorted(p["conversation"]["id"] for p in hot_lost_posts) == sorted(hot)
    for replica in on_cluster.replicas:
        log = replica.output()
        assert "jobs on:" in log and "Traceback" not in log, log[-3000:]


async def test_an_event_from_one_process_reaches_a_listener_in_another(on_cluster: Cluster) -> None:
    with session_scope() as session:
        beto = session.scalar(select(User).where(User.name == "Beto"))
        chat_id = make_chat(session, wa_id="5493300000001").id
        token = issue_token(beto)
    received: list[realtime.Event] = []
    got_it = asyncio.Event()

    def listener(event: realtime.Event) -> None:
        if event.kind in ("conversation", "note") and event.get("conversation_id") == chat_id:
            received.append(event)
            if {e.kind for e in received} == {"conversation", "note"}:
                got_it.set()

    stop, ready = asyncio.Event(), asyncio.Event()
    conninfo = get_settings().database_url.replace("postgresql+psycopg://", "postgresql://")
    unsubscribe = realtime.subscribe(listener)
    bridge = asyncio.create_task(realtime.pg_bridge(conninfo, stop, ready=ready))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(timeout=10) as client:
            taken = await client.post(
                f"{on_cluster.replicas[0].url}/api/conversations/{chat_id}/takeover", headers=auth
            )
            assert taken.status_code == 200, taken.text
            noted = await client.post(
                f"{on_cluster.replicas[1].url}/api/conversations/{chat_id}/notes", headers=auth, json={"text": "ok"}
            )
            assert noted.status_code == 201, noted.text
        await asyncio.wait_for(got_it.wait(), 10)
    finally:
        stop.set()
        await asyncio.wait_for(bridge, 5)
        unsubscribe()
    note_event = next(e for e in received if e.kind == "note")
    assert note_event.get("note_id") == noted.json()["id"]
