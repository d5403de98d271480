"""The sandbox: a simulated customer goes through the real webhook path, the real bot answers,
and the same outbox delivers the answer locally as sent."""

from __future__ import annotations

from sqlalchemy import select

from s7.config import Settings
from s7.db import session_scope
from s7.domain.models import Message, WebhookEvent
from s7.whatsapp import processor, sandbox
from s7.whatsapp.outbox import Sender, default_transport
from tests.whatsapp.conftest import conversation_of, messages_of

WA_ID = "5491166660001"


async def test_a_simulated_customer_gets_a_real_bot_answer_delivered_by_the_sandbox(any_db: Settings) -> None:
    wamid = sandbox.inject_customer_message(WA_ID, text="Hola! ¿tienen zapatillas?", name="Cliente de prueba")
    with session_scope() as session:
        [event] = session.scalars(select(WebhookEvent))
        assert event.body.isascii()  # escaped like Meta's bodies
    assert processor.process_pending() == 1
    transport = default_transport()
    assert isinstance(transport, sandbox.SandboxTransport)
    await Sender(transport).drain()

    thread = messages_of(WA_ID)
    assert thread[0].wa_message_id == wamid and thread[0].author == "customer"
    replies = [m for m in thread if m.direction == "out"]
    assert replies, "the bot said nothing"
    assert all(m.author == "bot" and m.status == "sent" for m in replies)
    assert all((m.wa_message_id or "").startswith("wamid.sandbox.") for m in replies)
    assert transport.sent and transport.sent[0]["to"] == "+" + WA_ID


async def test_simulated_ticks_and_a_business_app_reply(any_db: Settings) -> None:
    sandbox.inject_customer_message(WA_ID, text="hola")
    processor.process_pending()
    await Sender(sandbox.SandboxTransport()).drain()
    reply = next(m for m in messages_of(WA_ID) if m.direction == "out")
    assert reply.wa_message_id is not None
    sandbox.simulate_status(reply.wa_message_id, "read", recipient_id=WA_ID)
    sandbox.simulate_business_echo(WA_ID, "Te atiendo yo, Sofía")
    processor.process_pending()
    with session_scope() as session:
        read = session.get(Message, reply.id)
        assert read is not None and read.status == "read"
    conversation = conversation_of(WA_ID)
    assert conversation is not None and conversation.mode == "HUMAN_TAKEOVER"

    sandbox.inject_customer_message(WA_ID, text="¿y en 42?")
    processor.process_pending()
    await Sender(sandbox.SandboxTransport()).drain()
    last = messages_of(WA_ID)[-1]
    assert (last.author, last.text) == ("customer", "¿y en 42?")  # the bot stayed silent


async def test_button_and_list_taps_carry_the_chosen_option(any_db: Settings) -> None:
    sandbox.inject_customer_message(WA_ID, button=("sku:ZAP-NK-AM90", "Air Max 90"))
    sandbox.inject_customer_message(WA_ID, list_row=("more", "Ver otras opciones"))
    processor.process_pending()
    tapped = [m for m in messages_of(WA_ID) if m.direction == "in"]
    assert [(m.type, m.options[0]["id"]) for m in tapped] == [
        ("button_reply", "sku:ZAP-NK-AM90"),
        ("list_reply", "more"),
    ]
