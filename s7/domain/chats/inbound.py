"""One entry per inbound kind: the domain owns the sequence ensure → lock → record → window → bot.

The edge (`s7/whatsapp/processor.py`) parses Meta's JSON into typed updates once, turns each into
an `Incoming` record, and calls exactly one function here per update, inside the chat's lane (one
writer per chat, rule 9). Each entry locks the conversation row before it reads or writes intent,
lead or bot state, so a seller's takeover in the panel and the bot's turn never interleave.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from s7.clock import now
from s7.domain import bot
from s7.domain.chats import audit, conversations, messages, outcomes
from s7.domain.models import Author, Contact, Conversation, ItemState, Message, OutboxItem

log = logging.getLogger(__name__)

# Meta redelivers for days after an outage: never auto-reply to what is older than this.
STALE_AFTER = timedelta(minutes=10)
PARKED_MARK = "No se pudo procesar: "  # on a parked customer message (cleared by a retry)
RECEIPT_KINDS = ("read", "typing")  # outbox rows that are not messages (they are never echoed)


class Deferred(Exception):
    """This update cannot be applied yet (e.g. its message is not stored yet); try again soon."""


@dataclass(frozen=True, slots=True)
class Incoming:
    """A message as the domain needs it, whatever wire shape it came in."""

    wamid: str
    wa_id: str | None
    type: str
    text: str | None = None
    options: list[dict[str, str]] | None = None
    media: dict[str, Any] | None = None
    timestamp: datetime | None = None
    user_id: str | None = None
    name: str | None = None
    context_wamid: str | None = None
    referral: dict[str, Any] | None = None  # a click-to-WhatsApp ad brought the customer


def stale(timestamp: datetime | None) -> bool:
    return timestamp is not None and now() - timestamp > STALE_AFTER


def _locked_chat(session: Session, incoming: Incoming) -> Conversation:
    """The customer's conversation (created on first contact), its row locked for this turn.

    A customer we already know by phone, writing under the same name and id, costs one
    statement (the usual case); anything else goes through `ensure_conversation`."""
    if incoming.wa_id:
        known = session.scalar(
            select(Conversation)
            .join(Contact, Contact.id == Conversation.contact_id)
            .options(contains_eager(Conversation.contact))
            .where(Contact.wa_id == incoming.wa_id)
            .with_for_update(of=Conversation)
            .execution_options(populate_existing=True)
        )
        if known is not None and _same_identity(known.contact, incoming):
            conversations.mark_locked(session, known.id)
            return known
    conversation = conversations.ensure_conversation(
        session, wa_id=incoming.wa_id, name=incoming.name, user_id=incoming.user_id
    )
    return conversations.lock_for_turn(session, conversation.id)


def _same_identity(contact: Contact, incoming: Incoming) -> bool:
    return (not incoming.name or contact.name == incoming.name) and (
        not incoming.user_id or contact.user_id == incoming.user_id
    )


def _record(session: Session, conversation: Conversation, incoming: Incoming, **fields: Any) -> Message | None:
    return messages.record_inbound(
        session,
        conversation,
        wa_message_id=incoming.wamid,
        type=incoming.type,
        text=incoming.text,
        options=incoming.options,
        media=incoming.media,
        context_wa_id=incoming.context_wamid,
        created_at=incoming.timestamp or now(),
        **fields,
    )


# ---- the entries ----------------------------------------------------------------------------------
def receive_customer_message(session: Session, incoming: Incoming, *, notes: list[str] | None = None) -> Message | None:
    """A customer wrote: store it once, reopen the window, and let the bot take its turn.

    Returns the stored message, or None for a redelivery. A failing bot turn is logged (and
    noted in `notes`) and the message stays stored and visible (a retry would not re-run the bot:
    the wamid exists).
    """
    conversation = _locked_chat(session, incoming)
    message = _record(session, conversation, incoming)
    if message is None:
        message = _unparked(session, conversation, incoming.wamid)
        if message is None:
            return None
    else:
        conversations.on_customer_message(session, conversation, message)
        if incoming.referral:
            outcomes.note_ad_referral(session, conversation, incoming.referral)
    if stale(incoming.timestamp):
        log.info("no auto-reply to %s: sent at %s, delivered late", incoming.wamid, incoming.timestamp)
        return message
    try:
        with session.begin_nested():
            bot.respond(session, conversation, message)
    except Exception as exc:
        log.exception("the bot failed on %s", incoming.wamid)
        if notes is not None:
            notes.append(f"bot failed on {incoming.wamid}: {exc}")
    return message


def receive_system_notice(session: Session, incoming: Incoming) -> Message | None:
    """WhatsApp's own notice in a chat (e.g. the customer changed number): shown, not spoken."""
    conversation = _locked_chat(session, incoming)
    return _record(session, conversation, incoming, author=Author.SYSTEM, direction="in")


