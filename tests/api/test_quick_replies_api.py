"""/api/quick-replies: create, list (filled for a chat), edit, delete, who may touch what."""

from __future__ import annotations

import httpx

from s7.db import session_scope
from tests.api.test_conversations_api import _team
from tests.chat_factory import make_chat


async def test_quick_replies_over_http(pg_db, user) -> None:
    team = _team()
    client: httpx.AsyncClient = user.http_client
    ana, admin = team["ana"]["auth"], team["admin"]["auth"]
    with session_scope() as session:
        chat_id = make_chat(session, name="Juan Pérez").id
    made = await client.post("/api/quick-replies", headers=ana, json={"shortcut": "hola", "text": "Hola {nombre}!"})
    assert made.status_code == 201 and made.json()["personal"] is True
    refused = await client.post("/api/quick-replies", headers=ana, json={"shortcut": "t", "text": "x", "team": True})
    assert refused.status_code == 422
    shared = await client.post(
        "/api/quick-replies", headers=admin, json={"shortcut": "precio", "text": "{producto}: {precio}", "team": True}
    )
    assert shared.status_code == 201 and shared.json()["personal"] is False
    listed = (await client.get(f"/api/quick-replies?conversation_id={chat_id}", headers=ana)).json()
    assert {r["shortcut"]: r["filled"] for r in listed} == {"hola": "Hola Juan!", "precio": ""}
    assert [r["shortcut"] for r in (await client.get("/api/quick-replies?q=pre", headers=ana)).json()] == ["precio"]
    not_hers = await client.put(
        f"/api/quick-replies/{shared.json()['id']}", headers=ana, json={"shortcut": "precio", "text": "x"}
    )
    assert not_hers.status_code == 422
    edited = await client.put(
        f"/api/quick-replies/{made.json()['id']}", headers=ana, json={"shortcut": "hola", "text": "Buenas {nombre}"}
    )
    assert edited.json()["text"] == "Buenas {nombre}"
    beto_deletes = await client.delete(f"/api/quick-replies/{made.json()['id']}", headers=team["beto"]["auth"])
    assert beto_deletes.status_code == 404
    assert (await client.delete(f"/api/quick-replies/{made.json()['id']}", headers=ana)).status_code == 204
