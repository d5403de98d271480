"""The open chat: bubbles by author, options, media, reactions, ticks, notes, read state."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from nicegui import ElementFilter, ui
from nicegui.testing import User

from s7.clock import now
from s7.db import session_scope
from s7.domain.chats import conversations, messages
from s7.domain.models import Message
from s7.domain.models import User as UserRow
from tests.pages.inbox_helpers import (
    bot_says,
    customer_says,
    eventually,
    make_user,
    read_receipts,
    sign_in,
    take,
    two_sellers_on,
    unread_badge,
)


def _set_message(message_id: int, **values: object) -> None:
    with session_scope() as session:
        message = session.get(Message, message_id)
        for key, value in values.items():
            setattr(message, key, value)


async def test_the_timeline_shows_who_said_what_with_options_media_reactions_and_ticks(pg_db, user: User) -> None:
    seller = make_user("Vendedor Uno")
    chat, first = customer_says(
        "5491100000101", "¿tienen Air Max 90?", name="Juan Pérez", at=now() - timedelta(minutes=10)
    )
    offered = bot_says(
        chat,
        "Tengo estas:",
        options=[{"id": "am90-b", "title": "Air Max 90 blancas"}, {"id": "am90-n", "title": "Air Max 90 negras"}],
    )
    customer_says(
        "5491100000101",
        "Air Max 90 blancas",
        type="button_reply",
        options=[{"id": "am90-b", "title": "Air Max 90 blancas"}],
    )
    customer_says("5491100000101", "mirá esta", type="image", media={"id": "m1", "mime_type": "image/jpeg"})
    customer_says("5491100000101", None, type="audio", media={"id": "m2", "voice": True})
    take(chat, seller)
    with session_scope() as session:
        conversation = conversations.get(session, chat)
        sent = messages.queue_outbound(
            session, conversation, author="seller", text="¡Te las reservo!", user_id=seller
        ).id
        failed = messages.queue_outbound(session, conversation, author="seller", text="¿Seguís ahí?", user_id=seller).id
    _set_message(sent, status="read")
    _set_message(failed, status="failed", error="131047: Re-engagement message")
    _set_message(first, reaction="👍")
    _set_message(offered, status="delivered")

    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat}")
    assert _author(user, first) == "Juan Pérez"
    with user.scope(marker=f"msg-{first}"):
        await user.should_see("👍")
    assert _author(user, offered) == "🤖 Bot"
    with user.scope(marker=f"msg-{offered}"):
        await user.should_see("Opciones ofrecidas (botones):")
        await user.should_see("Air Max 90 negras")
        await user.should_see(marker="tick-delivered")
    await user.should_see("Tocó una opción")
    await user.should_see("Foto")
    await user.should_see("Nota de voz")
    assert _author(user, sent) == "Vendedor Uno"
    with user.scope(marker=f"msg-{sent}"):
        await user.should_see(marker="tick-read")
    with user.scope(marker=f"msg-{failed}"):
        await user.should_see(marker="tick-failed")
        await user.should_see("No se entregó: 131047: Re-engagement message")


def _author(user: User, message_id: int) -> str:
    with user:
        return next(iter(ElementFilter(marker=f"msg-{message_id}", local_scope=False))).props.get("name", "")


async def test_opening_a_chat_marks_it_read_for_me_only_and_sends_one_read_receipt(pg_db, create_user) -> None:
    make_user("Vendedor Uno")
    make_user("Vendedora Dos")
    chat, _ = customer_says("5491100000111", "hola", name="Cliente")
    customer_says("5491100000111", "¿están?", name="Cliente")
    seller1, seller2 = create_user(), create_user()
    await sign_in(seller1, "Vendedor Uno")
    await sign_in(seller2, "Vendedora Dos")
    await seller2.open("/")
    assert unread_badge(seller2, chat) == "2"
    await seller1.open(f"/?chat={chat}")
    await seller1.should_see("¿están?")
    await eventually(lambda: unread_badge(seller1, chat) == "")
    assert unread_badge(seller2, chat) == "2"  # read state is per seller
    assert len(read_receipts(chat)) == 1
    await seller2.open(f"/?chat={chat}")
    await seller2.should_see("¿están?")
    assert len(read_receipts(chat)) == 1  # the customer's phone already shows blue ticks

    customer_says("5491100000111", "¿hola?", name="Cliente")  # arrives while both have it open
    await seller1.should_see("¿hola?", retries=30)
    await seller2.should_see("¿hola?", retries=30)
    await eventually(lambda: len(read_receipts(chat)) == 2)
    await asyncio.sleep(0.3)
    assert len(read_receipts(chat)) == 2  # one per new customer message, not one per open tab


async def test_notes_are_inline_marked_internal_and_reach_the_other_tab(pg_db, create_user) -> None:
    chat, _ = customer_says("5491100000121", "hola", name="Cliente")
    seller1, seller2 = await two_sellers_on(create_user, f"/?chat={chat}")
    seller1.find(marker="add-note").click()
    seller1.find(marker="note-input").type("Quiere talle 42, pasa el sábado")
    seller1.find(marker="save-note").click()
    for who in (seller1, seller2):
        await who.should_see("Quiere talle 42, pasa el sábado", retries=30)
        await who.should_see("Nota interna de Vendedor Uno · el cliente no la ve")
    assert messages_out(chat) == []  # a note never goes to the customer


def messages_out(chat: int) -> list[str]:
    from tests.pages.inbox_helpers import outbound_messages

    return [m.text or "" for m in outbound_messages(chat)]


async def test_customer_html_is_shown_as_text_never_as_markup(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    evil_name = '<img src=x onerror="alert(1)">'
    evil_text = "<script>alert('xss')</script> **negrita** [link](javascript:alert(1))"
    chat, message = customer_says("5491100000131", evil_text, name=evil_name)
    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat}")
    with user:
        labels = [el for el in ElementFilter(kind=ui.label, local_scope=False) if el.text == evil_text]
        assert labels, "the customer's text is a plain label"
        rich = [el for el in ElementFilter(kind=ui.html, local_scope=False)] + [
            el for el in ElementFilter(kind=ui.markdown, local_scope=False)
        ]
        assert not [el for el in rich if "alert" in str(el.content)], "customer data reached an HTML element"
        for element in ElementFilter(local_scope=False):
            for key, value in element.props.items():
                if "alert" in str(value):  # only Quasar's text-only `name` of a chat bubble may carry it
                    assert (element.tag, key) == ("q-chat-message", "name"), (element, key)
    await user.should_see(evil_name)


async def test_a_long_chat_opens_on_its_last_page_and_loads_older_messages_on_demand(pg_db, user: User) -> None:
    seller = make_user("Vendedor Uno")
    start = now() - timedelta(hours=3)
    for i in range(60):
        chat, _ = customer_says(
            "5491100000141", f"mensaje número {i:02d}", name="Charlatán", at=start + timedelta(minutes=i)
        )
        if i == 5:
            with session_scope() as session:
                note = conversations.add_note(session, chat, session.get(UserRow, seller), "nota vieja")
                note.created_at = start + timedelta(minutes=5, seconds=30)
    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat}")
    await user.should_see("mensaje número 59")
    await user.should_see("mensaje número 10")
    await user.should_not_see("mensaje número 09")
    await user.should_not_see("nota vieja")
    user.find("Ver mensajes anteriores").click()
    await user.should_see("mensaje número 00", retries=30)
    await user.should_see("nota vieja")
    await user.should_not_see("Ver mensajes anteriores")
    with user:
        timeline = [el.text for el in ElementFilter(marker="message-text", local_scope=False)]
    assert timeline == [f"mensaje número {i:02d}" for i in range(60)]  # in order, no gaps or repeats


async def test_ticks_move_live_and_a_failure_shows_its_reason(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    chat, _ = customer_says("5491100000151", "hola", name="Cliente")
    sent = bot_says(chat, "¡Hola! ¿Qué buscás?")
    other = bot_says(chat, "¿Seguís ahí?")
    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat}")  # the sandbox outbox may already have sent them: queued or sent

    def status(message_id: int, value: str, error: str | None = None) -> None:
        with session_scope() as session:
            messages.apply_status(session, session.get(Message, message_id), value, error=error)

    status(sent, "delivered")
    with user.scope(marker=f"msg-{sent}"):
        await user.should_see(marker="tick-delivered", retries=30)
    status(sent, "read")
    with user.scope(marker=f"msg-{sent}"):
        await user.should_see(marker="tick-read", retries=30)
        await user.should_not_see(marker="tick-delivered")
    status(other, "failed", error="131026: Message undeliverable")
    await user.should_see("No se entregó: 131026: Message undeliverable", retries=30)
    with user.scope(marker=f"msg-{other}"):
        await user.should_see(marker="tick-failed")
