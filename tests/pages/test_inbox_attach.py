"""The composer's attachment: pick a photo, see it, add a caption, send (takeover included); a
file over WhatsApp's limit for its type is refused on the spot."""

from __future__ import annotations

from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from s7.db import session_scope
from s7.domain.models import MediaFile, Message
from tests.fakes import files
from tests.pages.inbox_helpers import conversation, customer_says, eventually, make_user, outbound_messages, sign_in


async def choose(user: User, name: str, mime: str, data: bytes) -> None:
    element = user.find(marker="attach-upload").elements.pop()
    assert isinstance(element, ui.upload)
    await element.handle_uploads([SmallFileUpload(name, mime, data)])


async def test_a_seller_attaches_a_photo_with_caption_and_it_is_queued_as_an_image(pg_db, user: User) -> None:
    seller = make_user("Vendedor Uno")
    chat, _ = customer_says("5491100000401", "¿tenés fotos?", name="Juana")
    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat}")
    user.find(marker="attach").click()
    await user.should_see(marker="attach-dialog")

    await choose(user, "huge.jpg", "image/jpeg", b"\xff\xd8" + b"0" * (5 * 1024 * 1024 + 10))
    await user.should_see("WhatsApp admite hasta 5 MB para una foto")
    await user.should_not_see(marker="attach-name")

    photo = files.png()
    await choose(user, "zapa.png", "image/png", photo)
    await user.should_see(marker="attach-image")
    await user.should_see("zapa.png · 0 KB")
    user.find(marker="attach-caption").type("Así son")
    user.find(marker="attach-send").click()
    await eventually(lambda: len(outbound_messages(chat)) == 1)
    sent = outbound_messages(chat)[0]
    assert (sent.type, sent.text, sent.author, sent.author_user_id) == ("image", "Así son", "seller", seller)
    with session_scope() as session:
        stored = session.get(Message, sent.id).media
        assert stored["state"] == "ready" and stored["filename"] == "zapa.png"
        assert session.query(MediaFile).one().size == len(photo)
    assert conversation(chat).mode == "HUMAN_TAKEOVER"  # a file is a seller message like any other
    await user.should_not_see(marker="attach-dialog")
    await user.should_see(marker="media-image")  # the seller's own photo in the timeline
