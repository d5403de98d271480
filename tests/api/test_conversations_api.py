"""/api over HTTP on the real app: every route's auth and roles, conversations, catalog, throttling."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from nicegui import core
from sqlalchemy import func, select

from s7.api.deps import api_admin, api_user
from s7.auth import issue_token
from s7.db import session_scope
from s7.domain.chats import conversations, messages
from s7.domain.models import Message, OutboxItem, Product, User
from tests.chat_factory import make_chat, make_user

CONVERSATION_FIELDS = {
    "id",
    "wa_id",
    "name",
    "mode",
    "lead",
    "intent_score",
    "assigned_to",
    "unread",
    "last_message_at",
    "window_open",
}
MESSAGE_FIELDS = {
    "id",
    "wa_message_id",
    "direction",
    "author",
    "author_user_id",
    "type",
    "text",
    "options",
    "status",
    "error",
    "created_at",
}


def _team() -> dict[str, Any]:
    with session_scope() as session:
        people = {
            "ana": make_user(session, "Ana"),
            "beto": make_user(session, "Beto"),
            "admin": make_user(session, "Jefa", role="admin"),
        }
        return {k: {"id": u.id, "auth": {"Authorization": f"Bearer {issue_token(u)}"}} for k, u in people.items()}


# ---- every route: 401 without a token, 403 for a seller on admin routes ---------------------------


def _api_routes() -> list[tuple[str, str, bool]]:
    """(method, path, admin only) of every /api route the running app serves, read from the app
    itself, so a route added later is checked without editing this test."""
    found = []
    for route in core.app.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for ctx in contexts:
            path, dependant = getattr(ctx, "path", ""), getattr(ctx, "dependant", None)
            if not path.startswith("/api/") or dependant is None:
                continue
            calls = _dependency_calls(dependant)
            assert api_user in calls or path == "/api/auth/login", f"{path} has no Depends(api_user)"
            for method in sorted(ctx.methods - {"HEAD", "OPTIONS"}):
                found.append((method, path, api_admin in calls))
    return found


def _dependency_calls(dependant: Any) -> set[Any]:
    calls = set()
    for sub in dependant.dependencies:
        calls.add(sub.call)
        calls |= _dependency_calls(sub)
    return calls


async def test_every_api_route_needs_a_token_and_admin_routes_refuse_sellers(pg_db, user) -> None:
    team = _team()
    client: httpx.AsyncClient = user.http_client
    routes = _api_routes()
    paths = {(m, p) for m, p, _ in routes}
    for expected in [
        ("GET", "/api/conversations"),
        ("POST", "/api/conversations/{conversation_id}/takeover"),
        ("POST", "/api/catalog/import"),
        ("GET", "/api/catalog/search"),
    ]:
        assert expected in paths, f"{expected} missing: the route walk is broken"
    assert ("POST", "/api/catalog/import", True) in routes and ("GET", "/api/users", True) in routes
    checked = 0
    for method, path, admin_only in routes:
        if path == "/api/auth/login":
            continue
        url = re.sub(r"\{[^}]+\}", "1", path)
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            response = await client.request(method, url, headers=headers, json={})
            assert response.status_code == 401, f"{method} {path} without a valid token → {response.status_code}"
        if path == "/api/auth/logout":
            continue  # with a valid token it would end the session the rest of the walk uses
        as_seller = await client.request(method, url, headers=team["ana"]["auth"], json={})
        if admin_only:
            assert as_seller.status_code == 403, f"{method} {path} as a seller → {as_seller.status_code}"
            as_admin = await client.request(method, url, headers=team["admin"]["auth"], json={})
            assert as_admin.status_code not in (401, 403), f"{method} {path} as admin → {as_admin.status_code}"
        else:
            assert as_seller.status_code not in (401, 403), f"{method} {path} as a seller → {as_seller.status_code}"
        checked += 1
    assert checked >= 14


async def test_login_is_throttled_per_address_across_accounts(pg_db, user) -> None:
    """One address trying many accounts hits its hard limit (counts failures only); see
    tests/security/test_login_throttle.py for the per-(account, address) limit."""
    from s7.clock import now
    from s7.domain import logins

    _team()
    for i in range(logins.ADDRESS_LIMIT):  # recorded as the login path records them, without argon2 each
        with session_scope() as session:
            logins.begin_attempt(session, f"nadie{i}@x.com", "127.0.0.1", now())
    client: httpx.AsyncClient = user.http_client
    blocked = await client.post("/api/auth/login", json={"email": "ana@tienda.com", "password": "clave-segura-1"})
    assert blocked.status_code == 429 and 800 < int(blocked.headers["Retry-After"]) <= 900
    assert "15 minutos" in blocked.json()["detail"]


# ---- conversations -------------------------------------------------------------------------------


def _chats(team: dict[str, Any]) -> dict[str, int]:
    """hot: HOT and waiting; ana: Ana's takeover; phone: Business-app takeover; lost: HOT_LOST."""
    with session_scope() as session:
        ana = session.get(User, team["ana"]["id"])
        hot = make_chat(session, "5491155550001", "Carla Gómez", "quiero las nike, ¿tienen cuotas?")
        conversations.add_intent(session, hot, 10, reason="cuotas")
        mine = make_chat(session, "5491155550002", "Diego", "hola")
        conversations.takeover(session, mine.id, ana)
        phone = make_chat(session, "5491155550003", "Elena", "buenas")
        conversations.record_human_message(session, phone, source="business_app")
        lost = make_chat(session, "5491166660004", "Fede", "¿hacen envíos?")
        conversations.set_lead(session, lost, "HOT_LOST", actor="system")
        return {"hot": hot.id, "ana": mine.id, "phone": phone.id, "lost": lost.id}


