"""Messages of a chat: recording what came in, THE one send path, ticks, the 24-hour window.

Free of the WhatsApp wire format: the edge (`s7.whatsapp`) parses Meta's JSON into types and
calls these functions; the outbox turns the rows queued here into Graph API requests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from s7 import realtime
from s7.clock import now
from s7.db import is_postgres
from s7.domain.chats import activity, gate, identity
from s7.domain.models import Conversation, Message, OutboxItem

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
OUTBOX_CHANNEL = "s7_outbox"  # NOTIFY channel: a sender in another process wakes up at once

# WhatsApp's own limits (reference §6), enforced here so a bad send fails at queue time, in the
# caller's transaction, not minutes later in the sender.
TEXT_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_ROWS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
LIST_BUTTON_LABEL = "Ver opciones"

# Ticks only move forward; `failed` is terminal.
STATUS_RANK = {"received": 0, "queued": 0, "sent": 1, "delivered": 2, "read": 3}
SENDER_AUTHORS = ("bot", "seller", "system")


class WindowClosed(Exception):
    """A free-form message outside the 24-hour customer-service window: WhatsApp would refuse it
    (131047), so it is refused here, visibly, before anything is queued."""

    def __init__(self, conversation_id: int, closed_at: datetime | None) -> None:
        self.conversation_id = conversation_id
        self.closed_at = closed_at
        super().__init__(f"24-hour window closed for conversation {conversation_id} (closed at {closed_at})")

    @property
    def user_message(self) -> str:
        return (
            "La ventana de 24 horas está cerrada: el cliente tiene que escribir primero "
            "(fuera de la ventana WhatsApp solo permite plantillas aprobadas)."
        )


class InvalidMessage(ValueError):
    """A message WhatsApp cannot take as given (too long, too many options, duplicate titles)."""


# ---- the 24-hour window ---------------------------------------------------------------------
def window_closes_at(conversation: Conversation) -> datetime | None:
    """When free-form sending stops; None if the customer never wrote (history does not count)."""
    if conversation.last_customer_at is None:
        return None
    return conversation.last_customer_at + WINDOW


def window_open(conversation: Conversation, at: datetime | None = None) -> bool:
    closes = window_closes_at(conversation)
    return closes is not None and (at or now()) < closes


# ---- inbound (and what the business app sent) ----------------------------------------------
def find_by_wamid(session: Session, wa_message_id: str, *, for_update: bool = False) -> Message | None:
    """`for_update` locks the row (Postgres) so concurrent tick updates cannot interleave."""
    statement = select(Message).where(Message.wa_message_id == wa_message_id)
    if for_update and is_postgres(session):
        statement = statement.with_for_update()
    return session.scalar(statement)


def record_inbound(
    session: Session,
    conversation: Conversation,
    *,
    wa_message_id: str,
    type: str,
    text: str | None,
    options: list[dict[str, str]] | None = None,
    media: dict[str, Any] | None = None,
    context_wa_id: str | None = None,
    created_at: datetime | None,
    author: str = "customer",
    status: str | None = None,
    direction: str | None = None,
) -> Message | None:
    """Store a message WhatsApp told us about, once per wamid: None means we already had it
    (a Meta retry, a second replica, our own send echoed back) and the caller does nothing more.

    `author="customer"` is inbound; `"business_app"` is a human on the phone (direction out);
    WhatsApp's own notices (a customer changed number) are `author="system", direction="in"`.
    """
    inbound = (direction or ("in" if author == "customer" else "out")) == "in"
    at = created_at or now()
    fields = {
        "conversation_id": conversation.id,
        "wa_message_id": wa_message_id,
        "direction": "in" if inbound else "out",
        "author": author,
        "type": type,
        "text": text,
        "options": options or [],
        "media": media,
        "context_wa_id": context_wa_id,
        "status": status or ("received" if inbound else "sent"),
        "status_at": at,
        "created_at": at,
    }
    if media is None:
        del fields["media"]  # SQL NULL, not a JSON null
    # One statement: the unique wamid decides, atomically, even against another replica
    # inserting the same message right now (it waits for that commit, then does nothing).
    insert = pg_insert if is_postgres(session) else sqlite_insert
    statement = insert(Message).values(**fields).on_conflict_do_nothing(index_elements=["wa_message_id"])
    message = session.scalars(statement.returning(Message)).first()
    if message is None:
        return None
    if media is not None:
        from s7.domain import media as media_store  # local: media imports this package's models

        media_store.enqueue_fetch(session, message)  # fetched now, off this chat's ordered path
    realtime.publish_after_commit(session, "message", conversation_id=conversation.id, message_id=message.id)
    return message


def set_reaction(session: Session, target_wa_id: str, emoji: str | None) -> Message | None:
    """The customer reacted to (or un-reacted from, `emoji=None`) one of the chat's messages."""
    target = find_by_wamid(session, target_wa_id)
    if target is None:
        return None
    if target.reaction != emoji:
        target.reaction = emoji
        session.flush()
        realtime.publish_after_commit(session, "message", conversation_id=target.conversation_id, message_id=target.id)
    return target


