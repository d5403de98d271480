"""/api conversations name the customer the 2026 way: `contact {phone, bsuid, username}`, and
`wa_id` is null when WhatsApp never told us the phone; search finds @usernames."""

from __future__ import annotations

import httpx

from s7.db import session_scope
from s7.domain.chats import conversations
from tests.api.test_conversations_api import _team


async def test_a_username_only_customer_has_no_wa_id_and_a_contact(pg_db, user) -> None:
    team = _team()
    with session_scope() as session:
        by_phone = conversations.ensure_conversation(session, wa_id="5491155550001", user_id="AR.1")
        by_name = conversations.ensure_conversation(session, user_id="AR.2", username="sofi.gomez")
        ids = by_phone.id, by_name.id
    client: httpx.AsyncClient = user.http_client
    listed = (await client.get("/api/conversations", headers=team["ana"]["auth"])).json()["items"]
    contacts = {item["id"]: (item["wa_id"], item["contact"]) for item in listed}
    assert contacts[ids[0]] == ("5491155550001", {"phone": "5491155550001", "bsuid": "AR.1", "username": None})
    assert contacts[ids[1]] == (None, {"phone": None, "bsuid": "AR.2", "username": "sofi.gomez"})
    one = (await client.get(f"/api/conversations/{ids[1]}", headers=team["ana"]["auth"])).json()
    assert one["contact"]["username"] == "sofi.gomez" and one["wa_id"] is None
    found = (await client.get("/api/conversations", params={"q": "@sofi"}, headers=team["ana"]["auth"])).json()
    assert [item["id"] for item in found["items"]] == [ids[1]]
