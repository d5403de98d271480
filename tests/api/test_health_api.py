"""GET /api/health and the repair routes: admin only (401 without a token, 403 for a seller)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from s7.db import session_scope
from s7.domain.models import AuditEvent, InboundItem, OutboxItem
from tests.api.test_users_api import bearer
from tests.conftest import FakeClock
from tests.domain.reads.test_health import UNDELIVERABLE, quiet_background_work, seed_trouble
from tests.domain.test_users import make_user
from tests.whatsapp.conftest import bot_calls as _stub_bot  # noqa: F401 - the bot stand-in, as a fixture


async def test_health_is_for_admins_only(pg_db, user) -> None:
    make_user("ana@tienda.com")
    client: httpx.AsyncClient = user.http_client
    seller = await bearer(client, "ana@tienda.com")
    assert (await client.get("/api/health")).status_code == 401
    denied = await client.get("/api/health", headers=seller)
    assert denied.status_code == 403 and denied.json()["detail"] == "Solo para administradores"
    for path in ("/api/health/items/1/retry", "/api/health/events/1/resplit", "/api/health/sends/1/retry"):
        assert (await client.post(path, headers=seller)).status_code == 403
    assert (await client.get("/api/health/events/1/body", headers=seller)).status_code == 403


@pytest.mark.usefixtures("_stub_bot")
async def test_admin_sees_the_figures_and_repairs(
    pg_db,
    user,
    fake_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await quiet_background_work()
    seeded = seed_trouble(monkeypatch, fake_clock)
    caplog.clear()  # the parked item's attempts were logged as errors, on purpose
    admin_id = make_user("jefa@tienda.com", role="admin")
    client: httpx.AsyncClient = user.http_client
    admin = await bearer(client, "jefa@tienda.com")

    figures = (await client.get("/api/health", headers=admin)).json()
    assert figures["parked"]["count"] == 1 and "poison" in figures["parked"]["first_error"]
    assert figures["parked"]["recent"][0]["id"] == seeded["item"]
    assert figures["failed_events"]["count"] == 1
    assert figures["failed_sends"]["recent"][0]["reason"] == UNDELIVERABLE
    assert figures["backlog"]["items_pending"] == 0

    body = await client.get(f"/api/health/events/{seeded['event']}/body", headers=admin)
    assert body.status_code == 200 and '"history"' in body.json()["body"]

    retried = await client.post(f"/api/health/items/{seeded['item']}/retry", headers=admin)
    assert retried.status_code == 200 and retried.json()["state"] == "pending"
    again = await client.post(f"/api/health/items/{seeded['item']}/retry", headers=admin)
    assert again.status_code == 409  # no longer parked

    sent = await client.post(f"/api/health/sends/{seeded['send']}/retry", headers=admin)
    assert sent.status_code == 200 and sent.json()["state"] == "pending"
    resplit = await client.post(f"/api/health/events/{seeded['event']}/resplit", headers=admin)
    assert resplit.status_code == 200 and resplit.json()["state"] == "pending"
    assert (await client.post("/api/health/sends/99999/retry", headers=admin)).status_code == 404

    with session_scope() as session:
        assert session.get(InboundItem, seeded["item"]).state == "pending"
        assert session.get(OutboxItem, seeded["send"]).state == "pending"
        actors = set(session.scalars(select(AuditEvent.actor_user_id).where(AuditEvent.actor == "admin")))
    assert actors == {admin_id}