async def test_list_filters_search_and_pages(pg_db, user) -> None:
    team = _team()
    chats = _chats(team)
    client: httpx.AsyncClient = user.http_client
    auth = team["ana"]["auth"]

    async def ids(**params: Any) -> list[int]:
        response = await client.get("/api/conversations", headers=auth, params=params)
        assert response.status_code == 200, response.text
        return sorted(item["id"] for item in response.json()["items"])

    everything = await client.get("/api/conversations", headers=auth)
    body = everything.json()
    assert body["total"] == 4 and body["limit"] == 50 and body["offset"] == 0
    assert set(body["items"][0]) >= CONVERSATION_FIELDS
    assert await ids(mode="HUMAN_TAKEOVER") == sorted([chats["ana"], chats["phone"]])
    assert await ids(lead="HOT") == [chats["hot"]]
    assert await ids(lead="hot,HOT_LOST") == sorted([chats["hot"], chats["lost"]])
    assert await ids(assigned_to="me") == [chats["ana"]] == await ids(mine="true")
    assert await ids(assigned_to=str(team["ana"]["id"])) == [chats["ana"]]
    assert (
        await ids(assigned_to="none")
        == await ids(unassigned="true")
        == sorted([chats["hot"], chats["phone"], chats["lost"]])
    )
    assert await ids(q="carla") == [chats["hot"]]
    assert await ids(q="+54 9 11 6666") == [chats["lost"]]  # phone digits
    assert await ids(q="envíos") == [chats["lost"]]  # message text
    assert await ids(q="100%_") == []  # LIKE wildcards are literal
    assert await ids(mode="BOT_ON", lead="HOT") == [chats["hot"]]
    first = await client.get("/api/conversations", headers=auth, params={"limit": 3})
    rest = await client.get("/api/conversations", headers=auth, params={"limit": 3, "offset": 3})
    assert len(first.json()["items"]) == 3 and len(rest.json()["items"]) == 1 and rest.json()["total"] == 4
    seen = {i["id"] for i in first.json()["items"]} | {i["id"] for i in rest.json()["items"]}
    assert seen == set(chats.values())

    for params, words in [
        ({"mode": "ROBOT"}, "BOT_ON"),
        ({"lead": "TIBIO"}, "HOT_LOST"),
        ({"assigned_to": "yo"}, "«me»"),
        ({"limit": 0}, ""),
    ]:
        bad = await client.get("/api/conversations", headers=auth, params=params)
        assert bad.status_code == 422 and words in json.dumps(bad.json(), ensure_ascii=False), (params, bad.text)


