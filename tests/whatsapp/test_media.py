"""Inbound media: fetched from the (fake) Graph API on arrival, once, off the chat's path; kept in
the database or MEDIA_DIR under a total cap; served at /media/{id} only to a session or token."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from nicegui.testing import User
from sqlalchemy import select

from s7.auth import SESSION_COOKIE, issue_token
from s7.config import Settings, reset_settings
from s7.db import session_scope
from s7.domain.chats import conversations, messages
from s7.domain.models import MediaFile, Message
from s7.whatsapp import media as media_edge
from s7.whatsapp import sandbox
from s7.whatsapp.media import Fetcher, GraphMedia
from tests.chat_factory import make_user
from tests.fakes import files
from tests.fakes.graph_server import FakeGraph
from tests.whatsapp.conftest import CUSTOMER, BotCalls

TOKEN = "test-token"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph(token=TOKEN) as fake:
        yield fake


def graph_media(graph: FakeGraph) -> GraphMedia:
    return GraphMedia(f"{graph.base_url}/{graph.version}", graph.phone_number_id, TOKEN)


@pytest.fixture
async def app_fetches_from(graph: FakeGraph, user: User) -> AsyncIterator[FakeGraph]:
    """The running app's own background fetcher, pointed at the fake Graph API."""
    await media_edge.stop()
    media_edge.start(graph_media(graph))
    yield graph
    await media_edge.stop()


async def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await asyncio.to_thread(check)
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def customer_sends(kind: str, media_id: str, mime_type: str, data: bytes, **extra: Any) -> str:
    obj = {"id": media_id, "mime_type": mime_type, "sha256": hashlib.sha256(data).hexdigest(), **extra}
    payload, wamid = sandbox.customer_message_payload(CUSTOMER, name="Sofía", media=(kind, obj))
    sandbox.deliver(payload)
    return wamid


def message_id_of(wamid: str) -> int | None:
    with session_scope() as session:
        return session.scalar(select(Message.id).where(Message.wa_message_id == wamid))


def file_states() -> dict[int, str]:
    with session_scope() as session:
        return {row.message_id: row.state for row in session.scalars(select(MediaFile))}


def seller_token() -> str:
    with session_scope() as session:
        return issue_token(make_user(session, "Ana"))


