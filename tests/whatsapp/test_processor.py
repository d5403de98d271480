"""Stored webhook events → domain: every kind, duplicates, staleness, echoes, ticks, history."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from sqlalchemy import select

from s7.config import Settings, reset_settings
from s7.db import session_scope
from s7.domain.chats import conversations, messages
from s7.domain.models import Contact, Conversation, InboundItem, Message, OutboxItem, WebhookEvent
from s7.whatsapp import processor
from s7.whatsapp.webhook import store_event
from tests.conftest import FakeClock, make_settings
from tests.whatsapp.conftest import CUSTOMER, BotCalls, conversation_of, encode, load, messages_of


def deliver(body: str | dict[str, Any]) -> int:
    """Store like the webhook does, then process everything due."""
    store_event(encode(load(body) if isinstance(body, str) else body))
    return processor.process_pending()


def events() -> list[WebhookEvent]:
    with session_scope() as session:
        return list(session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))


def items() -> list[InboundItem]:
    """Each update of each stored webhook, as a work item in its customer's lane."""
    with session_scope() as session:
        return list(session.scalars(select(InboundItem).order_by(InboundItem.id)))


def our_sent_message(wamid: str = "wamid.OUT1") -> int:
    """A bot message the Graph API accepted as `wamid` (the customer wrote first: window open)."""
    with session_scope() as session:
        conversation = conversations.ensure_conversation(session, wa_id=CUSTOMER, name="Sofía")
        conversation.last_customer_at = processor.now()
        message = messages.queue_outbound(session, conversation, author="bot", text="Tenemos Air Max 90 en 42")
        messages.mark_sent(session, message.id, wamid)
        for item in session.scalars(select(OutboxItem)):
            item.state = "sent"
        return message.id


def status_body(status: str, wamid: str = "wamid.OUT1", **extra: Any) -> dict[str, Any]:
    body = copy.deepcopy(load("status_delivered"))
    item = body["entry"][0]["changes"][0]["value"]["statuses"][0]
    item.update(id=wamid, status=status, timestamp=str(1795618740 + len(status)), **extra)
    return body


MESSAGE_KINDS = [
    ("text", "text", "Hola! ¿Tienen las Air Max 90 en 42? Precio en cuotas/contado"),
    ("interactive_button_reply", "button_reply", "Air Max 90"),
    ("interactive_list_reply", "list_reply", "Adidas Superstar"),
    ("template_button", "quick_reply", "Reservar"),
    ("image", "image", "¿esta la tienen?"),
    ("audio_voice", "audio", None),
    ("video", "video", None),
    ("document", "document", "comprobante"),
    ("sticker", "sticker", None),
    ("location", "location", "Obelisco · Av. 9 de Julio s/n, CABA"),
    ("contacts", "contacts", "Juan Pérez"),
    ("order", "order", "quiero estas"),
    ("unsupported", "unsupported", None),
    ("unsupported_legacy", "unsupported", None),
    ("unavailable_131060", "unsupported", None),
    ("new_message_type", "unsupported", None),
    ("interactive_without_object", "unsupported", None),
]


@pytest.mark.parametrize(("fixture", "kind", "text"), MESSAGE_KINDS)
def test_every_customer_message_kind_is_stored_once_and_given_to_the_bot(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls, fixture: str, kind: str, text: str | None
) -> None:
    assert deliver(fixture) >= 1  # (a message may travel with an error item of its own)
    [message] = messages_of()
    assert (message.direction, message.author, message.type, message.text) == ("in", "customer", kind, text)
    assert message.status == "received"
    assert bot_calls.wamids == [message.wa_message_id]
    conversation = conversation_of()
    assert conversation is not None and conversation.last_customer_at is not None  # window open
    assert [e.state for e in events()] == ["done"]