async def test_unread_is_the_callers_own(pg_db, user) -> None:
    team = _team()
    chats = _chats(team)
    client: httpx.AsyncClient = user.http_client
    url = f"/api/conversations/{chats['hot']}"
    assert (await client.get(url, headers=team["ana"]["auth"])).json()["unread"] == 1
    read = await client.post(f"{url}/read", headers=team["ana"]["auth"])
    assert read.status_code == 200 and read.json()["last_read_message_id"] > 0
    assert (await client.get(url, headers=team["ana"]["auth"])).json()["unread"] == 0
    assert (await client.get(url, headers=team["beto"]["auth"])).json()["unread"] == 1
    unread_for_beto = await client.get("/api/conversations", headers=team["beto"]["auth"], params={"unread": "true"})
    assert chats["hot"] in {i["id"] for i in unread_for_beto.json()["items"]}
    assert (await client.get("/api/conversations/999999", headers=team["ana"]["auth"])).status_code == 404
    for url in ("/api/conversations/8796093022207", "/api/conversations/0/read"):  # found by schemathesis: was a 500
        assert (
            await client.request("GET" if url[-1].isdigit() else "POST", url, headers=team["ana"]["auth"])
        ).status_code == 422
    huge = await client.post(
        f"/api/conversations/{chats['hot']}/assign", headers=team["admin"]["auth"], json={"user_id": 2**40}
    )
    assert huge.status_code == 422 and huge.json()["detail"] == "Ese usuario no existe o está desactivado"


async def test_seller_writes_takes_over_and_the_other_seller_gets_409(pg_db, user) -> None:
    team = _team()
    chats = _chats(team)
    client: httpx.AsyncClient = user.http_client
    url = f"/api/conversations/{chats['hot']}"

    sent = await client.post(
        f"{url}/messages", headers=team["beto"]["auth"], json={"text": "¡Hola Carla! Sí, 6 cuotas."}
    )
    assert sent.status_code == 201, sent.text
    message = sent.json()
    assert set(message) >= MESSAGE_FIELDS
    assert (message["direction"], message["author"], message["author_user_id"], message["status"]) == (
        "out",
        "seller",
        team["beto"]["id"],
        "queued",
    )
    conversation = (await client.get(url, headers=team["beto"]["auth"])).json()
    assert (conversation["mode"], conversation["assigned_to"], conversation["window_open"]) == (
        "HUMAN_TAKEOVER",
        team["beto"]["id"],
        True,
    )

    refused = await client.post(f"{url}/messages", headers=team["ana"]["auth"], json={"text": "yo también"})
    assert refused.status_code == 409 and refused.json()["detail"] == "La conversación la tiene Beto"
    assert refused.headers["X-Held-By"] == str(team["beto"]["id"])
    taken = await client.post(f"{url}/takeover", headers=team["ana"]["auth"])
    assert taken.status_code == 409 and "Beto" in taken.json()["detail"]

    page = await client.get(f"{url}/messages", headers=team["ana"]["auth"], params={"limit": 1})
    assert page.json()["has_more"] is True and page.json()["items"][0]["id"] == message["id"]
    older = await client.get(f"{url}/messages", headers=team["ana"]["auth"], params={"before_id": message["id"]})
    assert [m["author"] for m in older.json()["items"]] == ["customer"] and older.json()["has_more"] is False

    empty = await client.post(f"{url}/messages", headers=team["beto"]["auth"], json={"text": "  "})
    assert empty.status_code == 422 and empty.json()["detail"] == "El mensaje está vacío"
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 1


