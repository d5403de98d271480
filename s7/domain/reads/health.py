"""System health for admins (`/admin/salud`, `GET /api/health`): what the ordered core could not do.

- parked inbound items (`failed` after `processor.MAX_ATTEMPTS`): a customer's update that was
  never applied, with its error and the chat it belongs to;
- failed webhook events: a body (or a part of one) the parser could not read;
- failed sends: outbox rows Meta refused for good, with Meta's reason;
- the backlog: items waiting to be applied and how old the oldest one is.

Every figure is a count or a short, newest-first list over an indexed `state` column
(ix_inbound_items_state, ix_webhook_events_state_id, ix_outbox_state_next_attempt_at), so this
page stays cheap however many million rows are `done`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from s7.clock import now
from s7.domain.models import Contact, Conversation, InboundItem, Message, OutboxItem, WebhookEvent

RECENT = 20
PREVIEW = 200  # characters of a message shown next to a failed send
# Read receipts and the typing indicator are worthless late: not "failed sends", never resent.
RECEIPT_KINDS = ("read", "typing")


@dataclass(frozen=True)
class ParkedItem:
    id: int
    event_id: int
    chat_key: str
    kind: str
    error: str | None
    attempts: int
    at: datetime | None  # when it was parked (its last attempt)
    conversation_id: int | None  # None for lanes that are not a customer (statuses, account notices)
    customer: str | None  # the contact's name or phone, when resolvable


@dataclass(frozen=True)
class FailedEvent:
    id: int
    error: str | None
    received_at: datetime | None
    processed_at: datetime | None
    size: int  # characters of the raw body


@dataclass(frozen=True)
class FailedSend:
    id: int
    conversation_id: int
    customer: str | None
    kind: str
    text: str | None
    reason: str | None  # Meta's reason, as the sender recorded it
    attempts: int
    at: datetime | None


@dataclass(frozen=True)
class Summary:
    count: int
    first_error: str | None  # the oldest one's error: usually the cause of the rest
    recent: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Backlog:
    items_pending: int
    events_pending: int  # stored, not split into lanes yet
    oldest_pending_at: datetime | None
    oldest_age_seconds: float | None


@dataclass(frozen=True)
class Health:
    parked: Summary
    failed_events: Summary
    failed_sends: Summary
    backlog: Backlog
    checked_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """Plain values for the API (datetimes as ISO strings)."""
        return _plain(asdict(self))


def system_health(session: Session, *, recent: int = RECENT) -> Health:
    return Health(
        parked=parked_items(session, recent=recent),
        failed_events=failed_events(session, recent=recent),
        failed_sends=failed_sends(session, recent=recent),
        backlog=backlog(session),
        checked_at=now(),
    )


def parked_items(session: Session, *, recent: int = RECENT) -> Summary:
    failed = InboundItem.state == "failed"
    count = session.scalar(select(func.count()).select_from(InboundItem).where(failed)) or 0
    if not count:
        return Summary(0, None)
    first_error = session.scalar(select(InboundItem.error).where(failed).order_by(InboundItem.id).limit(1))
    rows = list(session.scalars(select(InboundItem).where(failed).order_by(InboundItem.id.desc()).limit(recent)))
    chats = chats_of_lanes(session, {row.chat_key for row in rows})
    items = [
        ParkedItem(
            id=row.id,
            event_id=row.event_id,
            chat_key=row.chat_key,
            kind=row.kind,
            error=row.error,
            attempts=row.attempts,
            at=row.processed_at or row.created_at,
            conversation_id=chats.get(row.chat_key, (None, None))[0],
            customer=chats.get(row.chat_key, (None, None))[1],
        )
        for row in rows
    ]
    return Summary(count, first_error, items)


def failed_events(session: Session, *, recent: int = RECENT) -> Summary:
    failed = WebhookEvent.state == "failed"
    count = session.scalar(select(func.count()).select_from(WebhookEvent).where(failed)) or 0
    if not count:
        return Summary(0, None)
    first_error = session.scalar(select(WebhookEvent.error).where(failed).order_by(WebhookEvent.id).limit(1))
    rows = session.execute(
        select(
            WebhookEvent.id,
            WebhookEvent.error,
            WebhookEvent.received_at,
            WebhookEvent.processed_at,
            func.length(WebhookEvent.body),
        )
        .where(failed)
        .order_by(WebhookEvent.id.desc())
        .limit(recent)
    ).all()
    return Summary(count, first_error, [FailedEvent(*row) for row in rows])


def failed_sends(session: Session, *, recent: int = RECENT) -> Summary:
    failed = (OutboxItem.state == "failed") & OutboxItem.kind.not_in(RECEIPT_KINDS)
    count = session.scalar(select(func.count()).select_from(OutboxItem).where(failed)) or 0
    if not count:
        return Summary(0, None)
    first_error = session.scalar(select(OutboxItem.last_error).where(failed).order_by(OutboxItem.id).limit(1))
    rows = session.execute(
        select(
            OutboxItem.id,
            OutboxItem.conversation_id,
            func.coalesce(Contact.name, Contact.wa_id),
            OutboxItem.kind,
            func.substr(Message.text, 1, PREVIEW),
            func.coalesce(OutboxItem.last_error, Message.error),
            OutboxItem.attempts,
            OutboxItem.next_attempt_at,
        )
        .join(Conversation, Conversation.id == OutboxItem.conversation_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(Message, Message.id == OutboxItem.message_id)
        .where(failed)
        .order_by(OutboxItem.id.desc())
        .limit(recent)
    ).all()
    # A failed row's next_attempt_at is set to the moment it was given up (outbox.record_failure).
    return Summary(count, first_error, [FailedSend(*row) for row in rows])


def backlog(session: Session) -> Backlog:
    pending = InboundItem.state == "pending"
    items, oldest = session.execute(select(func.count(), func.min(InboundItem.created_at)).where(pending)).one()
    events = session.scalar(select(func.count()).select_from(WebhookEvent).where(WebhookEvent.state == "pending")) or 0
    age = (now() - oldest).total_seconds() if oldest is not None else None  # min() keeps the UTC type
    return Backlog(int(items or 0), int(events), oldest, age)


def chats_of_lanes(session: Session, keys: set[str]) -> dict[str, tuple[int | None, str | None]]:
    """Lane key (`wa:<phone>` / `u:<business-scoped id>`) → (conversation id, customer label)."""
    phones = {key[3:] for key in keys if key.startswith("wa:")}
    user_ids = {key[2:] for key in keys if key.startswith("u:")}
    if not phones and not user_ids:
        return {}
    rows = session.execute(
        select(Contact.wa_id, Contact.user_id, Contact.name, Conversation.id)
        .outerjoin(Conversation, Conversation.contact_id == Contact.id)
        .where(or_(Contact.wa_id.in_(phones), Contact.user_id.in_(user_ids)))
    ).all()
    found: dict[str, tuple[int | None, str | None]] = {}
    for wa_id, user_id, name, conversation_id in rows:
        label = name or wa_id
        if wa_id in phones:
            found[f"wa:{wa_id}"] = (conversation_id, label)
        if user_id and user_id in user_ids:
            found.setdefault(f"u:{user_id}", (conversation_id, label))
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