def apply_edit(
    session: Session, original_wa_id: str, *, text: str | None, media: dict[str, Any] | None
) -> Message | None:
    """The sender edited a message: keep the new text, flag it as edited."""
    target = find_by_wamid(session, original_wa_id)
    if target is None:
        return None
    if text is not None:
        target.text = text
    if media:
        target.media = {**(target.media or {}), **media}
    target.edited = True
    session.flush()
    realtime.publish_after_commit(session, "message", conversation_id=target.conversation_id, message_id=target.id)
    return target


def apply_revoke(session: Session, original_wa_id: str) -> Message | None:
    """The sender deleted a message for everyone: keep the row (audit), flag it revoked."""
    target = find_by_wamid(session, original_wa_id)
    if target is None:
        return None
    target.revoked = True
    session.flush()
    realtime.publish_after_commit(session, "message", conversation_id=target.conversation_id, message_id=target.id)
    return target


# ---- ticks ---------------------------------------------------------------------------------
def apply_status(
    session: Session,
    message: Message,
    status: str,
    *,
    at: datetime | None = None,
    error: str | None = None,
    wa_message_id: str | None = None,
    flush: bool = True,
) -> bool:
    """Move a sent message's tick forward (queued < sent < delivered < read); `failed` is final.

    Webhooks arrive out of order and repeated, so an older tick never overwrites a newer one.
    Returns True when something changed. `flush=False` leaves the UPDATE to the caller's next
    flush (the sender settles a round of messages in one).
    """
    changed = False
    if wa_message_id and message.wa_message_id is None:
        message.wa_message_id = wa_message_id  # the status beat the send response here
        changed = True
    current = message.status
    if current == "failed":
        pass
    elif status == "failed":
        if current != "read":  # a read message was delivered, whatever a late failure says
            message.status, message.error, changed = "failed", error, True
            from s7.domain.bot import cards  # local: the bot imports this module

            cards.resend_as_text(session, message, error)  # a product card whose photo Meta could not use
    elif status in STATUS_RANK and STATUS_RANK[status] > STATUS_RANK.get(current, 0):
        message.status, changed = status, True
    if changed:
        message.status_at = at or now()
        if flush:
            session.flush()
        realtime.publish_after_commit(
            session,
            "status",
            conversation_id=message.conversation_id,
            message_id=message.id,
            status=message.status,
        )
    return changed


def mark_sent(session: Session, message_id: int, wa_message_id: str, *, at: datetime | None = None) -> None:
    """The Graph API accepted our send: store its wamid (statuses refer to it)."""
    message = session.get(Message, message_id, with_for_update=is_postgres(session))
    if message is None:
        return
    apply_status(session, message, "sent", at=at, wa_message_id=wa_message_id)


