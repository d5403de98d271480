"""Conversations as the REST API lists them: combinable filters, pages, unread per viewer.

(The panel's chat list has its own view-shaped reader in `inbox_queries`; both read the same
tables and the same unread rule: customer messages after the viewer's read mark.)
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, any_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from s7.db import is_postgres
from s7.domain.chats.conversations import NotFound
from s7.domain.chats.unread import unread_count, unseen_by
from s7.domain.models import Contact, Conversation, Message, User

Q_MAX = 100


@dataclass(frozen=True)
class ConversationFilter:
    mode: str | None = None
    leads: tuple[str, ...] = ()
    assigned_to: int | None = None
    unassigned: bool = False
    q: str = ""
    unread_only: bool = False


@dataclass(frozen=True)
class ListedConversation:
    conversation: Conversation
    wa_id: str | None  # None when WhatsApp never told us the phone (username-only customer)
    name: str | None
    assignee_name: str | None
    unread: int
    bsuid: str | None = None
    username: str | None = None


def sort_at() -> Any:
    """When a chat last needed attention: its last message, or a follow-up reminder that fired
    later (the reminder puts it back on top of the list)."""
    last = func.coalesce(Conversation.last_message_at, Conversation.created_at)
    return case((Conversation.attention_at > last, Conversation.attention_at), else_=last)


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _base(viewer_id: int) -> Select:
    assignee = aliased(User)
    return (
        select(
            Conversation,
            Contact.wa_id,
            Contact.name,
            assignee.name,
            unread_count(viewer_id).label("unread"),
            Contact.bsuid,
            Contact.username,
        )
        .join(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(assignee, assignee.id == Conversation.assigned_to)
    )


def _apply(statement: Select, viewer_id: int, f: ConversationFilter, session: Session | None = None) -> Select:
    if f.mode:
        statement = statement.where(Conversation.mode == f.mode)
    if f.leads:
        statement = statement.where(Conversation.lead.in_(f.leads))
    if f.unassigned:
        statement = statement.where(Conversation.assigned_to.is_(None))
    elif f.assigned_to is not None:
        statement = statement.where(Conversation.assigned_to == f.assigned_to)
    if f.unread_only:
        statement = statement.where(exists().where(*unseen_by(viewer_id)).correlate(Conversation))
    q = " ".join(f.q.split())[:Q_MAX]
    if q:
        statement = statement.where(search_condition(session, q))
    return statement


PROBE = 500  # matches a probe may find before a search counts as common


def search_condition(session: Session | None, q: str) -> Any:
    """The search as a WHERE condition, shaped for the indexes on Postgres.

    A probe counts up to PROBE matches (a GIN lookup for a rare word, a short read for a common
    one). Rare: the page is built from the matching ids (`id = ANY(ARRAY(...))`, which the
    planner takes as a short list: primary-key lookups and a small sort). Common: the condition
    as is, and the database reads the newest chats first (sort-order index) and stops at a page.
    No query touches every match of a common word.
    """
    if not indexed_search():
        return _scan_match(q)
    match = _indexed_match(q)
    if session is None:
        return match
    probe = select(Conversation.id).where(match).limit(PROBE + 1).subquery()
    if (session.scalar(select(func.count()).select_from(probe)) or 0) > PROBE:
        return match
    return Conversation.id == any_(func.array(select(Conversation.id).where(match).scalar_subquery()))


# None: indexed on Postgres (migration 0018), LIKE scans on SQLite. The benchmark sets False to
# time the old scan beside the index in one run.
INDEXED: bool | None = None


def indexed_search() -> bool:
    return INDEXED if INDEXED is not None else is_postgres()


def fold(text: str) -> str:
    """Lower case without accents, as the database's s7_fold() (unaccent) writes search columns."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _indexed_match(q: str) -> Any:
    """Name, phone or the chat's text, on the folded trigram-indexed columns of conversations:
    a rare word is a GIN lookup, a common one reads the newest chats first and stops at a page."""
    pattern = _like(fold(q))
    matches = [
        Conversation.search_name.like(pattern, escape="\\"),
        Conversation.search_doc.like(pattern, escape="\\"),
    ]
    digits = "".join(c for c in q if c.isdigit())
    if len(digits) >= 3 and digits != q:  # "+54 9 11 5555-1234" finds 5491155551234
        matches.append(Conversation.search_name.like(_like(digits), escape="\\"))
    return or_(*matches)


def _scan_match(q: str) -> Any:
    """The portable search (SQLite): ILIKE over names and every message."""
    pattern = _like(q)
    matches = [
        Contact.name.ilike(pattern, escape="\\"),
        Contact.username.ilike(_like(q.lstrip("@")), escape="\\"),
        exists().where(Message.conversation_id == Conversation.id, Message.text.ilike(pattern, escape="\\")),
    ]
    digits = "".join(c for c in q if c.isdigit())
    if len(digits) >= 3:  # "+54 9 11 5555-1234" finds 5491155551234
        matches.append(Contact.wa_id.like(_like(digits), escape="\\"))
    return or_(*matches)


def list_conversations(
    session: Session, viewer_id: int, f: ConversationFilter, *, limit: int = 50, offset: int = 0
) -> tuple[list[ListedConversation], int]:
    """One page of matching chats, most recent activity first, and how many match in total."""
    # The count skips the per-row unread column: only the page of 50 pays for it.
    counted = select(func.count(Conversation.id)).join(Contact, Contact.id == Conversation.contact_id)
    total = session.scalar(_apply(counted, viewer_id, f, session)) or 0
    statement = _apply(_base(viewer_id), viewer_id, f, session)
    order = sort_at()
    page = session.execute(statement.order_by(order.desc(), Conversation.id.desc()).limit(limit).offset(offset))
    return [ListedConversation(c, w, n, a, count or 0, b, u) for c, w, n, a, count, b, u in page], total


def one(session: Session, viewer_id: int, conversation_id: int) -> ListedConversation:
    """One chat as the viewer sees it (NotFound if there is no such chat)."""
    row = session.execute(_base(viewer_id).where(Conversation.id == conversation_id)).one_or_none()
    if row is None:
        raise NotFound("No existe esa conversación")
    conversation, wa_id, name, assignee, count, bsuid, username = row
    session.refresh(conversation)  # the row may have just changed in this transaction
    return ListedConversation(conversation, wa_id, name, assignee, count or 0, bsuid, username)


def recent_messages(
    session: Session, conversation_id: int, *, limit: int = 50, before_id: int | None = None
) -> tuple[list[Message], bool]:
    """The newest `limit` messages (older than `before_id` if given), oldest first, and whether
    older ones remain (page back with `before_id` = the first id returned)."""
    statement = select(Message).where(Message.conversation_id == conversation_id)
    if before_id is not None:
        statement = statement.where(Message.id < before_id)
    rows = list(session.scalars(statement.order_by(Message.id.desc()).limit(limit + 1)))
    return rows[:limit][::-1], len(rows) > limit
