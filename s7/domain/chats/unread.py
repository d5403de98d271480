"""Per-seller unread state: customer messages after the last one each seller has seen.

(Chatwoot shares one "last seen" per chat; here every seller has their own read mark.)
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from s7.clock import now
from s7.domain.models import Message, ReadMark


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


def unread_counts(session: Session, user_id: int, conversation_ids: list[int] | None = None) -> dict[int, int]:
    """Customer messages each chat has that this seller has not seen."""
    marks = (
        select(ReadMark.conversation_id, ReadMark.last_read_message_id).where(ReadMark.user_id == user_id).subquery()
    )
    statement = (
        select(Message.conversation_id, func.count(Message.id))
        .outerjoin(marks, marks.c.conversation_id == Message.conversation_id)
        .where(Message.direction == "in")
        .where((marks.c.last_read_message_id.is_(None)) | (Message.id > marks.c.last_read_message_id))
        .group_by(Message.conversation_id)
    )
    if conversation_ids is not None:
        statement = statement.where(Message.conversation_id.in_(conversation_ids))
    return {cid: count for cid, count in session.execute(statement)}
