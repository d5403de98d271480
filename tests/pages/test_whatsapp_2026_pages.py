"""The panel shows every 2026 kind readable: a username where there is no phone, the ad that brought
the chat, Flows answers as fields, group and forwarded marks, unsupported kinds, the chat's running
WhatsApp cost for admins, and the dashboard's "¿cuánto nos costó WhatsApp?"."""

from __future__ import annotations

import copy
import time

from nicegui.testing import User
from sqlalchemy import select

from s7.clock import now
from s7.db import session_scope
from s7.domain.chats import messages
from s7.domain.models import Conversation, Message
from s7.whatsapp import processor
from tests.pages.inbox_helpers import make_user, sign_in
from tests.pages.page_helpers import clean_realtime_bus  # noqa: F401 - autouse fixture
from tests.whatsapp.conftest import load
from tests.whatsapp.test_processor import deliver


def chat_id() -> int:
    """The one chat, once applied (the app under test may run its own processor, which can take
    the event before the test's `deliver` does)."""
    for _ in range(100):
        processor.process_pending()
        with session_scope() as session:
            found = session.scalars(select(Conversation.id)).all()
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError("the customer's message never became a chat")


def message_id(wamid: str) -> int:
    with session_scope() as session:
        return session.scalars(select(Message.id).where(Message.wa_message_id == wamid)).one()


def billed_status(conversation_id: int) -> None:
    """One bot message sent and Meta's status pricing it as marketing (US$ 0,062, the example rate)."""
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        conversation.last_customer_at = now()
        message = messages.queue_outbound(session, conversation, author="bot", text="¡Hola!")
        messages.mark_sent(session, message.id, "wamid.OUTPAGE")
    body = copy.deepcopy(load("status_pricing_marketing"))
    status = body["entry"][0]["changes"][0]["value"]["statuses"][0]
    status.update(id="wamid.OUTPAGE", timestamp=str(int(now().timestamp())), recipient_id=None)
    status["recipient_user_id"] = "AR.13491208655302741918"
    deliver(body)


async def test_a_username_only_chat_shows_every_kind_readable(pg_db, user: User) -> None:
    make_user("Ada", role="admin")
    for fixture in ("bsuid_only_text", "referral", "flow_reply", "group_message", "unsupported_legacy_error"):
        deliver(fixture)
    with session_scope() as session:
        chats = list(session.scalars(select(Conversation.id).order_by(Conversation.id)))
    assert len(chats) == 1, "the BSUID-only customer and the phone messages (carrying that BSUID) share one chat"
    chat = chats[0]
    billed_status(chat)
    await sign_in(user, "Ada")
    await user.open(f"/?chat={chat}")
    await user.should_see("@sofi.gomez")
    with user.scope(marker="chat-facts"):
        await user.should_see("Vino del anuncio «Air Max 90 en 6 cuotas»")
        await user.should_see("WhatsApp: US$ 0,062 (1 cobrados)")
    with user.scope(marker=f"msg-{message_id('wamid.AD1')}"):
        await user.should_see("📣 Vino del anuncio «Air Max 90 en 6 cuotas»")
        await user.should_see("Ver anuncio")
    with user.scope(marker=f"msg-{message_id('wamid.FLOW1')}"):
        await user.should_see("Respondió un formulario")
        await user.should_see("Talle: 42")
    with user.scope(marker=f"msg-{message_id('wamid.GRP1')}"):
        await user.should_see("👥 Escrito en un grupo (el bot no responde)")
    with user.scope(marker=f"msg-{message_id('wamid.UNS3')}"):
        await user.should_see("Mensaje no soportado")
        await user.should_see("Message type is not currently supported")


async def test_a_seller_sees_no_cost_and_can_block(pg_db, user: User) -> None:
    make_user("Vera")
    deliver("text")
    await sign_in(user, "Vera")
    await user.open(f"/?chat={chat_id()}")
    with user.scope(marker="chat-facts"):
        await user.should_not_see("WhatsApp: ")
    user.find(marker="block").click()
    await user.should_see("¿Bloquear a este cliente?")
    user.find(marker="block-confirm").click()
    await user.should_see("Bloqueado: el bot no responde")


async def test_the_dashboard_answers_what_whatsapp_cost_and_per_sale(pg_db, user: User) -> None:
    make_user("Ada", role="admin")
    deliver("text")
    billed_status(chat_id())
    await sign_in(user, "Ada")
    await user.open("/dashboard")
    await user.should_see("¿Cuánto nos costó WhatsApp hoy?")
    assert user.find(marker="kpi-wa-cost-value").elements.pop().text == "US$ 0,062"
    assert user.find(marker="kpi-wa-per-sale-value").elements.pop().text == "—"  # no sale yet
    await user.should_see("Tarifas por mensaje (editables)")