async def test_inbound_media_is_fetched_once_on_arrival_and_served_only_with_a_session(
    pg_db: Settings, user: User, app_fetches_from: FakeGraph, bot_calls: BotCalls
) -> None:
    graph = app_fetches_from
    photo, voice, price_list = files.png(), files.ogg(), files.pdf()
    sent = {
        "image": (graph.add_media(photo, "image/jpeg"), "image/jpeg", photo, {"caption": "¿Tienen este?"}),
        "audio": (graph.add_media(voice, "audio/ogg; codecs=opus"), "audio/ogg; codecs=opus", voice, {"voice": True}),
        "document": (graph.add_media(price_list, "application/pdf"), "application/pdf", price_list, {}),
        "sticker": (graph.add_media(WEBP, "image/webp"), "image/webp", WEBP, {"animated": False}),
    }
    wamids = {
        kind: customer_sends(kind, media_id, mime, data, **extra)
        for kind, (media_id, mime, data, extra) in sent.items()
    }
    ids = {kind: await wait_for(lambda w=w: message_id_of(w)) for kind, w in wamids.items()}
    # Nobody opened the chat or asked for /media: the files are fetched anyway, right away.
    await wait_for(lambda: file_states() == {i: "ready" for i in ids.values()})
    assert len(bot_calls.calls) == 4  # the chat's ordered path went on without waiting for downloads
    metadata = [p for p in graph.gets(f"/{graph.version}/")]
    downloads = graph.gets("/_lookaside/")
    assert sorted(metadata) == sorted(f"/{graph.version}/{m}" for m, *_ in sent.values())
    assert len(downloads) == 4

    client: httpx.AsyncClient = user.http_client
    token = seller_token()
    assert (await client.get(f"/media/{ids['image']}")).status_code == 401
    assert (await client.get(f"/media/{ids['image']}", headers={"Authorization": "Bearer nope"})).status_code == 401
    auth = {"Authorization": f"Bearer {token}"}
    for kind, message_id in ids.items():
        response = await client.get(f"/media/{message_id}", headers=auth)
        assert response.status_code == 200, (kind, response.text)
        assert response.content == sent[kind][2]
        assert response.headers["content-type"].startswith(sent[kind][1].split(";")[0])
        assert response.headers["x-content-type-options"] == "nosniff"
    document = await client.get(f"/media/{ids['document']}", headers={"cookie": f"{SESSION_COOKIE}={token}"})
    assert document.status_code == 200 and document.headers["content-disposition"].startswith("attachment;")
    image = await client.get(f"/media/{ids['image']}", headers=auth)
    assert image.headers["content-disposition"].startswith("inline;")
    # Byte ranges, which Safari needs to play a voice note.
    part = await client.get(f"/media/{ids['audio']}", headers={**auth, "Range": "bytes=4-9"})
    assert part.status_code == 206 and part.content == voice[4:10]
    assert part.headers["content-range"] == f"bytes 4-9/{len(voice)}"
    tail = await client.get(f"/media/{ids['audio']}", headers={**auth, "Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == voice[-5:]
    past = await client.get(f"/media/{ids['audio']}", headers={**auth, "Range": f"bytes={len(voice)}-"})
    assert past.status_code == 416
    assert len(graph.gets()) == 8  # served from our store: Meta was asked once per file

    with session_scope() as session:
        chat = conversations.get(session, session.get(Message, ids["image"]).conversation_id)
        text = messages.record_inbound(
            session, chat, wa_message_id="wamid.text1", type="text", text="hola", created_at=None
        )
        text_id = text.id
    assert (await client.get(f"/media/{text_id}", headers=auth)).status_code == 404
    assert (await client.get("/media/999999", headers=auth)).status_code == 404

    listed = await client.get(f"/api/conversations/{chat.id}/messages", headers=auth)
    by_id = {m["id"]: m for m in listed.json()["items"]}
    assert by_id[ids["image"]]["media_url"] == f"/media/{ids['image']}"
    assert by_id[ids["image"]]["media"]["state"] == "ready"
    assert by_id[text_id]["media_url"] is None


async def test_media_meta_no_longer_has_is_marked_unavailable(
    pg_db: Settings, user: User, app_fetches_from: FakeGraph, bot_calls: BotCalls
) -> None:
    graph = app_fetches_from
    photo = files.png()
    media_id = graph.add_media(photo, "image/jpeg")
    graph.expire_media(media_id)
    wamid = customer_sends("image", media_id, "image/jpeg", photo)
    message_id = await wait_for(lambda: message_id_of(wamid))
    await wait_for(lambda: file_states() == {message_id: "gone"})
    assert graph.gets() == [f"/{graph.version}/{media_id}"]  # Graph error 100 is final: not retried
    response = await user.http_client.get(f"/media/{message_id}", headers={"Authorization": f"Bearer {seller_token()}"})
    assert response.status_code == 410 and "ya no está disponible" in response.json()["detail"]
    with session_scope() as session:
        assert session.get(Message, message_id).media["state"] == "gone"


def _chat_with_photos(count: int, graph: FakeGraph, size: int) -> list[int]:
    ids = []
    with session_scope() as session:
        chat = conversations.ensure_conversation(session, wa_id=CUSTOMER, name="Sofía")
        for n in range(count):
            data = bytes([n]) * size
            message = messages.record_inbound(
                session,
                chat,
                wa_message_id=f"wamid.photo{n}",
                type="image",
                text=None,
                media={"id": graph.add_media(data, "image/jpeg"), "mime_type": "image/jpeg"},
                created_at=None,
            )
            ids.append(message.id)
    return ids


@pytest.mark.parametrize("where", ["database", "media_dir"])
async def test_the_total_cap_evicts_the_oldest_files_first(
    any_db: Settings, graph: FakeGraph, tmp_path: Path, where: str
) -> None:
    size = 40_000
    overrides: dict[str, Any] = {"MEDIA_MAX_MB": (size * 2.5) / (1024 * 1024)}
    if where == "media_dir":
        overrides["MEDIA_DIR"] = str(tmp_path / "media")
    reset_settings(any_db.model_copy(update=overrides))
    ids = _chat_with_photos(3, graph, size)
    source = graph_media(graph)
    fetcher = Fetcher(source, concurrency=1)
    for _ in ids:  # one at a time: "oldest" is well defined
        await fetcher.run_once()
    await source.aclose()
    assert file_states() == {ids[0]: "evicted", ids[1]: "ready", ids[2]: "ready"}
    with session_scope() as session:
        rows = {r.message_id: r for r in session.scalars(select(MediaFile))}
        assert session.get(Message, ids[0]).media["state"] == "evicted"
        if where == "media_dir":
            assert sorted(p.name for p in (tmp_path / "media").iterdir()) == sorted(rows[i].path for i in ids[1:])
            assert all(
                session.scalar(select(MediaFile.content).where(MediaFile.id == r.id)) is None for r in rows.values()
            )
        else:
            assert session.scalar(select(MediaFile.content).where(MediaFile.id == rows[ids[2]].id)) == bytes([2]) * size


async def test_a_file_larger_than_whatsapp_allows_is_not_downloaded(any_db: Settings, graph: FakeGraph) -> None:
    with session_scope() as session:
        chat = conversations.ensure_conversation(session, wa_id=CUSTOMER, name="Sofía")
        big = graph.add_media(b"x" * (5 * 1024 * 1024 + 1), "image/jpeg")  # images: 5 MB at most
        message_id = messages.record_inbound(
            session,
            chat,
            wa_message_id="wamid.big",
            type="image",
            text=None,
            media={"id": big, "mime_type": "image/jpeg"},
            created_at=None,
        ).id
    source = graph_media(graph)
    await Fetcher(source).drain()
    await source.aclose()
    assert file_states() == {message_id: "gone"}
    assert graph.gets("/_lookaside/") == []  # refused from the declared size, before any byte moved


async def test_a_network_failure_is_retried_later_not_lost(any_db: Settings, fake_clock) -> None:
    with session_scope() as session:
        chat = conversations.ensure_conversation(session, wa_id=CUSTOMER, name="Sofía")
        message_id = messages.record_inbound(
            session,
            chat,
            wa_message_id="wamid.retry",
            type="image",
            text=None,
            media={"id": "12345", "mime_type": "image/jpeg"},
            created_at=None,
        ).id
    source = GraphMedia("http://127.0.0.1:9/v23.0", "1", TOKEN)  # nothing listens there
    fetcher = Fetcher(source)
    assert await fetcher.run_once() == 1
    assert file_states() == {message_id: "pending"}
    assert await fetcher.run_once() == 0  # backing off
    fake_clock.advance(seconds=6)
    assert await fetcher.run_once() == 1
    await source.aclose()
    with session_scope() as session:
        row = session.scalar(select(MediaFile))
        assert row.attempts == 2 and "Error de red" in row.last_error
