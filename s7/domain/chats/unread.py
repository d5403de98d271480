"""Per-seller unread state: customer messages after the last one each seller has seen.

(Chatwoot shares one "last seen" per chat; here every seller has their own read mark.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from s7.clock import now
from s7.domain.models import Conversation, Message, ReadMark


def mark_read(session: Session, conversation_id: int, user_id: int) -> int | None:
    """The seller saw the chat up to its newest message. Returns that message id."""
    last_id = session.scalar(select(func.max(Message.id)).where(Message.conversation_id == conversation_id))
    if last_id is None:
        return None
    mark = session.scalar(
        select(ReadMark).where(ReadMark.conversation_id == conversation_id, ReadMark.user_id == user_id)
    )
    if mark is None:
        session.add(ReadMark(conversation_id=conversation_id, user_id=user_id, last_read_message_id=last_id))
    elif mark.last_read_message_id < last_id:
        mark.last_read_message_id = last_id
        mark.read_at = now()
    session.flush()
    return last_id


def unseen_by(viewer_id: int | Any) -> list[Any]:
    """THE unread rule, as conditions on Message correlated to the outer Conversation: a customer
    message of that chat after the last one this viewer has seen. The list, its filter and the
    counts all use it. `viewer_id` may be a bound parameter (a statement built once, cached)."""
    seen = (
        select(ReadMark.last_read_message_id)
        .where(ReadMark.conversation_id == Conversation.id, ReadMark.user_id == viewer_id)
        .correlate(Conversation)
        .scalar_subquery()
    )
    return [Message.conversation_id == Conversation.id, Message.direction == "in", Message.id > func.coalesce(seen, 0)]


def unread_count(viewer_id: int | Any) -> Any:
    """Correlated count of the viewer's unseen customer messages (uses ix_messages_conversation_id_id)."""
    return select(func.count(Message.id)).where(*unseen_by(viewer_id)).correlate(Conversation).scalar_subquery()


def unread_counts(session: Session, user_id: int, conversation_ids: list[int] | None = None) -> dict[int, int]:
    """Customer messages each chat has that this seller has not seen (chats with none left out)."""
    statement = select(Conversation.id, unread_count(user_id).label("unread"))
    if conversation_ids is not None:
        statement = statement.where(Conversation.id.in_(conversation_ids))
    return {cid: count for cid, count in session.execute(statement) if count}