def test_selections_keep_the_chosen_id_for_the_bot(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("interactive_button_reply")
    deliver("interactive_list_reply")
    button, row = messages_of()
    assert button.options == [{"id": "sku:ZAP-NK-AM90", "title": "Air Max 90"}]
    assert button.context_wa_id == "wamid.OUT1"
    assert row.options[0]["id"] == "sku:ZAP-AD-SS"


def test_media_details_are_kept(any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls) -> None:
    deliver("audio_voice")
    deliver("unsupported")
    voice, unsupported = messages_of()
    assert voice.media == {
        "id": "1234567890987654321",
        "mime_type": "audio/ogg; codecs=opus",
        "sha256": "Ke8GgOmZ1mQt7P3cYeN0QrCtOT4=",
        "voice": True,
    }
    assert unsupported.media is not None and unsupported.media["unsupported_type"] == "poll_creation"
    assert unsupported.media["errors"][0].startswith("(131051)")


def test_contacts_are_keyed_by_wa_id_and_keep_the_business_scoped_id(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("text")
    deliver("image")
    with session_scope() as session:
        [contact] = session.scalars(select(Contact))
        assert (contact.wa_id, contact.user_id, contact.name) == (CUSTOMER, "AR.13491208655302741918", "Sofía Gómez")


def test_a_retried_or_rebatched_message_is_stored_and_answered_once(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("text")
    deliver("text")  # identical body: not even queued again
    rebatched = load("text")
    rebatched["entry"][0]["changes"][0]["value"]["messages"].append(
        load("image")["entry"][0]["changes"][0]["value"]["messages"][0]
    )
    deliver(rebatched)  # Meta batched it differently: a new event, same wamid inside
    assert [m.type for m in messages_of()] == ["text", "image"]
    assert len(bot_calls.calls) == 2
    assert [e.state for e in events()] == ["done", "done"]


def test_a_message_delivered_late_is_stored_but_never_auto_answered(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    fake_clock.advance(minutes=11)  # Meta redelivering after an outage
    deliver("text")
    assert len(messages_of()) == 1
    assert bot_calls.calls == []


def test_a_failing_bot_never_loses_the_customer_message(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    def explode(*_: Any) -> None:
        raise RuntimeError("catalog on fire")

    bot_calls.behaviour = explode
    deliver("text")
    assert len(messages_of()) == 1
    [item] = items()
    assert item.state == "done" and "catalog on fire" in (item.error or "")


def test_a_failing_update_does_not_sink_the_rest_of_its_batch_and_is_retried(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    def flaky(real: Any) -> Any:
        def opened(session: Any, *, wa_id: str, **kw: Any) -> Conversation | None:
            if wa_id == "5491155550002":
                raise RuntimeError("boom")
            return real(session, wa_id=wa_id, **kw)

        return opened

    # Both ways a first message opens its chat: the one-statement path and the general one.
    for name in ("open_first_chat", "ensure_conversation"):
        monkeypatch.setattr(conversations, name, flaky(getattr(conversations, name)))
    body = load("text")
    other = dict(body["entry"][0]["changes"][0]["value"]["messages"][0], id="wamid.OTHER", **{"from": "5491155550002"})
    body["entry"][0]["changes"][0]["value"]["messages"].insert(0, other)
    deliver(body)
    assert len(messages_of()) == 1  # the good message went through
    failing, good = items()
    assert (good.state, failing.state, failing.attempts) == ("done", "pending", 1) and "boom" in (failing.error or "")
    assert processor.process_pending() == 0  # not due yet: retries are spaced out
    for _ in range(processor.MAX_ATTEMPTS):
        fake_clock.advance(minutes=2)
        processor.process_pending()
    failing, good = items()
    assert (failing.state, failing.attempts) == ("failed", processor.MAX_ATTEMPTS)  # parked, not looping
    assert len(bot_calls.calls) == 1


def test_a_business_app_echo_is_a_human_reply_and_silences_the_bot(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("text")
    deliver("echo_text")
    customer, echo = messages_of()
    assert (echo.direction, echo.author, echo.status) == ("out", "business_app", "sent")
    assert echo.text == "Hola Sofía, te escribo desde el local: sí hay en 42"
    conversation = conversation_of()
    assert conversation is not None and conversation.mode == "HUMAN_TAKEOVER"
    assert conversation.human_source == "business_app"
    assert bot_calls.wamids == [customer.wa_message_id]  # never for the echo


def test_echo_edits_and_deletions_change_the_original(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("echo_text")
    deliver("echo_edit")
    [echo] = messages_of()
    assert echo.edited and echo.text == "Hola Sofía: sí hay en 42 y 43"
    deliver("echo_revoke")
    [echo] = messages_of()
    assert echo.revoked


def test_an_echo_of_our_own_send_changes_nothing(any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls) -> None:
    our_sent_message("wamid.ECHO1")
    deliver("echo_text")
    [ours] = messages_of()
    assert ours.author == "bot"
    conversation = conversation_of()
    assert conversation is not None and conversation.mode == "BOT_ON"


def test_an_echo_during_our_send_waits_for_the_wamid(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    with session_scope() as session:
        conversation = conversations.ensure_conversation(session, wa_id=CUSTOMER)
        conversation.last_customer_at = processor.now()
        message = messages.queue_outbound(session, conversation, author="bot", text="Hola")
        session.scalars(select(OutboxItem)).one().state = "sending"  # the Graph call is in flight
        message_id = message.id
    deliver("echo_text")
    [item] = items()
    assert item.state == "pending" and len(messages_of()) == 1
    with session_scope() as session:  # the send response arrives: it was our message
        messages.mark_sent(session, message_id, "wamid.ECHO1")
        session.scalars(select(OutboxItem)).one().state = "sent"
    fake_clock.advance(seconds=3)
    processor.process_pending()
    assert [m.author for m in messages_of()] == ["bot"]
    assert items()[0].state == "done"
    conversation_now = conversation_of()
    assert conversation_now is not None and conversation_now.mode == "BOT_ON"


def test_reactions_and_unreactions_mark_the_target(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    our_sent_message()
    deliver("reaction")
    assert messages_of()[0].reaction == "😮"
    deliver("unreaction_empty")
    assert messages_of()[0].reaction is None
    deliver("reaction")  # same body: already stored, no change
    deliver("unreaction_no_emoji")
    assert len(messages_of()) == 1 and messages_of()[0].reaction is None
    assert bot_calls.calls == []


@pytest.mark.parametrize(
    "order",
    [
        ("sent", "delivered", "read"),
        ("read", "delivered", "sent"),
        ("delivered", "read", "sent"),
        ("read", "sent"),
        ("sent", "read", "delivered", "read"),
    ],
)
def test_ticks_only_move_forward_whatever_the_arrival_order(
    any_db: Settings, fake_clock: FakeClock, order: tuple[str, ...]
) -> None:
    our_sent_message()
    for status in order:
        deliver(status_body(status))
    [message] = messages_of()
    assert message.status == "read"


def test_a_failed_status_shows_metas_reason_and_is_final(any_db: Settings, fake_clock: FakeClock) -> None:
    our_sent_message()
    deliver("status_sent")
    deliver("status_failed")
    deliver("status_delivered")
    [message] = messages_of()
    assert message.status == "failed"
    assert message.error is not None and message.error.startswith("(131047) Re-engagement message")
    assert "more than 24 hours" in message.error


def test_a_status_before_we_stored_the_wamid_waits_and_then_applies(any_db: Settings, fake_clock: FakeClock) -> None:
    message_id = our_sent_message("wamid.NOT-YET")
    deliver("status_delivered")  # for wamid.OUT1, which the send response has not given us yet
    [item] = items()
    assert item.state == "pending"
    with session_scope() as session:
        session.get(Message, message_id).wa_message_id = "wamid.OUT1"  # type: ignore[union-attr]
    fake_clock.advance(seconds=3)
    processor.process_pending()
    assert items()[0].state == "done"
    assert messages_of()[0].status == "delivered"


def test_a_status_carrying_our_callback_id_applies_before_the_send_response(
    any_db: Settings, fake_clock: FakeClock
) -> None:
    with session_scope() as session:
        conversation = conversations.ensure_conversation(session, wa_id=CUSTOMER)
        conversation.last_customer_at = processor.now()
        message_id = messages.queue_outbound(session, conversation, author="bot", text="Hola").id
    deliver(status_body("sent", "wamid.FRESH", biz_opaque_callback_data=f"s7:{message_id}"))
    [message] = messages_of()
    assert (message.status, message.wa_message_id) == ("sent", "wamid.FRESH")
    assert events()[0].state == "done"


def test_statuses_for_wamids_that_never_appear_are_dropped_after_the_last_try(
    any_db: Settings, fake_clock: FakeClock
) -> None:
    body = status_body("delivered", "wamid.FROM-META-MANAGER")
    our_sent_message()
    body["entry"][0]["changes"][0]["value"]["statuses"].append(
        status_body("read")["entry"][0]["changes"][0]["value"]["statuses"][0]
    )
    deliver(body)
    assert messages_of()[0].status == "read"  # the known one applied at once
    for _ in range(processor.MAX_ATTEMPTS):
        fake_clock.advance(minutes=2)
        processor.process_pending()
    unknown, known = items()
    assert (known.state, unknown.state) == ("done", "done") and "wamid.FROM-META-MANAGER" in (unknown.error or "")


def test_history_is_stored_without_bot_or_window(any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls) -> None:
    deliver("history")
    first, placeholder, customer = messages_of()
    assert (first.direction, first.author, first.status) == ("out", "business_app", "read")
    assert (placeholder.type, placeholder.status) == ("unsupported", "read")
    assert (customer.direction, customer.author, customer.text) == ("in", "customer", "Gracias!")
    assert bot_calls.calls == []
    conversation = conversation_of()
    assert conversation is not None
    assert conversation.last_customer_at is None and not messages.window_open(conversation)
    assert conversation.mode == "BOT_ON"


def test_the_address_book_names_known_customers(any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls) -> None:
    deliver("text")
    deliver("state_sync")
    with session_scope() as session:
        assert [c.name for c in session.scalars(select(Contact))] == ["Sofía Gómez (clienta VIP)"]


@pytest.mark.parametrize(
    "fixture", ["account_update", "value_errors", "unknown_field", "history_declined", "system_changed_number"]
)
def test_notices_are_handled_without_a_bot_turn(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls, fixture: str
) -> None:
    deliver(fixture)
    assert [e.state for e in events()] == ["done"]
    assert bot_calls.calls == []


def test_a_customer_changing_number_is_shown_as_a_system_notice(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("system_changed_number")
    assert messages_of() == []  # the chat now goes by the new number
    [notice] = messages_of("5491155550009")
    assert (notice.direction, notice.author, notice.type) == ("in", "system", "system")
    assert notice.text == "El cliente cambió su número de WhatsApp a +5491155550009."
    conversation = conversation_of("5491155550009")
    assert conversation is not None and conversation.last_customer_at is None


def test_a_batched_post_is_processed_whole(any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls) -> None:
    body: dict[str, Any] = {"object": "whatsapp_business_account", "entry": []}
    template = load("text")["entry"][0]["changes"][0]
    expected = []
    for e in range(4):
        changes = []
        for c in range(3):
            change = copy.deepcopy(template)
            value = change["value"]
            value["contacts"], value["messages"] = [], []
            for m in range(5):
                wa_id = f"54911000{e}{c}{m:02d}"
                value["contacts"].append({"profile": {"name": f"C {wa_id}"}, "wa_id": wa_id})
                value["messages"].append(
                    {
                        "from": wa_id,
                        "id": f"wamid.{wa_id}",
                        "timestamp": "1795618740",
                        "type": "text",
                        "text": {"body": "hola"},
                    }
                )
                expected.append(f"wamid.{wa_id}")
            changes.append(change)
        body["entry"].append({"id": "102290129340398", "changes": changes})
    deliver(body)
    with session_scope() as session:
        stored = sorted(session.scalars(select(Message.wa_message_id)))
        assert stored == sorted(expected)
        assert session.scalar(select(Conversation.id).order_by(Conversation.id.desc()).limit(1)) is not None
    assert sorted(bot_calls.wamids) == sorted(expected)


def test_traffic_for_another_number_of_the_waba_is_ignored(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    reset_settings(make_settings(DATABASE_URL=any_db.DATABASE_URL, WHATSAPP_PHONE_NUMBER_ID="999"))
    deliver("text")
    assert messages_of() == [] and bot_calls.calls == []
    assert [e.state for e in events()] == ["done"]


def test_the_stored_body_is_what_gets_processed(any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls) -> None:
    body = json.dumps(load("text"), ensure_ascii=False).encode()  # raw UTF-8, not escaped
    store_event(body)
    processor.process_pending()
    assert messages_of()[0].text == "Hola! ¿Tienen las Air Max 90 en 42? Precio en cuotas/contado"