def fail(session: Session, message: Message, error: str, *, at: datetime | None = None, flush: bool = True) -> None:
    """The send failed for good (the caller holds the message, locked): sellers see Meta's reason."""
    if message.status != "failed":
        message.status, message.error, message.status_at = "failed", error, at or now()
        if flush:
            session.flush()
        realtime.publish_after_commit(
            session, "status", conversation_id=message.conversation_id, message_id=message.id, status="failed"
        )


def requeue_failed(session: Session, message_id: int) -> None:
    """An admin retries a failed send: the message waits for the sender again (its outbox row was
    put back to pending in this transaction; the send gate still applies)."""
    message = session.get(Message, message_id, with_for_update=is_postgres(session))
    if message is None:
        return
    if message.status == "failed":
        message.status, message.error, message.status_at = "queued", None, now()
        session.flush()
        realtime.publish_after_commit(
            session, "status", conversation_id=message.conversation_id, message_id=message.id, status="queued"
        )
    _wake_senders_after_commit(session)


# ---- outbound: the one send path ------------------------------------------------------------
def queue_outbound(
    session: Session,
    conversation: Conversation,
    *,
    author: str,
    text: str,
    options: list[dict[str, str]] | None = None,
    as_list: bool = False,
    user_id: int | None = None,
    reply_to_wa_id: str | None = None,
) -> Message:
    """Queue a message for the customer, in the caller's transaction (bot, sellers and jobs alike).

    Options become reply buttons (≤ 3) or, with `as_list` or more than 3 of them, a list (≤ 10).
    Titles longer than WhatsApp allows are shortened with "…". Raises `WindowClosed` outside the
    24-hour window and `InvalidMessage` for what WhatsApp would reject anyway.
    """
    text = (text or "").strip()
    if not text:
        raise InvalidMessage("El mensaje está vacío")
    kind, fitted = _shape(text, options or [], as_list)
    message = new_outbound(
        session,
        conversation,
        author=author,
        kind=kind,
        text=text,
        options=fitted,
        user_id=user_id,
        reply_to_wa_id=reply_to_wa_id,
    )
    payload: dict[str, Any] = {"to": conversation.contact.wa_id, "text": text, "reply_to": reply_to_wa_id}
    if fitted:
        payload["options"] = fitted
    if kind == "list":
        payload["button"] = LIST_BUTTON_LABEL
    send(session, conversation, message, payload)
    return message


def new_outbound(
    session: Session,
    conversation: Conversation,
    *,
    author: str,
    kind: str,
    text: str | None,
    options: list[dict[str, str]] | None = None,
    media: dict[str, Any] | None = None,
    user_id: int | None = None,
    reply_to_wa_id: str | None = None,
    needs_window: bool = True,
) -> Message:
    """The queued message row of any kind (text, media, card, template), not yet sent: `send`
    queues it. Raises `WindowClosed` outside the 24-hour window unless `needs_window=False`
    (approved templates are the one kind WhatsApp takes outside it)."""
    if author not in SENDER_AUTHORS:
        raise ValueError(f"author must be one of {SENDER_AUTHORS}")
    at = now()
    if needs_window and not window_open(conversation, at):
        raise WindowClosed(conversation.id, window_closes_at(conversation))
    message = Message(
        conversation_id=conversation.id,
        direction="out",
        author=author,
        author_user_id=user_id,
        type=kind,
        text=text,
        options=options or [],
        context_wa_id=reply_to_wa_id,
        status="queued",
        status_at=at,
        created_at=at,
    )
    if media is not None:
        message.media = media
    session.add(message)
    session.flush()
    return message


def send(session: Session, conversation: Conversation, message: Message, payload: dict[str, Any]) -> None:
    """THE send path: the outbox row for a message from `new_outbound`, in the caller's
    transaction, behind the send gate when a bot or a job wrote it."""
    # The phone when known; a username-only customer gets the BSUID (sent as `recipient`).
    payload = {**payload, "to": identity.address_of(conversation.contact)}
    _add_outbox(session, conversation.id, message.id, message.type, payload, gated=gate.is_gated(message.author))
    activity.touch(session, conversation, message)


