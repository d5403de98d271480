"""The scheduler in a running loop, and `s7 worker` as a real process (SIGTERM → clean exit)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from s7 import jobs
from s7.config import reset_settings
from s7.db import session_scope
from s7.domain.chats import conversations
from s7.domain.models import Conversation, Message, OutboxItem
from tests.chat_factory import make_chat, make_user
from tests.conftest import make_settings, server_env

ROOT = Path(__file__).resolve().parents[2]


def _taken_chat() -> int:
    with session_scope() as session:
        seller = make_user(session, "Ana")
        chat = make_chat(session)
        conversations.takeover(session, chat.id, seller)
        return chat.id


def _mode(chat_id: int) -> str:
    with session_scope() as session:
        return session.get(Conversation, chat_id).mode


async def test_the_scheduler_runs_the_jobs_inside_the_loop(pg_db) -> None:
    reset_settings(
        make_settings(
            DATABASE_URL=pg_db.DATABASE_URL, ENABLE_JOBS=True, JOBS_INTERVAL_SECONDS=0.1, HUMAN_INACTIVITY_MINUTES=0.005
        )
    )
    chat_id = await asyncio.to_thread(_taken_chat)
    jobs.start()
    try:
        assert jobs.running()
        deadline = time.monotonic() + 8
        while await asyncio.to_thread(_mode, chat_id) != "BOT_ON":
            assert time.monotonic() < deadline, "the inactivity job never ran"
            await asyncio.sleep(0.1)
    finally:
        await jobs.stop()
    assert not jobs.running()


async def test_jobs_stay_off_when_disabled_unless_forced(pg_db) -> None:
    jobs.start()  # make_settings: ENABLE_JOBS=false
    assert not jobs.running()
    jobs.start(force=True)  # what `s7 worker` does
    try:
        assert jobs.running()
    finally:
        await jobs.stop()


def test_worker_process_runs_jobs_and_outbox_and_stops_on_sigterm(pg_db) -> None:
    with session_scope() as session:
        make_user(session, "Ana")
        chat = make_chat(session)
        conversations.add_intent(session, chat, 10, reason="llevo")  # HOT, waiting for a seller
        chat_id = chat.id
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NICEGUI", "PYTEST"))}
    env.update(server_env(pg_db, JOBS_INTERVAL_SECONDS="0.2", HOT_LEAD_UNCLAIMED_MINUTES="0.01"))
    worker = subprocess.Popen(
        [sys.executable, "-m", "s7.cli", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with session_scope() as session:
                sent = session.scalars(select(OutboxItem.state).where(OutboxItem.conversation_id == chat_id)).all()
            if sent == ["sent"]:
                break
            assert worker.poll() is None, worker.communicate()[0]
            assert time.monotonic() < deadline, f"worker did nothing: {sent}"
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=15)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output
    assert "worker listo" in output and "Traceback" not in output, output
    with session_scope() as session:
        assert session.get(Conversation, chat_id).lead == "HOT_LOST"
        bot = session.scalars(select(Message).where(Message.conversation_id == chat_id, Message.author == "bot")).all()
        assert len(bot) == 1 and bot[0].status == "sent"  # the worker's outbox sent it (sandbox)
