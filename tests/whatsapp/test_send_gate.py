"""The send gate (rule 8) and exactly-once delivery, against the fake Graph API over real HTTP.

A bot- or job-authored row leaves only while its chat is BOT_ON; every takeover cancels the chat's
queued bot rows (retries included) in the same transaction; the seller's message is not held
behind them; a send Meta already confirmed (its status webhook arrived) is never POSTed again.
"""

from __future__ import annotations

import copy
from datetime import timedelta

from sqlalchemy import select, update

from s7.config import Settings
from s7.db import session_scope
from s7.domain.chats import conversations
from s7.domain.models import Conversation, Message, OutboxItem, User
from s7.whatsapp import processor
from s7.whatsapp.outbox import Sender
from s7.whatsapp.webhook import store_event
from tests.chat_factory import make_user
from tests.conftest import FakeClock
from tests.fakes.graph_server import FakeGraph, Reply
from tests.whatsapp.conftest import CUSTOMER, encode, load
from tests.whatsapp.test_outbox import message, open_chat, queue

WA = "+" + CUSTOMER


def seller() -> User:
    with session_scope() as session:
        user = make_user(session, "Ana")
        session.flush()
        session.expunge(user)
        return user


def texts_sent(graph: FakeGraph) -> list[str]:
    return [s["text"]["body"] if s.get("type") == "text" else s.get("type") for s in graph.sends()]


async def _bot_reply_backing_off(graph: FakeGraph, sender: Sender) -> tuple[int, int]:
    chat = open_chat()
    graph.script_for(WA, Reply.server_error())
    bot_message = queue(chat, "Tenemos las Air Max en 42 👟")
    await sender.run_once()
    assert message(bot_message).status == "queued"  # waiting for its retry
    return chat, bot_message


async def test_a_panel_takeover_cancels_the_bot_reply_waiting_for_a_retry(
    any_db: Settings, fake_clock: FakeClock, graph: FakeGraph, sender: Sender
) -> None:
    chat, bot_message = await _bot_reply_backing_off(graph, sender)
    ana = seller()
    with session_scope() as session:
        conversations.send_seller_message(session, chat, ana, "Hola, soy Ana 🙂")
    assert message(bot_message).status == "cancelled"
    assert "persona" in (message(bot_message).error or "")
    fake_clock.advance(minutes=30)
    await sender.drain()
    # The failed first try reached Graph; after the takeover nothing from the bot does.
    after_takeover = texts_sent(graph)[1:]
    assert after_takeover == ["Hola, soy Ana 🙂"]


async def test_a_business_app_echo_cancels_the_bot_reply_and_the_seller_is_not_held(
    any_db: Settings, fake_clock: FakeClock, graph: FakeGraph, sender: Sender
) -> None:
    chat, bot_message = await _bot_reply_backing_off(graph, sender)
    echo = copy.deepcopy(load("echo_text"))
    value = echo["entry"][0]["changes"][0]["value"]
    echo_item = value["message_echoes"][0]
    echo_item["timestamp"] = str(int(fake_clock.current.timestamp()))
    store_event(encode(echo))
    processor.process_pending()
    with session_scope() as session:
        assert session.get(Conversation, chat).mode == "HUMAN_TAKEOVER"
    assert message(bot_message).status == "cancelled"
    fake_clock.advance(minutes=30)
    await sender.drain()
    assert "Tenemos las Air Max en 42 👟" not in texts_sent(graph)[1:]


async def test_the_gate_is_checked_when_a_row_is_claimed(
    any_db: Settings, fake_clock: FakeClock, graph: FakeGraph, sender: Sender
) -> None:
    """A takeover written by anything (another replica, a migration, a bug) still stops bot rows:
    the mode is read in the statement that claims the row."""
    chat = open_chat()
    bot_message = queue(chat, "¿Te lo reservo?")
    with session_scope() as session:
        session.execute(update(Conversation).where(Conversation.id == chat).values(mode="HUMAN_TAKEOVER"))
    await sender.drain()
    assert graph.sends() == []
    assert message(bot_message).status == "cancelled"


