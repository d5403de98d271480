"""What an admin can do about what the health page shows (`reads.health`): retry a parked item,
split a failed webhook event again, retry a failed send, read an event's raw body.

Each action puts the thing back on the normal path (the processor's lanes, the outbox and its send
gate) instead of doing the work here, so the usual ordering and safety rules still apply, and
each one leaves an audit row (actor `admin`). Reading a raw body is audited too: it is a
customer's personal data.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from s7.clock import now
from s7.db import is_postgres
from s7.domain.chats import audit, lanes, messages
from s7.domain.models import Conversation, InboundItem, OutboxItem, User, WebhookEvent
from s7.domain.reads.health import RECEIPT_KINDS, chats_of_lanes


class HealthError(Exception):
    """A repair that cannot be done; the message is for the admin (Spanish)."""


class NotFound(HealthError):
    pass


class NotRetryable(HealthError):
    pass


class NotAllowed(HealthError):
    pass


def retry_parked_item(session: Session, item_id: int, *, actor_id: int) -> InboundItem:
    """A parked item goes back to its lane as if it were new (attempts from zero); the lane is
    due now. It is its lane's oldest pending item, so it is applied before anything behind it."""
    admin = _admin(session, actor_id)
    item = session.get(InboundItem, item_id, with_for_update=is_postgres(session))
    if item is None:
        raise NotFound("No existe ese elemento")
    if item.state != "failed":
        raise NotRetryable("Ese elemento no está detenido: ya se procesó o está esperando su turno")
    item.state, item.attempts = "pending", 0
    lanes.mark_due(session, [item.chat_key], now())
    conversation_id = chats_of_lanes(session, {item.chat_key}).get(item.chat_key, (None, None))[0]
    _audit(
        session,
        admin,
        "inbound_item_retried",
        conversation_id,
        item_id=item.id,
        event_id=item.event_id,
        kind=item.kind,
        error=(item.error or "")[:500] or None,
    )
    session.flush()
    return item


def resplit_event(session: Session, event_id: int, *, actor_id: int) -> WebhookEvent:
    """A failed event is parsed again from its raw body (after a fix, say). Its earlier items
    are replaced: their positions may not match what the parser reads now. Applying is
    idempotent by wamid, so what was already applied is not applied twice."""
    admin = _admin(session, actor_id)
    event = session.get(WebhookEvent, event_id, with_for_update=is_postgres(session))
    if event is None:
        raise NotFound("No existe ese evento")
    if event.state != "failed":
        raise NotRetryable("Ese evento no falló: no hace falta procesarlo de nuevo")
    error = event.error
    session.execute(
        delete(InboundItem).where(InboundItem.event_id == event.id).execution_options(synchronize_session=False)
    )
    event.state, event.error, event.processed_at = "pending", None, None
    _audit(session, admin, "webhook_event_resplit", None, event_id=event.id, error=(error or "")[:500] or None)
    session.flush()
    return event


def retry_failed_send(session: Session, outbox_id: int, *, actor_id: int) -> OutboxItem:
    """A send Meta refused goes back to the outbox: pending, attempts from zero, due now. The send
    gate still applies: a bot message is cancelled if a person holds the chat by now."""
    admin = _admin(session, actor_id)
    row = session.get(OutboxItem, outbox_id, with_for_update=is_postgres(session))
    if row is None:
        raise NotFound("No existe ese envío")
    if row.state != "failed":
        raise NotRetryable("Ese envío no falló: no hace falta reintentarlo")
    if row.kind in RECEIPT_KINDS:
        raise NotRetryable("Los avisos de lectura y de escritura no se reenvían")
    reason = row.last_error
    row.state, row.attempts, row.next_attempt_at = "pending", 0, now()
    if row.message_id is not None:
        messages.requeue_failed(session, row.message_id)
    _audit(
        session,
        admin,
        "outbox_send_retried",
        row.conversation_id,
        outbox_id=row.id,
        message_id=row.message_id,
        error=(reason or "")[:500] or None,
    )
    session.flush()
    return row


def raw_body(session: Session, event_id: int, *, actor_id: int) -> str:
    """The webhook body exactly as Meta sent it (shown as text, never rendered)."""
    admin = _admin(session, actor_id)
    body = session.scalar(select(WebhookEvent.body).where(WebhookEvent.id == event_id))
    if body is None:
        raise NotFound("No existe ese evento (o ya se borró por antigüedad)")
    _audit(session, admin, "webhook_body_viewed", None, event_id=event_id)
    return body


def _admin(session: Session, actor_id: int) -> User:
    user = session.get(User, actor_id)
    if user is None or not user.active or user.role != "admin":
        raise NotAllowed("Solo para administradores")
    return user


def _audit(session: Session, admin: User, action: str, conversation_id: int | None, **detail: object) -> None:
    conversation = session.get(Conversation, conversation_id) if conversation_id is not None else None
    audit.audit(session, conversation, action, actor="admin", user=admin, **detail)
