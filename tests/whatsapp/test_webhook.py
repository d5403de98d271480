"""GET/POST /webhook over HTTP (ASGI): verify → persist → 200, and every way to be refused."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from s7.config import Settings, reset_settings
from s7.db import reset_engine, session_scope
from s7.domain.models import WebhookEvent
from s7.whatsapp import webhook
from tests.conftest import make_settings
from tests.whatsapp.conftest import encode, fixture_bytes, load, signed_headers, webhook_app


def stored() -> list[WebhookEvent]:
    with session_scope() as session:
        return list(session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))


async def test_verification_echoes_the_challenge(client: httpx.AsyncClient) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "1158201444"}
    response = await client.get("/webhook", params=params)
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "1"},
        {"hub.verify_token": "ñandú", "hub.challenge": "1"},
        {},
    ],
)
async def test_verification_refuses_anything_else(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    assert (await client.get("/webhook", params=params)).status_code == 403


async def test_a_signed_body_is_stored_raw_and_acknowledged(client: httpx.AsyncClient, any_db: Settings) -> None:
    body = fixture_bytes("text")
    response = await client.post("/webhook", content=body, headers=signed_headers(any_db, body))
    assert response.status_code == 200
    [event] = stored()
    assert event.body.encode() == body  # byte for byte: the \u escapes are kept
    assert (event.state, event.signature_ok, event.attempts) == ("pending", True, 0)


async def test_a_repeated_body_is_acknowledged_and_stored_once(client: httpx.AsyncClient, any_db: Settings) -> None:
    body = fixture_bytes("text")
    for _ in range(3):
        response = await client.post("/webhook", content=body, headers=signed_headers(any_db, body))
        assert response.status_code == 200
    assert len(stored()) == 1


async def test_a_new_event_wakes_the_processor_and_a_repeat_does_not(
    client: httpx.AsyncClient, any_db: Settings
) -> None:
    woken: list[int] = []
    remove = webhook.on_event_stored(lambda: woken.append(1))
    try:
        body = fixture_bytes("image")
        for _ in range(2):
            await client.post("/webhook", content=body, headers=signed_headers(any_db, body))
    finally:
        remove()
    assert woken == [1]


async def test_missing_signature_is_401_and_wrong_is_403(client: httpx.AsyncClient) -> None:
    body = fixture_bytes("text")
    assert (await client.post("/webhook", content=body)).status_code == 401
    bad = {"x-hub-signature-256": "sha256=" + "0" * 64}
    assert (await client.post("/webhook", content=body, headers=bad)).status_code == 403
    assert stored() == []


async def test_a_non_ascii_signature_header_is_403_not_500(client: httpx.AsyncClient) -> None:
    body = fixture_bytes("text")
    headers = [(b"x-hub-signature-256", "sha256=ñandú😮".encode())]
    response = await client.post("/webhook", content=body, headers=headers)
    assert response.status_code == 403


async def test_raw_utf8_and_escaped_slashes_verify_on_the_exact_bytes(
    client: httpx.AsyncClient, any_db: Settings
) -> None:
    body = fixture_bytes("text").replace(b"cuotas/contado", b"cuotas\\/contado")
    body = body.replace(b"Hola!", "¡Holá! J'ai mangé des pâtes 😮".encode())
    response = await client.post("/webhook", content=body, headers=signed_headers(any_db, body))
    assert response.status_code == 200
    [event] = stored()
    assert event.body.encode() == body


async def test_malformed_json_is_400_and_nothing_is_stored(client: httpx.AsyncClient, any_db: Settings) -> None:
    for body in (b'{"object": "whatsapp_business_account", "entry": [', b"\xff\xfe{}", "{}".encode("utf-16")):
        response = await client.post("/webhook", content=body, headers=signed_headers(any_db, body))
        assert response.status_code == 400
    assert stored() == []


async def test_a_foreign_body_is_acknowledged_and_ignored(client: httpx.AsyncClient, any_db: Settings) -> None:
    for body in (b'{"object":"page","entry":[]}', b"[1,2,3]", b'"hello"'):
        response = await client.post("/webhook", content=body, headers=signed_headers(any_db, body))
        assert response.status_code == 200
    assert stored() == []


async def test_bodies_over_the_limit_are_413(any_db: Settings) -> None:
    reset_settings(make_settings(DATABASE_URL=any_db.DATABASE_URL, WEBHOOK_MAX_BODY_BYTES=2048))
    body = encode(load("text")) + b" " * 4096
    transport = httpx.ASGITransport(app=webhook_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        declared = await http.post("/webhook", content=body, headers=signed_headers(any_db, body))
        assert declared.status_code == 413

        async def chunks():  # no Content-Length: the limit is enforced while reading
            for _ in range(8):
                yield b" " * 1024

        streamed = await http.post("/webhook", content=chunks(), headers={"x-hub-signature-256": "sha256=00"})
        assert streamed.status_code == 413
    assert stored() == []


async def test_optional_mode_logs_and_accepts_unsigned_bodies(any_db: Settings) -> None:
    reset_settings(make_settings(DATABASE_URL=any_db.DATABASE_URL, WEBHOOK_SIGNATURE_MODE="optional"))
    body = fixture_bytes("text")
    transport = httpx.ASGITransport(app=webhook_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert (await http.post("/webhook", content=body)).status_code == 200
    [event] = stored()
    assert event.signature_ok is False


async def test_the_sandbox_without_a_secret_accepts_unsigned_bodies(any_db: Settings) -> None:
    reset_settings(make_settings(DATABASE_URL=any_db.DATABASE_URL, META_APP_SECRET=""))
    body = fixture_bytes("text")
    transport = httpx.ASGITransport(app=webhook_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert (await http.post("/webhook", content=body)).status_code == 200
    assert len(stored()) == 1


async def test_a_database_failure_is_a_5xx_never_a_200(pg_db: Settings) -> None:
    # A real unreachable database (nothing listens on port 1): Meta must get an error and retry.
    reset_settings(make_settings(DATABASE_URL="postgresql://postgres@127.0.0.1:1/nowhere"))
    reset_engine()
    body = fixture_bytes("text")
    transport = httpx.ASGITransport(app=webhook_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.post("/webhook", content=body, headers=signed_headers(pg_db, body))
    assert response.status_code == 503
    reset_settings(pg_db)
    reset_engine()
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
