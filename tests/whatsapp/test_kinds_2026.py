"""Every 2026 kind reaches the chat readable, and only the right ones reach the bot: groups, Flows
and address answers, welcome requests, call permissions, ads, forwards, history media, consent,
blocking."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import select

from s7.config import Settings
from s7.db import session_scope
from s7.domain.chats import consent, conversations, templates
from s7.domain.models import AdReferral, AuditEvent, Contact, Message, MessageTemplate, OutboxItem
from tests.chat_factory import make_user
from tests.conftest import FakeClock
from tests.whatsapp.conftest import CUSTOMER, BotCalls, conversation_of, load, messages_of
from tests.whatsapp.test_processor import deliver


def text_from_customer(body: str, wamid: str) -> dict[str, Any]:
    payload = copy.deepcopy(load("text"))
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update(id=wamid)
    message["text"]["body"] = body
    return payload


def outbox_texts() -> list[str]:
    with session_scope() as session:
        return [i.payload.get("text") for i in session.scalars(select(OutboxItem).where(OutboxItem.kind == "text"))]


def test_a_group_message_is_shown_as_such_and_never_answered_one_to_one(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("group_message")
    [message] = messages_of()
    assert message.extra == {"group_id": "120363041234567890"}
    assert bot_calls.calls == []
    conversation = conversation_of()
    assert conversation is not None and conversation.last_customer_at is None  # no 1:1 window either


def test_flow_and_address_answers_are_readable_fields(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("flow_reply")
    deliver("address_reply")
    flow, address = messages_of()
    assert (flow.type, flow.text) == ("flow_reply", "Talle: 42\nColor: blanco\nRetira en local: sí")
    assert address.type == "address"
    assert "Address: Av. Corrientes 1234" in (address.text or "") and "City: CABA" in (address.text or "")


def test_flow_answers_with_unreadable_json_stay_visible(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("flow_reply_invalid_json")
    deliver("flow_reply_null_json")
    invalid, null = messages_of()
    assert (invalid.type, invalid.text) == ("flow_reply", "Sent")
    assert invalid.media is not None and invalid.media["unreadable_response"] == "{talle: 42"
    assert (null.type, null.text) == ("flow_reply", "Sent")


def test_request_welcome_gets_the_bots_welcome_once(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("request_welcome")
    again = copy.deepcopy(load("request_welcome"))
    again["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.WELCOME2"
    deliver(again)
    assert sorted(m.type for m in messages_of()) == ["request_welcome", "request_welcome", "text"]
    assert len(outbox_texts()) == 1 and outbox_texts()[0].startswith("¡Hola!")
    assert bot_calls.calls == []


def test_a_call_permission_answer_is_shown_not_answered_by_the_bot(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("call_permission_reply")
    [message] = messages_of()
    assert (message.type, message.text) == ("call_permission", "Aceptó que lo llamemos")
    assert bot_calls.calls == []


def test_an_ad_referral_is_kept_for_the_chat_and_the_dashboard(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("referral")
    [message] = messages_of()
    assert message.extra is not None and message.extra["referral"]["headline"] == "Air Max 90 en 6 cuotas"
    with session_scope() as session:
        [ad] = session.scalars(select(AdReferral)).all()
        assert (ad.headline, ad.source_url, ad.message_id) == (
            "Air Max 90 en 6 cuotas",
            "https://fb.me/2ZulEu42P",
            message.id,
        )
        assert session.scalar(select(AuditEvent.actor).where(AuditEvent.action == "ad_referral")) == "customer"
    assert len(bot_calls.calls) == 1  # an ad's message is a customer question like any other


def test_forwarded_and_errors_are_marked(any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls) -> None:
    deliver("text_reply_forwarded")
    deliver("unsupported_legacy_error")
    forwarded, unsupported = messages_of()
    assert forwarded.extra == {"forwarded": True}
    assert unsupported.type == "unsupported"
    assert unsupported.media is not None
    assert unsupported.media["errors"] == ["(131051) Unsupported message type: Message type is not currently supported"]


def test_a_history_placeholder_is_replaced_when_its_media_arrives(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("history")
    deliver("history_media")
    _first, placeholder, _customer = messages_of()
    assert placeholder.type == "image"
    assert placeholder.media is not None and placeholder.media["id"] == "1234567890"
    assert placeholder.status == "read"  # the history's tick stays


def test_baja_opts_out_of_marketing_and_is_told_once(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("text")
    deliver(text_from_customer("BAJA", "wamid.B1"))
    deliver(text_from_customer("no me escriban más!!", "wamid.B2"))
    with session_scope() as session:
        contact = session.scalars(select(Contact)).one()
        assert not consent.may_send_marketing(contact)
        assert contact.marketing_opt_out_source == "chat"
    assert [t for t in outbox_texts() if t.startswith("Listo, no te vamos a mandar")] == [consent.OPT_OUT_REPLY]
    assert len(bot_calls.calls) == 1  # only the first, real question


def test_opt_out_words_are_not_guessed_from_questions() -> None:
    assert consent.asks_to_opt_out("BAJA")
    assert consent.asks_to_opt_out("por favor dejen de escribirme")
    assert consent.asks_to_opt_out("Quiero darme de baja")
    assert not consent.asks_to_opt_out("¿bajan de precio las Air Max?")
    assert not consent.asks_to_opt_out("la baja de precio es para todos los talles? " * 3)


def test_whatsapp_marketing_preferences_stop_and_resume(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("text")
    deliver("user_preferences_stop")
    with session_scope() as session:
        contact = session.scalars(select(Contact)).one()
        assert not consent.may_send_marketing(contact) and contact.marketing_opt_out_source == "whatsapp"
    deliver("user_preferences_resume")
    with session_scope() as session:
        assert consent.may_send_marketing(session.scalars(select(Contact)).one())


def test_a_blocked_contact_is_stored_and_shown_but_the_bot_stays_out(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("text")
    with session_scope() as session:
        seller = make_user(session, "Vera")
        contact = session.scalars(select(Contact)).one()
        assert consent.block(session, contact, seller)
        assert not consent.may_send_marketing(contact)
    deliver(text_from_customer("hola otra vez", "wamid.AFTERBLOCK"))
    assert [m.text for m in messages_of()][-1] == "hola otra vez"
    assert len(bot_calls.calls) == 1
    with session_scope() as session:
        conversation = conversations.ensure_conversation(session, wa_id=CUSTOMER)
        assert not conversations.bot_may_speak(session, conversation)


def test_every_fixture_kind_reaches_the_chat(any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls) -> None:
    """Nothing a customer sends is dropped: each 2026 message fixture leaves a row."""
    for name in ("bsuid_only_text", "group_message", "flow_reply", "request_welcome", "call_permission_reply"):
        deliver(name)
    with session_scope() as session:
        kinds = set(session.scalars(select(Message.type).where(Message.direction == "in")))
    assert {"text", "flow_reply", "request_welcome", "call_permission"} <= kinds


def test_no_marketing_template_goes_to_an_opted_out_customer(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("text")
    deliver("user_preferences_stop")
    with session_scope() as session:
        for name, category in (("promo_verano", "MARKETING"), ("aviso_envio", "UTILITY")):
            session.add(
                MessageTemplate(name=name, language="es_AR", status="APPROVED", category=category, components=[])
            )
        session.flush()
        conversation = conversations.ensure_conversation(session, wa_id=CUSTOMER)
        with pytest.raises(templates.TemplateRefused, match="no quiere recibir promociones"):
            templates.queue_template(
                session, conversation, author="seller", name="promo_verano", language="es_AR", params=[]
            )
        sent = templates.queue_template(
            session, conversation, author="seller", name="aviso_envio", language="es_AR", params=[]
        )
        assert sent.type == "template"
