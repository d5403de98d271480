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

from s7 import realtime
from s7.clock import now
from s7.domain import bot
from s7.domain.billing import costs
from s7.domain.bot import welcome
from s7.domain.chats import ads, audit, consent, conversations, identity, messages
from s7.domain.models import Author, Contact, Conversation, ItemState, Message, OutboxItem

log = logging.getLogger(__name__)

# Meta redelivers for days after an outage: never auto-reply to what is older than this.
STALE_AFTER = timedelta(minutes=10)
PARKED_MARK = "No se pudo procesar: "  # on a parked customer message (cleared by a retry)
RECEIPT_KINDS = ("read", "typing")  # outbox rows that are not messages (they are never echoed)
NOT_FOR_THE_BOT = ("call_permission",)  # the customer's answer to our call request: for a person


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
    username: str | None = None
    # Around the content: forwarded, group_id (a group message), referral (the ad), errors.
    extra: dict[str, Any] | None = None


def stale(timestamp: datetime | None) -> bool:
    return timestamp is not None and now() - timestamp > STALE_AFTER


def _locked_chat(session: Session, incoming: Incoming) -> Conversation:
    """The customer's conversation (created on first contact), its row locked for this turn.

    A customer we already know by phone, writing under the same name and id, costs one
    statement (the usual case); a customer nobody knows, two more; anything else (a username to
    link, ids to merge) goes through `ensure_conversation`."""
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
        if known is None and not incoming.username:
            first = conversations.open_first_chat(
                session, wa_id=incoming.wa_id, name=incoming.name, user_id=incoming.user_id
            )
            if first is not None:
                return first
    conversation = conversations.ensure_conversation(
        session, wa_id=incoming.wa_id, name=incoming.name, user_id=incoming.user_id, username=incoming.username
    )
    return conversations.lock_for_turn(session, conversation.id)


def _same_identity(contact: Contact, incoming: Incoming) -> bool:
    """Nothing `ensure_conversation` would update or link: same name, BSUID and username."""
    return (
        (not incoming.name or contact.name == incoming.name)
        and (not incoming.user_id or contact.user_id == incoming.user_id)
        and (not incoming.username or contact.username == incoming.username)
    )


def _record(session: Session, conversation: Conversation, incoming: Incoming, **fields: Any) -> Message | None:
    message = messages.record_inbound(
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
    if message is not None and incoming.extra:
        message.extra = incoming.extra
        session.flush()
    return message


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
        if incoming.referral:
            ads.record_referral(session, conversation, message, incoming.referral)  # + the episode's source
        if (incoming.extra or {}).get("group_id"):
            conversations.touch(session, conversation, message)  # shown in the chat; no 1:1 window either
        else:
            conversations.on_customer_message(session, conversation, message)
    if (incoming.extra or {}).get("group_id"):
        return message  # a group message (also one retried after parking): never a 1:1 bot turn
    if consent.on_customer_text(session, conversation, message.text if message.type == "text" else None):
        return message  # "BAJA": opted out (told once), not a question for the bot
    if stale(incoming.timestamp):
        log.info("no auto-reply to %s: sent at %s, delivered late", incoming.wamid, incoming.timestamp)
        return message
    if not consent.bot_allowed(conversation.contact) or message.type in NOT_FOR_THE_BOT:
        return message  # a blocked contact, or an answer only a person should read
    try:
        with session.begin_nested():
            if message.type == "request_welcome":
                welcome.welcome_once(session, conversation)
            else:
                bot.respond(session, conversation, message)
    except Exception as exc:
        log.exception("the bot failed on %s", incoming.wamid)
        if notes is not None:
            notes.append(f"bot failed on {incoming.wamid}: {exc}")
    return message


def receive_system_notice(session: Session, incoming: Incoming) -> Message | None:
    """WhatsApp's own notice in a chat (the customer changed number or BSUID): the contact takes
    the new ids (`media.new_wa_id` / `media.user_id`) and the chat shows it; not the customer speaking."""
    conversation = _locked_chat(session, incoming)
    notice = incoming.media or {}
    if notice.get("new_wa_id") or notice.get("user_id"):
        contact = identity.change_ids(
            session, conversation.contact, new_phone=notice.get("new_wa_id"), new_bsuid=notice.get("user_id")
        )
        chat = conversations.ensure_conversation(session, wa_id=contact.wa_id, user_id=contact.bsuid)
        conversation = conversations.get(session, chat.id, for_update=True)
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
    elif incoming.media and incoming.media.get("id"):
        fill_placeholder(session, incoming)
    return message


def fill_placeholder(session: Session, incoming: Incoming) -> Message | None:
    """A backfilled media message first arrives as a `media_placeholder`; the later webhook with
    the same wamid carries the real media: it replaces the placeholder (and is fetched)."""
    message = messages.find_by_wamid(session, incoming.wamid, for_update=True)
    placeholder = message is not None and message.type == "unsupported"
    if not placeholder or (message.media or {}).get("unsupported_type") != "media_placeholder":
        return None
    message.type, message.text, message.media = incoming.type, incoming.text, incoming.media
    session.flush()
    from s7.domain.media import store as media_store  # local, like messages.record_inbound

    media_store.enqueue_fetch(session, message)
    realtime.publish_after_commit(session, "message", conversation_id=message.conversation_id, message_id=message.id)
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
    pricing: dict[str, Any] | None = None,
    recipient: tuple[str | None, str | None] | None = None,
) -> str | None:
    """A tick for one of our messages. Matched by wamid, or by our callback data when the tick
    beats the Graph response that tells us the wamid. Returns a note when it was dropped.

    `recipient` (phone, BSUID) links the two ids of a customer we wrote to; `pricing` (billable,
    pricing_model, category, type) fixes what the message cost, once (`billing.costs`)."""
    if recipient is not None:
        identity.learn(session, phone=recipient[0], bsuid=recipient[1])
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
    if pricing is not None:
        costs.charge(
            session,
            message,
            billable=pricing.get("billable"),
            category=pricing.get("category"),
            pricing_type=pricing.get("type"),
            pricing_model=pricing.get("pricing_model"),
            at=at,
        )
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
