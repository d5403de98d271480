"""/api/me/availability: the seller's switch, and whether a panel tab makes it effective."""

from __future__ import annotations

import httpx

from s7.db import session_scope
from s7.domain.chats import assignment
from tests.api.test_conversations_api import _team


async def test_availability_switch_over_http(pg_db, user) -> None:
    team = _team()
    client: httpx.AsyncClient = user.http_client
    ana = team["ana"]["auth"]
    start = (await client.get("/api/me/availability", headers=ana)).json()
    assert start["available"] is True and start["connected"] is False and start["effective"] is False
    with session_scope() as session:
        assignment.panel_seen(session, team["ana"]["id"])
    away = await client.post("/api/me/availability", headers=ana, json={"available": False})
    assert away.json() == {**away.json(), "available": False, "connected": True, "effective": False}
    back = await client.post("/api/me/availability", headers=ana, json={"available": True})
    assert back.json()["effective"] is True
    assert (await client.post("/api/me/availability", headers=ana, json={"available": "quizás"})).status_code == 422
