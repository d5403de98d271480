"""Outbound media: a seller's photo (with caption) and PDF are uploaded to the (fake) Graph API and
sent in order with the chat's texts, through the same outbox, gate and retries as every send."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from nicegui.testing import User
from sqlalchemy import select

from s7.auth import issue_token
from s7.config import Settings, reset_settings
from s7.db import session_scope
from s7.domain.models import MediaFile, Message, OutboxItem
from s7.whatsapp import outbox
from s7.whatsapp.graph import GraphClient
from tests.chat_factory import make_chat, make_user
from tests.fakes import files
from tests.fakes.graph_server import FakeGraph, Reply

TOKEN = "test-token"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def app_sends_to(graph: FakeGraph, user: User) -> AsyncIterator[FakeGraph]:
    """The running app's own outbox sender, pointed at the fake Graph API."""
    await outbox.stop()
    outbox.start(GraphClient(graph.messages_url, TOKEN, timeout=2))
    yield graph
    await outbox.stop()


def seller_and_chat() -> tuple[dict[str, str], int]:
    with session_scope() as session:
        seller = make_user(session, "Ana")
        chat = make_chat(session, wa_id="5491155550001", name="Sofía")
        return {"Authorization": f"Bearer {issue_token(seller)}"}, chat.id


async def wait_for(check, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := await asyncio.to_thread(check):
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def statuses() -> list[str]:
    with session_scope() as session:
        return list(session.scalars(select(Message.status).where(Message.direction == "out").order_by(Message.id)))


async def test_a_photo_with_caption_and_a_pdf_are_uploaded_and_sent_in_order_with_texts(
    pg_db: Settings, user: User, app_sends_to: FakeGraph
) -> None:
    graph = app_sends_to
    auth, chat = seller_and_chat()
    client: httpx.AsyncClient = user.http_client
    url = f"/api/conversations/{chat}/messages"
    photo, price_list = files.png(), files.pdf()
    graph.script(Reply.server_error())  # the first try of the first send fails: retried, order kept

    first = await client.post(url, headers=auth, json={"text": "Te paso fotos:"})
    image = await client.post(
        url, headers=auth, files={"file": ("zapa.png", photo, "image/png")}, data={"caption": "Air Max 90 blancas"}
    )
    document = await client.post(url, headers=auth, files={"file": ("precios nov.pdf", price_list, "application/pdf")})
    last = await client.post(url, headers=auth, json={"text": "¿Te sirve?"})
    assert [r.status_code for r in (first, image, document, last)] == [201] * 4, image.text
    assert (image.json()["type"], image.json()["text"], image.json()["media_url"]) == (
        "image",
        "Air Max 90 blancas",
        f"/media/{image.json()['id']}",
    )
    assert document.json()["type"] == "document" and document.json()["media"]["filename"] == "precios nov.pdf"

    await wait_for(lambda: statuses() == ["sent"] * 4)
    steps = [
        ("upload", r.json["upload"]) if "upload" in r.json else ("send", r.json.get("type"))
        for r in graph.requests
        if r.method == "POST"
    ]
    assert steps == [
        ("send", "text"),  # failed once (500)
        ("send", "text"),
        ("upload", graph.uploads[0].media_id),
        ("send", "image"),
        ("upload", graph.uploads[1].media_id),
        ("send", "document"),
        ("send", "text"),
    ]
    sends = graph.sends()
    assert sends[2]["image"] == {"id": graph.uploads[0].media_id, "caption": "Air Max 90 blancas"}
    assert sends[3]["document"] == {"id": graph.uploads[1].media_id, "filename": "precios nov.pdf"}
    assert [(u.mime_type, u.filename, u.data) for u in graph.uploads] == [
        ("image/png", "zapa.png", photo),
        ("application/pdf", "precios nov.pdf", price_list),
    ]
    # The seller's own copy is served to the panel like a customer's photo.
    served = await client.get(image.json()["media_url"], headers=auth)
    assert served.status_code == 200 and served.content == photo


async def test_a_retried_media_send_does_not_upload_twice(pg_db: Settings, user: User, app_sends_to: FakeGraph) -> None:
    graph = app_sends_to
    auth, chat = seller_and_chat()
    graph.script(Reply.server_error())  # the first /messages call (the photo's send) fails once
    # (the upload is answered by its own route, never by the script)
    response = await user.http_client.post(
        f"/api/conversations/{chat}/messages", headers=auth, files={"file": ("a.png", files.png(), "image/png")}
    )
    assert response.status_code == 201
    await wait_for(lambda: statuses() == ["sent"])
    assert len(graph.uploads) == 1 and len(graph.sends()) == 2
    assert graph.sends()[0]["image"]["id"] == graph.sends()[1]["image"]["id"] == graph.uploads[0].media_id


async def test_what_whatsapp_would_refuse_is_refused_before_anything_is_queued(pg_db: Settings, user: User) -> None:
    auth, chat = seller_and_chat()
    client: httpx.AsyncClient = user.http_client
    url = f"/api/conversations/{chat}/messages"
    big_photo = b"\xff\xd8" + b"0" * (5 * 1024 * 1024)  # images: 5 MB at most on WhatsApp
    refused = await client.post(url, headers=auth, files={"file": ("big.jpg", big_photo, "image/jpeg")})
    assert refused.status_code == 422 and "hasta 5 MB" in refused.json()["detail"]
    voice = await client.post(
        url, headers=auth, files={"file": ("a.ogg", files.ogg(), "audio/ogg")}, data={"caption": "escuchá"}
    )
    assert voice.status_code == 422 and "audio" in voice.json()["detail"]
    empty = await client.post(url, headers=auth, files={"file": ("a.pdf", b"", "application/pdf")})
    assert empty.status_code == 422
    no_file = await client.post(url, headers=auth, data={"caption": "sin archivo"}, files={"other": ("x", b"x")})
    assert no_file.status_code == 422 and "file" in no_file.json()["detail"]
    reset_settings(pg_db.model_copy(update={"UPLOAD_MAX_MB": 1.0}))
    too_big = await client.post(
        url, headers=auth, files={"file": ("b.pdf", b"%PDF" + b"0" * 2_000_000, "application/pdf")}
    )
    assert too_big.status_code == 413
    with session_scope() as session:
        assert session.scalars(select(OutboxItem)).first() is None
        assert session.scalars(select(MediaFile)).first() is None