async def test_send_outside_the_24h_window_is_refused_visibly(pg_db, user) -> None:
    team = _team()
    with session_scope() as session:
        chat = conversations.ensure_conversation(session, wa_id="5491155550009", name="Vieja")
        chat_id = chat.id  # never wrote: no window at all
    client: httpx.AsyncClient = user.http_client
    refused = await client.post(
        f"/api/conversations/{chat_id}/messages", headers=team["ana"]["auth"], json={"text": "hola"}
    )
    assert refused.status_code == 409 and "ventana de 24 horas" in refused.json()["detail"]
    conversation = (await client.get(f"/api/conversations/{chat_id}", headers=team["ana"]["auth"])).json()
    assert conversation["window_open"] is False and conversation["mode"] == "BOT_ON"


async def test_takeover_release_assign_notes_and_audit(pg_db, user) -> None:
    team = _team()
    chats = _chats(team)
    client: httpx.AsyncClient = user.http_client
    url = f"/api/conversations/{chats['lost']}"
    ana, beto, admin = team["ana"], team["beto"], team["admin"]

    taken = await client.post(f"{url}/takeover", headers=beto["auth"])
    assert taken.status_code == 200
    assert (taken.json()["mode"], taken.json()["assigned_to"], taken.json()["lead"]) == (
        "HUMAN_TAKEOVER",
        beto["id"],
        "HOT",
    )
    assert (await client.post(f"{url}/release", headers=ana["auth"])).status_code == 409
    handed = await client.post(f"{url}/assign", headers=beto["auth"], json={"user_id": ana["id"]})
    assert handed.status_code == 200 and handed.json()["assigned_to"] == ana["id"]
    assert (await client.post(f"{url}/assign", headers=admin["auth"], json={"user_id": 999999})).status_code == 422
    assert (await client.post(f"{url}/assign", headers=admin["auth"], json={})).status_code == 422
    released = await client.post(f"{url}/release", headers=ana["auth"])
    assert released.status_code == 200 and released.json()["mode"] == "BOT_ON"

    note = await client.post(f"{url}/notes", headers=ana["auth"], json={"text": "Pasa el sábado a las 11"})
    assert note.status_code == 201 and note.json()["author_name"] == "Ana"
    assert (await client.post(f"{url}/notes", headers=ana["auth"], json={"text": ""})).status_code == 422
    notes = await client.get(f"{url}/notes", headers=beto["auth"])
    assert [n["text"] for n in notes.json()] == ["Pasa el sábado a las 11"]

    trail = (await client.get(f"{url}/audit", headers=beto["auth"])).json()
    assert [(e["action"], e["actor"], e["actor_user_id"]) for e in trail] == [
        ("lead", "system", None),  # → HOT_LOST
        ("takeover", "seller", beto["id"]),
        ("lead", "seller", beto["id"]),  # HOT_LOST cleared by the seller
        ("assign", "seller", beto["id"]),
        ("release", "seller", ana["id"]),
    ]


# ---- catalog ---------------------------------------------------------------------------------------

CATALOG = {
    "products": [
        {
            "sku": "ZAP-NK-AM90",
            "name": "Zapatillas Nike Air Max 90",
            "brand": "Nike",
            "price": "$ 189.999,50",
            "stock": 4,
            "popularity": 87,
        },
        {
            "sku": "ZAP-NK-P",
            "name": "Zapatillas Nike Pegasus",
            "brand": "Nike",
            "price": 150000,
            "stock": 0,
            "popularity": 99,
        },
        {"sku": "BUZ-AD-1", "name": "Buzo Adidas", "price": 70000, "stock": 2},
        {"sku": "", "name": "sin sku", "price": 1},
    ]
}


