"""Hostile bodies through the real server: signed, well-formed JSON of every odd shape.

Never a 5xx, never a crash in the processor, never an event left failed: every body Meta
could send (or someone holding the app secret) is stored once and processed to the end.
"""

import json
import os
import time

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from s7.db import session_scope
from s7.domain.models import InboundItem, WebhookEvent
from s7.whatsapp import processor
from s7.whatsapp.signature import sign
from tests.conftest import ServerProcess, server_env
from tests.hostile.strategies import webhook_body

EXAMPLES = int(os.environ.get("S7_HOSTILE_EXAMPLES", "2000"))


def test_signed_hostile_bodies_never_5xx_and_all_get_processed(pg_db) -> None:
    server = ServerProcess(server_env(pg_db))
    statuses: dict[int, int] = {}
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=10) as client:

            @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            @given(webhook_body(), st.booleans())
            def post(body: object, ascii_only: bool) -> None:
                raw = json.dumps(body, ensure_ascii=ascii_only).encode("utf-8")
                response = client.post(
                    "/webhook",
                    content=raw,
                    headers={
                        "Content-Type": "application/json",
                        "X-Hub-Signature-256": sign(pg_db.META_APP_SECRET, raw),
                    },
                )
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                assert response.status_code == 200, (response.status_code, response.text, raw[:500])

            post()
        # Acks outpace processing, so a backlog is left when posting ends; and a status for a
        # wamid nobody sent waits out every retry delay before it is settled: allow for both.
        deadline = time.monotonic() + 120 + sum(delay.total_seconds() for delay in processor.RETRY_DELAYS)
        while time.monotonic() < deadline:
            with session_scope() as session:
                pending = session.scalar(select(func.count()).where(WebhookEvent.state == "pending"))
                pending += session.scalar(select(func.count()).where(InboundItem.state == "pending")) or 0
            if pending == 0:
                break
            time.sleep(0.5)
        with session_scope() as session:
            states = dict(session.execute(select(WebhookEvent.state, func.count()).group_by(WebhookEvent.state)).all())
            failed = session.scalars(select(WebhookEvent.error).where(WebhookEvent.state == "failed").limit(5)).all()
            failed += session.scalars(select(InboundItem.error).where(InboundItem.state != "done").limit(5)).all()
        assert states.get("pending", 0) == 0, states
        assert pending == 0, f"{pending} items still pending"
        assert not failed, failed
        output = server.output()
        assert "Traceback" not in output, output[-6000:]
        assert statuses == {200: sum(statuses.values())}
    finally:
        server.stop()
