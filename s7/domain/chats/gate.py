"""The send gate (rule 8): a bot- or job-authored message leaves only while its chat is BOT_ON.

Two halves, one rule:
- the sender claims a gated outbox row only in the same statement that sees its chat BOT_ON
  (`gate_open`), and a gated row of a chat a human holds is cancelled there, never sent;
- every takeover cancels the chat's queued gated rows in its own transaction
  (`cancel_bot_messages`), retries included, so they neither reach the customer nor hold the
  seller's message behind them. A row already on the wire may finish; the seller's row does not
  wait for it (`blocks_later_rows`).
Cancelled messages stay in the chat, marked, so sellers see what the bot would have said.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, exists, not_, or_, select, update
from sqlalchemy.orm import Session, aliased

from s7 import realtime
from s7.clock import now
from s7.domain.models import Author, Conversation, ItemState, Message, Mode, OutboxItem, Status

GATED_AUTHORS = frozenset({Author.BOT, Author.SYSTEM})
CANCELLED_REASON = "No enviado: el chat ya lo tenía una persona"


def is_gated(author: str | None) -> bool:
    """Bot and job messages (and the bot's typing indicator, author None) go through the gate."""
    return author is None or author in GATED_AUTHORS


def gate_open(row: Any = OutboxItem) -> Any:
    """SQL: this outbox row may leave now (ungated, or its chat is BOT_ON)."""
    bot_on = select(Conversation.mode).where(Conversation.id == row.conversation_id).scalar_subquery()
    return or_(row.gated.is_(False), bot_on == Mode.BOT_ON)


def blocks_later_rows(row: Any) -> Any:
    """SQL: an earlier row still in the way of this chat's later rows. Cancelled and sent rows
    never are; a gated row of a chat a human holds is not either (it is about to be cancelled,
    or it is already on the wire and may finish on its own)."""
    return and_(row.state.in_((ItemState.PENDING, ItemState.SENDING)), gate_open(row))


def cancel_bot_messages(session: Session, conversation_id: int) -> int:
    """A human took the chat: cancel its queued bot/job rows (waiting retries included) in the
    caller's transaction. Returns how many messages were cancelled."""
    rows = session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.conversation_id == conversation_id,
            OutboxItem.gated.is_(True),
            OutboxItem.state == ItemState.PENDING,
        )
        .values(state=ItemState.CANCELLED, last_error=CANCELLED_REASON)
        .returning(OutboxItem.message_id)
        .execution_options(synchronize_session=False)
    ).all()
    return _mark_cancelled(session, conversation_id, [r.message_id for r in rows if r.message_id is not None])


def cancel_closed_gate_rows(session: Session) -> int:
    """The sender's half: gated rows still pending in chats a human holds (queued through any gap,
    or by another replica) are cancelled instead of claimed."""
    rows = session.execute(
        update(OutboxItem)
        .where(OutboxItem.gated.is_(True), OutboxItem.state == ItemState.PENDING, not_(gate_open()))
        .values(state=ItemState.CANCELLED, last_error=CANCELLED_REASON)
        .returning(OutboxItem.conversation_id, OutboxItem.message_id)
        .execution_options(synchronize_session=False)
    ).all()
    by_chat: dict[int, list[int]] = {}
    for row in rows:
        if row.message_id is not None:
            by_chat.setdefault(row.conversation_id, []).append(row.message_id)
    return sum(_mark_cancelled(session, chat, ids) for chat, ids in by_chat.items())


def _mark_cancelled(session: Session, conversation_id: int, message_ids: Iterable[int]) -> int:
    ids = list(message_ids)
    if not ids:
        return 0
    at = now()
    session.execute(
        update(Message)
        .where(Message.id.in_(ids), Message.status == Status.QUEUED)
        .values(status=Status.CANCELLED, error=CANCELLED_REASON, status_at=at)
        .execution_options(synchronize_session=False)
    )
    for message_id in ids:
        realtime.publish_after_commit(
            session, "status", conversation_id=conversation_id, message_id=message_id, status=Status.CANCELLED
        )
    return len(ids)


def earlier_row_in_the_way(row: Any = OutboxItem) -> Any:
    """SQL: some earlier row of the same chat must leave (or fail) before this one."""
    earlier = aliased(OutboxItem)
    return exists().where(
        earlier.conversation_id == row.conversation_id, earlier.id < row.id, blocks_later_rows(earlier)
    )