async def test_cancelled_rows_never_block_the_chats_order(
    any_db: Settings, fake_clock: FakeClock, graph: FakeGraph, sender: Sender
) -> None:
    chat = open_chat()
    for text in ("uno", "dos", "tres"):
        queue(chat, text)
    ana = seller()
    with session_scope() as session:
        conversations.send_seller_message(session, chat, ana, "Te atiendo yo")
    await sender.drain()
    assert texts_sent(graph) == ["Te atiendo yo"]
    with session_scope() as session:
        states = [row.state for row in session.scalars(select(OutboxItem).order_by(OutboxItem.id))]
    assert states == ["cancelled", "cancelled", "cancelled", "sent"]


async def test_the_seller_does_not_wait_behind_a_bot_row_a_dead_sender_left_on_the_wire(
    any_db: Settings, fake_clock: FakeClock, graph: FakeGraph, sender: Sender
) -> None:
    chat = open_chat()
    queue(chat, "respuesta del bot")
    with session_scope() as session:  # a sender leased it and died: state `sending`, long lease
        session.execute(
            update(OutboxItem).values(
                state="sending", attempts=1, next_attempt_at=fake_clock.current + timedelta(hours=1)
            )
        )
    ana = seller()
    with session_scope() as session:
        conversations.send_seller_message(session, chat, ana, "Hola, te escribo yo")
    await sender.drain()
    assert texts_sent(graph) == ["Hola, te escribo yo"]


async def test_assigning_a_chat_is_not_a_takeover(
    any_db: Settings, fake_clock: FakeClock, graph: FakeGraph, sender: Sender
) -> None:
    chat = open_chat()
    bot_message = queue(chat, "Sigo yo, el bot")
    ana = seller()
    with session_scope() as session:
        admin = make_user(session, "Jefa", role="admin")
        conversations.assign(session, chat, ana.id, actor_user=admin)
    await sender.drain()
    assert texts_sent(graph) == ["Sigo yo, el bot"]
    assert message(bot_message).status == "sent"


async def test_a_send_meta_confirmed_by_status_is_not_posted_again(
    any_db: Settings, fake_clock: FakeClock, graph: FakeGraph, sender: Sender
) -> None:
    """The Graph call times out, but Meta took it: its status webhook (carrying our callback data)
    arrives before the retry. The retry settles the row as sent instead of POSTing it twice."""
    chat = open_chat()
    graph.script_for(WA, Reply.hanging(2.0))
    bot_message = queue(chat, "Te paso el link de pago")
    await sender.run_once()  # the client times out after 0.5 s
    assert message(bot_message).status == "queued"
    status = copy.deepcopy(load("status_sent"))
    item = status["entry"][0]["changes"][0]["value"]["statuses"][0]
    item.update(id="wamid.CONFIRMED1", biz_opaque_callback_data=f"s7:{bot_message}", recipient_id=CUSTOMER)
    item["timestamp"] = str(int(fake_clock.current.timestamp()))
    store_event(encode(status))
    processor.process_pending()
    fake_clock.advance(minutes=30)
    await sender.drain()
    assert texts_sent(graph) == ["Te paso el link de pago"]  # the one that timed out, once
    sent = message(bot_message)
    assert sent.wa_message_id == "wamid.CONFIRMED1"
    assert sent.status == "sent"
    with session_scope() as session:
        assert session.scalar(select(OutboxItem.state).where(OutboxItem.message_id == bot_message)) == "sent"


def test_messages_table_accepts_the_cancelled_status(any_db: Settings, fake_clock: FakeClock) -> None:
    chat = open_chat()
    bot_message = queue(chat, "x")
    with session_scope() as session:
        session.execute(update(Message).where(Message.id == bot_message).values(status="cancelled"))
    assert message(bot_message).status == "cancelled"
