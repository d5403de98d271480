"""`s7 serve` on Postgres: the inbound processor runs in a child process beside the web process,
restarted if it dies, stopped with it on SIGTERM (real processes, real Postgres)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from s7.config import Settings
from s7.db import session_scope
from s7.domain.models import Message
from s7.whatsapp.ack_gauge import ENV as ACK_GAUGE_ENV
from s7.whatsapp.ack_gauge import AckGauge
from tests.conftest import ServerProcess, server_env
from tests.whatsapp.conftest import encode, signed_headers
from tests.whatsapp.test_ordered_core import text_from

CHILD = "s7.whatsapp.processor_process"


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(p) for p in text)
    return found


def processor_children(pid: int) -> list[int]:
    result = []
    for child in children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except FileNotFoundError:
            continue
        if CHILD in cmdline:
            result.append(child)
    return result


def wait_for(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def bot_answered(wa_wamid: str) -> bool:
    with session_scope() as session:
        inbound = session.scalar(select(Message).where(Message.wa_message_id == wa_wamid))
        if inbound is None:
            return False
        return (
            session.scalar(
                select(Message.id).where(Message.conversation_id == inbound.conversation_id, Message.author == "bot")
            )
            is not None
        )


def post(server: ServerProcess, settings: Settings, wa_id: str, wamid: str) -> None:
    body = encode(text_from(wa_id, wamid, "hola! tenés zapatillas?"))
    response = httpx.post(server.url + "/webhook", content=body, headers=signed_headers(settings, body), timeout=10)
    assert response.status_code == 200


def test_the_processor_runs_beside_the_web_process_is_restarted_and_dies_with_it(pg_db: Settings) -> None:
    server = ServerProcess(server_env(pg_db))
    try:
        server.wait_ready(timeout=90)
        wait_for(lambda: len(processor_children(server.process.pid)) == 1)
        [first] = processor_children(server.process.pid)
        post(server, pg_db, "5491155557001", "wamid.PROC1")
        wait_for(lambda: bot_answered("wamid.PROC1"))
        # The child sees how many webhooks the web process received (it steps aside in a burst).
        gauge = AckGauge.attach(str(ack_gauge_path(first)))
        assert gauge.get() == 1  # one customer message, in one signed webhook

        os.kill(first, signal.SIGKILL)  # the processor dies: the web process starts another
        wait_for(lambda: processor_children(server.process.pid) not in ([], [first]))
        post(server, pg_db, "5491155557002", "wamid.PROC2")
        wait_for(lambda: bot_answered("wamid.PROC2"))
        [second] = processor_children(server.process.pid)
        assert AckGauge.attach(str(ack_gauge_path(second))).get() == 2  # the same gauge, still counting
        # The web process is killed outright (OOM killer, kill -9): no orphan keeps working.
        server.process.kill()
        server.process.wait(timeout=10)
        wait_for(lambda: not _alive(second), timeout=10)
    finally:
        server.stop()
    assert "Traceback" not in server.output()


def ack_gauge_path(pid: int) -> Path:
    """The gauge the child inherited, as a path this test can open."""
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    [fd] = [item.split(b"=", 1)[1].decode() for item in environ if item.startswith(ACK_GAUGE_ENV.encode() + b"=")]
    return Path(f"/proc/{pid}/fd/{fd}")


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def test_a_processor_still_starting_when_the_web_process_is_killed_leaves_no_orphan(pg_db: Settings) -> None:
    """The child may still be importing when its parent dies: it must notice, not adopt init as
    its parent and keep applying lanes."""
    server = ServerProcess(server_env(pg_db))
    try:
        server.wait_ready(timeout=90)
        wait_for(lambda: len(processor_children(server.process.pid)) == 1)
        [child] = processor_children(server.process.pid)
        server.process.kill()
        server.process.wait(timeout=10)
        wait_for(lambda: not _alive(child), timeout=15)
    finally:
        server.stop()
