"""Media in the open chat: a customer's photo previews (click to enlarge), a voice note plays, a
document downloads by name, and what can no longer be fetched says "ya no disponible". The files
travel the sandbox's stand-in for Meta's media store, through the same fetch queue as in production."""

from __future__ import annotations

import asyncio

from nicegui import ElementFilter, ui
from nicegui.testing import User
from sqlalchemy import select

from s7.db import session_scope
from s7.domain.models import MediaFile, Message
from s7.whatsapp import sandbox
from tests.fakes import files
from tests.pages.inbox_helpers import customer_says, eventually, make_user, sign_in

CUSTOMER = "5491100000301"


async def media_messages(count: int) -> dict[str, int]:
    """{type: id} of the customer's media messages, once `count` of them are stored."""
    for _ in range(200):
        with session_scope() as session:
            found = session.execute(
                select(Message.type, Message.id).where(Message.author == "customer", Message.media.is_not(None))
            ).all()
        if len(found) >= count:
            return {kind: message_id for kind, message_id in found}
        await asyncio.sleep(0.05)
    raise AssertionError("the media messages were not stored")


def states() -> list[str]:
    with session_scope() as session:
        return sorted(session.scalars(select(MediaFile.state)))


async def test_photo_voice_note_and_document_show_as_themselves_and_expired_media_says_so(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    chat, _ = customer_says(CUSTOMER, "hola", name="Juana")
    # One at a time: each is stored (and the bot's turn done) before the next arrives.
    await asyncio.to_thread(sandbox.inject_customer_media, CUSTOMER, files.png(), "image/png", caption="¿Tenés esta?")
    await media_messages(1)
    await asyncio.to_thread(sandbox.inject_customer_media, CUSTOMER, files.ogg(), "audio/ogg")
    await media_messages(2)
    await asyncio.to_thread(
        sandbox.inject_customer_media, CUSTOMER, files.pdf(), "application/pdf", filename="precios.pdf"
    )
    stored = await media_messages(3)
    photo, voice, document = stored["image"], stored["audio"], stored["document"]
    await eventually(lambda: states() == ["ready", "ready", "ready"], timeout=10)
    # A photo whose file Meta no longer has (the sandbox never had this id).
    expired, _ = sandbox.customer_message_payload(
        CUSTOMER, media=("image", {"id": "sandbox-media-expired", "mime_type": "image/jpeg"})
    )
    await asyncio.to_thread(sandbox.deliver, expired)
    await media_messages(4)
    await eventually(lambda: states() == ["gone", "ready", "ready", "ready"], timeout=10)
    with session_scope() as session:
        gone = session.scalar(select(MediaFile.message_id).where(MediaFile.state == "gone"))

    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat}")
    with user.scope(marker=f"msg-{photo}"):
        await user.should_see(marker="media-image")
        await user.should_see("¿Tenés esta?")
    with user:
        image = next(iter(ElementFilter(kind=ui.image, marker="media-image", local_scope=False)))
        assert image.source == f"/media/{photo}"
    with user.scope(marker=f"msg-{voice}"):
        await user.should_see(marker="media-audio")
    with user.scope(marker=f"msg-{document}"):
        await user.should_see("precios.pdf")
    with user.scope(marker=f"msg-{gone}"):
        await user.should_see(marker="media-unavailable")
        await user.should_see("· ya no disponible")
    user.find(marker="media-image").click()  # enlarges in a dialog
    await user.should_see(kind=ui.dialog)

    user.http_client.cookies.clear()
    response = await user.http_client.get(f"/media/{photo}")
    assert response.status_code == 401  # without the session cookie: never public


async def test_a_photo_arriving_while_the_chat_is_open_replaces_its_placeholder_live(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    chat, _ = customer_says(CUSTOMER, "hola", name="Juana")
    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat}")
    await user.should_see("hola")
    await asyncio.to_thread(sandbox.inject_customer_media, CUSTOMER, files.png(), "image/png", caption="mirá")
    await eventually(lambda: states() == ["ready"], timeout=10)
    await user.should_see(marker="media-image", retries=30)


async def test_a_photo_fetched_while_the_chat_is_loading_still_shows(pg_db, user: User, monkeypatch) -> None:
    """The fetch commits between the chat's snapshot read and its view existing: the event is
    replayed to the new view instead of leaving "descargando…" on screen for good."""
    from s7.domain import media
    from s7.domain.chats import conversations, messages
    from s7.pages import chat_view
    from s7.whatsapp import media as media_edge

    await media_edge.stop()  # this test fetches by hand, at the worst moment
    make_user("Vendedor Uno")
    with session_scope() as session:
        chat = conversations.ensure_conversation(session, wa_id=CUSTOMER, name="Juana")
        chat_id = chat.id
        messages.record_inbound(
            session,
            chat,
            wa_message_id="wamid.race",
            type="image",
            text="mirá",
            media={"id": "meta-1", "mime_type": "image/png"},
            created_at=None,
        )
    with session_scope() as session:
        file_id = session.scalar(select(MediaFile.id))
    original = chat_view.load

    def load_then_fetch(conversation_id: int):  # type: ignore[no-untyped-def]
        snapshot = original(conversation_id)
        media.save_fetched(file_id, files.png(), "image/png")
        return snapshot

    monkeypatch.setattr(chat_view, "load", load_then_fetch)
    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat_id}")
    await user.should_see(marker="media-image", retries=30)
