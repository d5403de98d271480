"""/api: a note that @mentions, and transferring a chat with a note."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from s7.db import session_scope
from s7.domain.models import AuditEvent
from tests.api.test_conversations_api import _team
from tests.chat_factory import make_chat


async def test_mention_and_transfer_over_http(pg_db, user) -> None:
    team = _team()
    client: httpx.AsyncClient = user.http_client
    with session_scope() as session:
        chat_id = make_chat(session).id
    ana = team["ana"]["auth"]
    note = await client.post(f"/api/conversations/{chat_id}/notes", headers=ana, json={"text": "@beto mirá esto"})
    assert note.status_code == 201
    with session_scope() as session:
        assert session.scalar(select(AuditEvent.detail["mentioned"].as_integer())) == team["beto"]["id"]
    await client.post(f"/api/conversations/{chat_id}/takeover", headers=ana)
    moved = await client.post(
        f"/api/conversations/{chat_id}/transfer", headers=ana, json={"user_id": team["beto"]["id"], "note": "es tuya"}
    )
    assert moved.status_code == 200 and moved.json()["assigned_to"] == team["beto"]["id"]
    refused = await client.post(
        f"/api/conversations/{chat_id}/transfer", headers=ana, json={"user_id": team["admin"]["id"]}
    )
    assert refused.status_code == 409  # Beto holds it now
    notes = (await client.get(f"/api/conversations/{chat_id}/notes", headers=ana)).json()
    assert notes[-1]["text"].endswith("Beto: es tuya")