async def test_catalog_import_and_search(pg_db, user) -> None:
    team = _team()
    client: httpx.AsyncClient = user.http_client
    upload = {"file": ("catalogo.json", json.dumps(CATALOG).encode(), "application/json")}
    assert (await client.post("/api/catalog/import", headers=team["ana"]["auth"], files=upload)).status_code == 403
    imported = await client.post("/api/catalog/import", headers=team["admin"]["auth"], files=upload)
    assert imported.status_code == 200, imported.text
    report = imported.json()
    assert (report["created"], report["rejected_count"]) == (3, 1) and report["rejected"][0]["row"] == 4

    found = await client.get("/api/catalog/search", headers=team["ana"]["auth"], params={"q": "zapatillas nike"})
    assert found.status_code == 200
    assert [p["sku"] for p in found.json()["items"]][:2] == ["ZAP-NK-AM90", "ZAP-NK-P"]  # in stock first
    assert found.json()["items"][0]["price"] == 189999.5
    assert (await client.get("/api/catalog/search", headers=team["ana"]["auth"], params={"q": " "})).status_code == 422

    not_a_catalog = {"file": ("foto.json", b'{"hola": "mundo"}', "application/json")}
    refused = await client.post("/api/catalog/import", headers=team["admin"]["auth"], files=not_a_catalog)
    assert refused.status_code == 422 and "products" in refused.json()["detail"]  # says what is missing
    binary = {"file": ("foto.png", b"\x89PNG\r\n\x1a\n\x00\x00", "image/png")}
    assert (await client.post("/api/catalog/import", headers=team["admin"]["auth"], files=binary)).status_code == 422
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 3


async def test_catalog_import_refuses_a_file_over_the_limit(pg_db, user) -> None:
    from s7.config import reset_settings
    from tests.conftest import make_settings

    team = _team()
    # UPLOAD_MAX_MB is read per request: the same check, without uploading 20 MB.
    reset_settings(make_settings(DATABASE_URL=pg_db.DATABASE_URL, UPLOAD_MAX_MB=0.001))
    big = {"file": ("catalogo.json", json.dumps(CATALOG).encode() * 10, "application/json")}
    refused = await user.http_client.post("/api/catalog/import", headers=team["admin"]["auth"], files=big)
    assert refused.status_code == 413 and "supera el máximo" in refused.json()["detail"]


async def test_openapi_documents_the_routes(pg_db, user) -> None:
    schema = (await user.http_client.get("/openapi.json")).json()
    assert "/api/conversations/{conversation_id}/takeover" in schema["paths"]
    assert "/api/catalog/import" in schema["paths"]


async def test_messages_carry_options_and_hide_revoked_text(pg_db, user) -> None:
    team = _team()
    with session_scope() as session:
        chat = make_chat(session, "5491155550007", "Gabi", "quiero zapatillas")
        messages.queue_outbound(
            session,
            chat,
            author="bot",
            text="Mirá estas 👇",
            options=[{"id": "p:ZAP-NK-AM90", "title": "Nike Air Max 90"}, {"id": "p:BUZ-AD-1", "title": "Buzo Adidas"}],
        )
        first = session.scalar(select(Message).where(Message.author == "customer"))
        messages.apply_revoke(session, first.wa_message_id)
        chat_id = chat.id
    page = await user.http_client.get(f"/api/conversations/{chat_id}/messages", headers=team["ana"]["auth"])
    customer, bot = page.json()["items"]
    assert (customer["revoked"], customer["text"]) == (True, None)
    assert (bot["type"], bot["author"], bot["status"]) == ("buttons", "bot", "queued")
    assert bot["options"] == [
        {"id": "p:ZAP-NK-AM90", "title": "Nike Air Max 90", "description": None},
        {"id": "p:BUZ-AD-1", "title": "Buzo Adidas", "description": None},
    ]
