"""One customer, one chat, whichever ids WhatsApp names them by (DESIGN rule 10): phone, BSUID,
username; linked when an update reveals two of them; merged when two chats turn out to be one."""

from __future__ import annotations

import copy
import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from s7.config import Settings
from s7.db import session_scope
from s7.domain.chats import conversations, identity, messages
from s7.domain.models import AuditEvent, Contact, Conversation, Message, Note
from s7.whatsapp import graph
from tests.chat_factory import make_user
from tests.conftest import FakeClock
from tests.whatsapp.conftest import CUSTOMER, BotCalls, load
from tests.whatsapp.test_processor import deliver, status_body

BSUID = "AR.13491208655302741918"
NEW_BSUID = "AR.24817305912873645029"


def contacts() -> list[tuple[str | None, str | None, str | None]]:
    with session_scope() as session:
        return [(c.wa_id, c.bsuid, c.username) for c in session.scalars(select(Contact).order_by(Contact.id))]


def chats() -> list[int]:
    with session_scope() as session:
        return list(session.scalars(select(Conversation.id).order_by(Conversation.id)))


def texts(conversation_id: int) -> list[str | None]:
    with session_scope() as session:
        return list(
            session.scalars(select(Message.text).where(Message.conversation_id == conversation_id).order_by(Message.id))
        )


def phone_only_text(wamid: str = "wamid.P1", body: str = "Hola, busco zapatillas") -> dict[str, Any]:
    """A customer known by phone only (before BSUIDs, or a peer that does not send them)."""
    payload = copy.deepcopy(load("text"))
    value = payload["entry"][0]["changes"][0]["value"]
    del value["contacts"][0]["user_id"]
    value["messages"][0].update(id=wamid)
    value["messages"][0]["text"]["body"] = body
    return payload


def test_a_customer_known_by_phone_who_writes_with_only_a_username_lands_in_the_same_chat(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("text")  # phone + BSUID (every 2026 webhook names both when it can)
    deliver("bsuid_only_text")  # later: no phone, a username
    assert contacts() == [(CUSTOMER, BSUID, "sofi.gomez")]
    [chat] = chats()
    assert texts(chat)[-1] == "Hola, soy yo otra vez"
    assert len(bot_calls.calls) == 2


def test_a_status_naming_phone_and_bsuid_links_them_before_the_customer_switches(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver(phone_only_text())
    with session_scope() as session:
        chat = conversations.ensure_conversation(session, wa_id=CUSTOMER)
        message = messages.queue_outbound(session, chat, author="bot", text="¡Hola!")
        messages.mark_sent(session, message.id, "wamid.OUT1")
    deliver(status_body("delivered", recipient_user_id=BSUID))
    deliver("bsuid_only_text")
    assert contacts() == [(CUSTOMER, BSUID, "sofi.gomez")]
    assert len(chats()) == 1


def test_a_message_revealing_both_ids_merges_two_existing_chats_into_the_older(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver(phone_only_text())  # chat 1: by phone
    deliver("bsuid_only_text")  # chat 2: by BSUID (nothing linked them yet)
    older, newer = chats()
    with session_scope() as session:
        seller = make_user(session, "Vera")
        conversations.add_note(session, newer, seller, "quiere el 42")
        conversations.takeover(session, newer, seller)
        conversations.set_lead(session, session.get(Conversation, newer), "HOT", actor="bot", reason="compra")
    deliver("text")  # phone + BSUID: the same person
    assert contacts() == [(CUSTOMER, BSUID, "sofi.gomez")]
    assert chats() == [older]
    assert texts(older) == [
        "Hola, busco zapatillas",
        "Hola, soy yo otra vez",
        "Hola! ¿Tienen las Air Max 90 en 42? Precio en cuotas/contado",
    ]
    with session_scope() as session:
        chat = session.get(Conversation, older)
        assert chat is not None
        assert (chat.mode, chat.assigned_to, chat.lead) == ("HUMAN_TAKEOVER", seller.id, "HOT")
        assert [n.text for n in session.scalars(select(Note).where(Note.conversation_id == older))] == ["quiere el 42"]
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.conversation_id == older)))
        assert "takeover" in " ".join(actions) and "contacts_merged" in actions


def test_a_bsuid_change_without_from_keeps_the_chat_and_says_so(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("text")
    deliver("system_changed_user_id")
    assert contacts() == [(CUSTOMER, NEW_BSUID, None)]
    [chat] = chats()
    assert texts(chat)[-1] == "El cliente cambió su identificador de WhatsApp (sigue siendo la misma persona)."
    assert len(bot_calls.calls) == 1  # a notice is not the customer speaking


@pytest.mark.parametrize("fixture", ["system_changed_number", "system_changed_number_legacy"])
def test_a_number_change_moves_the_contact_in_both_shapes(
    fixture: str, any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("text")
    deliver(fixture)
    assert contacts() == [("5491155550009", BSUID, None)]
    [chat] = chats()
    assert texts(chat)[-1] == "El cliente cambió su número de WhatsApp a +5491155550009."


def test_user_id_update_rotates_the_bsuid_once(any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls) -> None:
    deliver("text")
    deliver("user_id_update")
    deliver("system_changed_user_id")  # the same change told twice: one line
    assert contacts() == [(CUSTOMER, NEW_BSUID, None)]
    [chat] = chats()
    assert texts(chat).count("El cliente cambió su identificador de WhatsApp (sigue siendo la misma persona).") <= 2


def test_a_chat_without_phone_has_no_wa_id_and_sends_to_the_bsuid(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    deliver("bsuid_only_text")
    assert contacts() == [(None, BSUID, "sofi.gomez")]
    with session_scope() as session:
        chat = conversations.ensure_conversation(session, user_id=BSUID)
        assert identity.label_of(chat.contact) == "@sofi.gomez"
        messages.queue_outbound(session, chat, author="seller", text="¡Hola Sofi!")
        from s7.domain.models import OutboxItem

        item = session.scalars(select(OutboxItem).where(OutboxItem.kind == "text")).one()
        body = graph.build_request(item.kind, item.payload)
    assert body["recipient"] == BSUID and "to" not in body


def test_merging_the_same_pair_from_two_workers_at_once_leaves_one_chat(pg_db: Settings) -> None:
    with session_scope() as session:
        conversations.ensure_conversation(session, wa_id=CUSTOMER)
        conversations.ensure_conversation(session, user_id=BSUID)
    barrier, errors = threading.Barrier(2), []

    def link() -> None:
        try:
            barrier.wait()
            with session_scope() as session:
                conversations.ensure_conversation(session, wa_id=CUSTOMER, user_id=BSUID)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=link) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 1
    assert contacts() == [(CUSTOMER, BSUID, None)]
    assert len(errors) <= 1  # the loser may fail and be retried by the queue; never two chats