def receive_business_echo(session: Session, incoming: Incoming, *, final: bool) -> Message | None:
    """A human answered from the WhatsApp Business app on the phone: a takeover (rule 1)."""
    if messages.find_by_wamid(session, incoming.wamid) is not None:
        return None  # our own send coming back, or a redelivery
    conversation = _locked_chat(session, incoming)
    if not final and send_in_flight(session, conversation.id):
        # Possibly our own message echoed before we stored its wamid: treating it as a human
        # would silence the bot with its own words. Wait for the send to settle.
        raise Deferred(f"echo {incoming.wamid} waits for a send in flight")
    message = _record(session, conversation, incoming, author=Author.BUSINESS_APP)
    if message is None:
        return None
    conversations.touch(session, conversation, message)
    if stale(incoming.timestamp):
        return message  # an old phone reply replayed late: history, not a takeover now
    conversations.record_human_message(session, conversation, source="business_app")
    return message


def receive_history_message(
    session: Session, incoming: Incoming, *, from_business: bool, status: str | None
) -> Message | None:
    """Backfill of the phone's history: stored in the thread, never a bot turn or a window."""
    conversation = _locked_chat(session, incoming)
    author = Author.BUSINESS_APP if from_business else Author.CUSTOMER
    message = _record(session, conversation, incoming, author=author, status=status)
    if message is not None:
        conversations.touch(session, conversation, message)
    return message


def receive_status(
    session: Session,
    *,
    wamid: str,
    status: str,
    at: datetime | None,
    error: str | None,
    our_message_id: int | None,
    final: bool,
) -> str | None:
    """A tick for one of our messages. Matched by wamid, or by our callback data when the tick
    beats the Graph response that tells us the wamid. Returns a note when it was dropped."""
    message = messages.find_by_wamid(session, wamid, for_update=True)
    if message is None and our_message_id is not None:
        message = _our_send(session, our_message_id, wamid)
    if message is None:
        if final:
            return f"status {status} for unknown {wamid} dropped"
        raise Deferred(f"status {status} waits for {wamid}")
    status = "read" if status == "played" else status
    if status not in ("sent", "delivered", "read", "failed"):
        log.info("ignored status %r for %s", status, wamid)
        return None
    if status == "failed" and not error:
        error = "Falló el envío"
    messages.apply_status(session, message, status, at=at, error=error, wa_message_id=wamid)
    return None


def receive_contact_name(session: Session, *, wa_id: str, full_name: str) -> None:
    """The business app's address book: the name the store gave a customer we already know."""
    contact = session.scalar(select(Contact).where(Contact.wa_id == wa_id))
    if contact is not None and contact.name != full_name:
        contact.name = full_name[:200]


# ---- helpers ----------------------------------------------------------------------------------------
def _our_send(session: Session, message_id: int, wamid: str) -> Message | None:
    message = session.get(Message, message_id)
    if message is None or message.direction != "out" or message.wa_message_id not in (None, wamid):
        return None
    return message


def send_in_flight(session: Session, conversation_id: int) -> bool:
    """A message of ours to this chat is on the wire right now."""
    return (
        session.scalar(
            select(OutboxItem.id)
            .where(
                OutboxItem.conversation_id == conversation_id,
                OutboxItem.state == ItemState.SENDING,
                OutboxItem.kind.not_in(RECEIPT_KINDS),
            )
            .limit(1)
        )
        is not None
    )


def _unparked(session: Session, conversation: Conversation, wamid: str) -> Message | None:
    """An admin retried a parked message (`s7.domain.health`): it was stored and shown, marked,
    without its bot turn. Clear the mark; the caller lets the bot take the turn it never had."""
    message = messages.find_by_wamid(session, wamid, for_update=True)
    if message is None or message.conversation_id != conversation.id:
        return None
    if not (message.error or "").startswith(PARKED_MARK):
        return None
    message.error = None
    audit.changed(session, conversation)
    return message


def record_parked(session: Session, incoming: Incoming, *, error: str) -> Message | None:
    """A customer message we could not process after every attempt: still stored and shown in
    its chat, marked, without a bot turn (admins see it on the health page and may retry it)."""
    conversation = _locked_chat(session, incoming)
    message = _record(session, conversation, incoming)
    if message is None:
        return None
    message.error = f"{PARKED_MARK}{error}"[:2000]
    conversations.on_customer_message(session, conversation, message)
    return message
