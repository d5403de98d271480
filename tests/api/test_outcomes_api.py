"""/api: closing an episode (outcome), the conversation's `outcome`, lost reasons, reminders."""

from __future__ import annotations

import httpx

from s7.db import session_scope
from s7.domain.chats import conversations
from tests.api.test_conversations_api import _team
from tests.chat_factory import customer_says, make_chat


async def test_outcome_closes_the_episode_and_shows_on_the_conversation(pg_db, user) -> None:
    team = _team()
    client: httpx.AsyncClient = user.http_client
    with session_scope() as session:
        chat = make_chat(session, text="me lo llevo")
        conversations.add_intent(session, chat, 100, reason="compra")
        chat_id = chat.id
    ana = team["ana"]["auth"]
    before = (await client.get(f"/api/conversations/{chat_id}", headers=ana)).json()
    assert before["outcome"] is None and before["lead"] == "HOT"

    missing = await client.post(f"/api/conversations/{chat_id}/outcome", headers=ana, json={"result": "won"})
    assert missing.status_code == 422 and "monto" in missing.json()["detail"]
    sold = await client.post(
        f"/api/conversations/{chat_id}/outcome", headers=ana, json={"result": "won", "amount": "250000"}
    )
    assert sold.status_code == 201, sold.text
    body = sold.json()
    assert body["outcome"]["amount"] == "250000.00" and body["outcome"]["source"] == "bot"
    assert body["conversation"]["outcome"] == "won" and body["conversation"]["lead"] == "NONE"
    listed = (await client.get("/api/conversations", headers=ana)).json()["items"]
    assert listed[0]["outcome"] == "won"

    with session_scope() as session:
        customer_says(session, conversations.get(session, chat_id), "hola de nuevo")
    again = (await client.get(f"/api/conversations/{chat_id}", headers=ana)).json()
    assert again["outcome"] is None
    lost = await client.post(
        f"/api/conversations/{chat_id}/outcome", headers=ana, json={"result": "lost", "reason": "sin stock"}
    )
    assert lost.status_code == 201 and lost.json()["outcome"]["reason"] == "Sin stock"
    history = (await client.get(f"/api/conversations/{chat_id}/outcomes", headers=ana)).json()
    assert [o["result"] for o in history] == ["lost", "won"]


async def test_lost_reasons_are_edited_by_admins_only(pg_db, user) -> None:
    team = _team()
    client: httpx.AsyncClient = user.http_client
    assert "Precio" in (await client.get("/api/lost-reasons", headers=team["ana"]["auth"])).json()
    refused = await client.put("/api/lost-reasons", headers=team["ana"]["auth"], json={"reasons": ["Caro"]})
    assert refused.status_code == 403
    saved = await client.put("/api/lost-reasons", headers=team["admin"]["auth"], json={"reasons": ["Caro", "Lento"]})
    assert saved.json() == ["Caro", "Lento"]
    assert (await client.get("/api/lost-reasons", headers=team["ana"]["auth"])).json() == ["Caro", "Lento"]


async def test_a_reminder_is_set_in_words_or_as_a_time(pg_db, user) -> None:
    team = _team()
    client: httpx.AsyncClient = user.http_client
    with session_scope() as session:
        chat_id = make_chat(session).id
    auth = team["beto"]["auth"]
    words = await client.post(f"/api/conversations/{chat_id}/reminders", headers=auth, json={"when": "en 2 horas"})
    assert words.status_code == 201 and words.json()["user_id"] == team["beto"]["id"]
    bad = await client.post(f"/api/conversations/{chat_id}/reminders", headers=auth, json={"when": "algún día"})
    assert bad.status_code == 422 and "mañana 10:00" in bad.json()["detail"]