def queue_read_receipt(
    session: Session, conversation: Conversation, wa_message_id: str, *, typing: bool = False
) -> None:
    """Blue ticks for a customer's message; `typing=True` also shows "escribiendo…" (≤ 25 s),
    so only ask for it right before a reply."""
    kind = "typing" if typing else "read"
    # The typing indicator is the bot about to speak: gated. A read receipt is harmless either way.
    _add_outbox(session, conversation.id, None, kind, {"message_id": wa_message_id}, gated=typing)


def _add_outbox(
    session: Session,
    conversation_id: int,
    message_id: int | None,
    kind: str,
    payload: dict[str, Any],
    *,
    gated: bool,
) -> None:
    # A plain INSERT (nothing reads the row back in this transaction): no unit-of-work flush.
    session.execute(
        insert(OutboxItem.__table__).values(
            conversation_id=conversation_id,
            message_id=message_id,
            kind=kind,
            payload=payload,
            gated=gated,
            state="pending",
            attempts=0,
            next_attempt_at=now(),
            created_at=now(),
        )
    )
    if is_postgres(session) and not session.info.get(_WAKE_KEY):
        # NOTIFY is transactional: senders in other processes hear it only if this commits.
        # Once per transaction is enough (the sender drains everything due when woken).
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})
    _wake_senders_after_commit(session)


def _shape(text: str, options: list[dict[str, str]], as_list: bool) -> tuple[str, list[dict[str, str]]]:
    """Decide text / buttons / list and fit the options to WhatsApp's limits."""
    if not options:
        if len(text) > TEXT_MAX:
            raise InvalidMessage(f"El mensaje supera los {TEXT_MAX} caracteres")
        return "text", []
    if len(text) > INTERACTIVE_BODY_MAX:
        raise InvalidMessage(f"Un mensaje con opciones no puede superar los {INTERACTIVE_BODY_MAX} caracteres")
    use_list = as_list or len(options) > BUTTONS_MAX
    if len(options) > LIST_ROWS_MAX:
        raise InvalidMessage(f"WhatsApp admite hasta {LIST_ROWS_MAX} opciones por mensaje")
    title_max, id_max = (ROW_TITLE_MAX, ROW_ID_MAX) if use_list else (BUTTON_TITLE_MAX, BUTTON_ID_MAX)
    fitted: list[dict[str, str]] = []
    for option in options:
        option_id = str(option.get("id") or "").strip()
        title = _fit(str(option.get("title") or ""), title_max)
        if not option_id or not title:
            raise InvalidMessage("Cada opción necesita id y título")
        if len(option_id) > id_max:
            raise InvalidMessage(f"El id de opción supera los {id_max} caracteres")
        row = {"id": option_id, "title": title}
        if use_list and option.get("description"):
            row["description"] = _fit(str(option["description"]), ROW_DESCRIPTION_MAX)
        fitted.append(row)
    titles = [o["title"].casefold() for o in fitted]
    ids = [o["id"] for o in fitted]
    if len(set(titles)) != len(titles) or len(set(ids)) != len(ids):
        raise InvalidMessage("Las opciones deben tener títulos e ids distintos")
    return ("list" if use_list else "buttons"), fitted


def _fit(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


# ---- waking the sender ----------------------------------------------------------------------
# The outbox sender registers here; the domain stays ignorant of who sends.
_outbox_listeners: list[Callable[[], None]] = []
_WAKE_KEY = "s7_outbox_wake"


def on_outbox_committed(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` (from any thread) after a transaction that queued outbox rows commits."""
    _outbox_listeners.append(callback)

    def remove() -> None:
        if callback in _outbox_listeners:
            _outbox_listeners.remove(callback)

    return remove


def _wake_senders_after_commit(session: Session) -> None:
    if session.info.get(_WAKE_KEY):
        return
    session.info[_WAKE_KEY] = True
    sa_event.listen(session, "after_commit", _fire_wake, once=True)


def _fire_wake(session: Session) -> None:
    session.info.pop(_WAKE_KEY, None)
    for callback in list(_outbox_listeners):
        try:
            callback()
        except Exception:
            log.exception("outbox wake-up callback failed")
