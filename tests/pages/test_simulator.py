"""/simulator in the NiceGUI user simulation: a customer's text goes through the webhook path, the
bot answers with tappable options, a tap goes back in the same way; sandbox only."""

from __future__ import annotations

import asyncio

from nicegui import ElementFilter, ui
from nicegui.testing import User
from sqlalchemy import select

from s7.config import reset_settings
from s7.db import session_scope
from s7.domain import catalog
from s7.domain.models import Contact, Message, WebhookEvent
from s7.pages.simulator import normalize_number
from tests.conftest import make_settings
from tests.domain.test_users import make_user
from tests.pages.page_helpers import clean_realtime_bus, sign_in  # noqa: F401 - autouse fixture


def load_demo_catalog() -> None:
    with session_scope() as session:
        catalog.import_path(session, "catalog/demo.json")


async def options_on_the_phone(user: User, attempts: int = 100) -> tuple[str, list[ui.element]]:
    """The bot's tappable options: reply buttons or list rows, whichever it sent."""
    for _ in range(attempts):
        for marker in ("reply-button", "list-row"):
            with user:
                found = [e for e in ElementFilter(marker=marker)]
            if found:
                return marker, sorted(found, key=lambda e: e.id)
        await asyncio.sleep(0.05)
    raise AssertionError("the bot sent no options")


def option_title(element: ui.element) -> str:
    if isinstance(element, ui.button):
        return element.text
    return next(e for e in element.descendants() if isinstance(e, ui.item_label)).text


async def test_customer_text_bot_options_and_a_tap_all_go_through_the_webhook(pg_db, user: User) -> None:
    make_user("ana@tienda.com", name="Ana")  # any signed-in user may try it, sellers too
    load_demo_catalog()
    await sign_in(user, "ana@tienda.com")
    await user.open("/simulator?wa=5491155550101")
    await user.should_see("Sos Lucía Fernández · +5491155550101")
    await user.should_see(marker="empty-thread")

    user.find(marker="customer-text").type("Hola! Tienen zapatillas Nike?")
    user.find(marker="customer-send").click()
    marker, options = await options_on_the_phone(user)
    assert 1 <= len(options) <= 10
    await user.should_see("Hola! Tienen zapatillas Nike?")
    with session_scope() as session:
        assert session.scalar(select(WebhookEvent.id)) is not None  # it came in as a webhook body
        assert session.scalar(select(Contact.name).where(Contact.wa_id == "5491155550101")) == "Lucía Fernández"
    for _ in range(100):  # the sandbox transport sends it and stores its wamid
        with session_scope() as session:
            bot_reply = session.scalar(select(Message).where(Message.author == "bot"))
        if bot_reply.wa_message_id:
            break
        await asyncio.sleep(0.05)
    assert bot_reply.type in ("buttons", "list") and bot_reply.wa_message_id.startswith("wamid.sandbox.")
    await user.should_see(marker="open-inbox")

    for _ in range(50):  # the thread re-renders when a tick arrives: read a live element
        marker, options = await options_on_the_phone(user)
        try:
            title = option_title(options[0])
            break
        except StopIteration:
            await asyncio.sleep(0.05)
    user.find(marker=marker).click()  # taps the first option
    for _ in range(100):
        with session_scope() as session:
            tapped = session.scalar(select(Message).where(Message.type.in_(("button_reply", "list_reply"))))
        if tapped is not None:
            break
        await asyncio.sleep(0.05)
    assert tapped is not None and tapped.text == title
    assert tapped.context_wa_id == bot_reply.wa_message_id  # the tap says which message it answers
    for _ in range(100):  # and the phone shows it as the customer's message
        with user:
            if any(e.text == title for e in ElementFilter(marker="bubble-in")):
                break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"the tap {title!r} never showed on the phone")


async def test_outside_sandbox_the_simulator_explains_itself(pg_db, user: User) -> None:
    make_user("ana@tienda.com")
    await sign_in(user, "ana@tienda.com")
    reset_settings(
        make_settings(
            DATABASE_URL=pg_db.DATABASE_URL, WHATSAPP_TOKEN="EAAG-real-token", WHATSAPP_PHONE_NUMBER_ID="123456"
        )
    )
    await user.open("/simulator")
    await user.should_see("El simulador solo funciona en modo sandbox")
    await user.should_not_see(marker="phone")


async def test_switching_customer_starts_another_chat(pg_db, user: User) -> None:
    make_user("ana@tienda.com")
    await sign_in(user, "ana@tienda.com")
    await user.open("/simulator")
    user.find(marker="custom-name").type("Pedro")
    user.find(marker="custom-number").type("+54 9 11 4444-1234")
    user.find(marker="use-custom").click()
    await user.should_see("Sos Pedro · +5491144441234")
    user.find(marker="custom-number").clear().type("123")
    user.find(marker="use-custom").click()
    await user.should_see("El número tiene que tener entre 8 y 15 dígitos")


def test_numbers_are_digits_with_country_code() -> None:
    assert normalize_number("+54 9 11 5555-0101") == "5491155550101"
    assert normalize_number("12345") is None and normalize_number("") is None


async def test_the_simulated_customer_sends_a_photo_that_reaches_the_inbox_as_a_photo(pg_db, user: User) -> None:
    from nicegui.elements.upload_files import SmallFileUpload

    from s7.domain.models import MediaFile
    from tests.fakes import files

    make_user("ana@tienda.com", name="Ana")
    await sign_in(user, "ana@tienda.com")
    await user.open("/simulator?wa=5491155550102")
    photo = files.png(12, 8)
    upload = user.find(marker="customer-photo-upload").elements.pop()
    await upload.handle_uploads([SmallFileUpload("foto.png", "image/png", photo)])
    for _ in range(200):  # stored as a WhatsApp image, fetched through the media queue like Meta's
        with session_scope() as session:
            row = session.scalar(select(MediaFile).where(MediaFile.state == "ready"))
            message = session.get(Message, row.message_id) if row else None
        if message is not None:
            break
        await asyncio.sleep(0.05)
    assert message is not None and (message.type, message.direction) == ("image", "in")
    assert message.media["id"].startswith("sandbox-media-")  # the webhook carried only Meta's kind of id
    await user.should_see(marker="phone-image")  # and the phone shows it as sent
