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


async def test_reading_an_auto_assigned_chat_over_the_api_keeps_it(pg_db, user) -> None:
    from s7.config import get_settings, reset_settings
    from s7.domain.chats import conversations
    from tests.chat_factory import make_chat

    team = _team()
    reset_settings(get_settings().model_copy(update={"AUTO_ASSIGN": True}))
    with session_scope() as session:
        assignment.panel_seen(session, team["ana"]["id"])
        chat = make_chat(session, text="me lo llevo")
        conversations.add_intent(session, chat, 100, reason="compra")
        assert assignment.auto_assign(session, chat, reason="lead caliente").id == team["ana"]["id"]
        chat_id = chat.id
    client: httpx.AsyncClient = user.http_client
    read = await client.post(f"/api/conversations/{chat_id}/read", headers=team["ana"]["auth"])
    assert read.status_code == 200
    with session_scope() as session:
        assert conversations.get(session, chat_id).auto_assigned_at is None  # opened: no reassignment
