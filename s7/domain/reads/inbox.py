"""What the seller inbox reads: chat-list rows, a chat's header and timeline, and "I saw it".

Plain frozen dataclasses come out (detached from the session), so pages render them after the
session is closed and off the event loop. Everything is paginated: a page never loads thousands
of rows, whatever the size of the store.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, func, literal, select
from sqlalchemy.orm import Session, aliased

from s7 import realtime
from s7.domain.chats import conversations, outcomes, unread
from s7.domain.models import Contact, Conversation, Message, Note, Outcome, ReadMark, Reminder, User
from s7.domain.reads import contact_facts, conversation_list
from s7.domain.reads.contact_facts import ContactFacts

# Filter key → label shown on the chip (es-AR).
FILTERS: dict[str, str] = {
    "all": "Todas",
    "mine": "Mías",
    "unassigned": "Sin asignar",
    "hot": "Calientes",
    "hot_lost": "Perdidos",
    "bot": "Bot",
    "human": "Humano",
}
PAGE_SIZE = 50
MAX_ROWS = 300  # the list grows by pages up to this; past it, search is the way


# Who the customer is when there is no profile name: the phone, else @username, else the BSUID.
CUSTOMER_KEY = func.coalesce(Contact.wa_id, literal("@") + Contact.username, Contact.bsuid, literal(""))


@dataclass(frozen=True)
class ChatRow:
    """One line of the chat list, as seen by one seller (unread is per seller)."""

    id: int
    name: str
    wa_id: str
    preview: str
    sort_at: datetime
    mode: str
    lead: str
    assigned_to: int | None
    assignee_name: str | None
    human_source: str | None
    awaiting_human: bool
    unread: int


@dataclass(frozen=True)
class ChatHeader:
    """The open chat's state: who speaks, who holds it, how hot, until when we may write."""

    id: int
    name: str
    wa_id: str
    mode: str
    lead: str
    intent_score: int
    assigned_to: int | None
    assignee_name: str | None
    human_source: str | None
    awaiting_human: bool
    last_customer_at: datetime | None
    facts: ContactFacts | None = None  # ad, consent, block, WhatsApp cost (reads.contact_facts)
    followup: FollowUp | None = None  # the next reminder not fired yet
    outcome: OutcomeFact | None = None  # how the last episode ended, while the customer stays quiet


@dataclass(frozen=True)
class FollowUp:
    due_at: datetime
    by: str  # the seller who set it


@dataclass(frozen=True)
class OutcomeFact:
    result: str  # won / lost / none (outcomes.RESULTS)
    amount: Decimal | None
    reason: str | None


@dataclass(frozen=True)
class MessageRow:
    id: int
    direction: str
    author: str
    author_name: str | None  # the seller's name for author == "seller"
    type: str
    text: str | None
    options: list[dict[str, str]]
    media: dict[str, Any] | None
    reaction: str | None
    status: str
    error: str | None
    created_at: datetime
    edited: bool
    revoked: bool
    quoted: str | None  # preview of the message this one answers, if we have it
    extra: dict[str, Any] | None = None  # forwarded, group_id, referral, errors (see whatsapp.contents)


@dataclass(frozen=True)
class NoteRow:
    id: int
    author_name: str
    text: str
    created_at: datetime


# ---- the chat list ---------------------------------------------------------------------------------


# The panel's filter chips, as the REST API's filter (one search rule for both: name, phone
# digits, message text; LIKE wildcards taken literally).
_CHIP_FILTERS = {
    "all": {},
    "mine": {},  # assigned to the viewer: bound per call (see _chat_list)
    "unassigned": {"unassigned": True},
    "hot": {"leads": ("HOT",)},
    "hot_lost": {"leads": ("HOT_LOST",)},
    "bot": {"mode": conversations.BOT_ON},
    "human": {"mode": conversations.HUMAN_TAKEOVER},
}


def list_chats(
    session: Session,
    user_id: int,
    *,
    filter_key: str = "all",
    query: str = "",
    limit: int = PAGE_SIZE,
    only_ids: list[int] | None = None,
) -> list[ChatRow]:
    """Chats matching a filter and a search (name, phone digits or message text), newest first.

    `only_ids` restricts to given chats: a live update re-reads just the rows an event touched,
    and a chat missing from the answer no longer belongs in the seller's current view.
    """
    if filter_key not in FILTERS:
        filter_key = "all"
    if only_ids is not None and not only_ids:
        return []
    search, values = conversation_list.Search.of(conversation_list.normalized(query))
    statement = _chat_list(filter_key, search, only_ids is not None)
    values |= conversation_list.page_values(min(max(limit, 1), MAX_ROWS))
    values |= {"user_id": user_id, "only_ids": only_ids or []}
    return [
        ChatRow(
            id=cid,
            name=display_name(name, wa_id),
            wa_id=wa_id,
            preview=preview or "",
            sort_at=at,
            mode=mode,
            lead=lead,
            assigned_to=assigned_to,
            assignee_name=assignee_name,
            human_source=human_source,
            awaiting_human=bool(awaiting),
            unread=count or 0,
        )
        for cid, name, wa_id, preview, at, mode, lead, assigned_to, assignee_name, human_source, awaiting, count in (
            session.execute(statement, values)
        )
    ]


@functools.lru_cache(maxsize=64)
def _chat_list(filter_key: str, search: conversation_list.Search, only_ids: bool) -> Select:
    """The chat list's one statement for a shape of request; the rest is bound at execution
    (building it each time cost more than running it). The page's ids come from
    `conversation_list.page_of`, then its rows with their unread."""
    viewer = bindparam("user_id", type_=Integer)
    values: dict[str, Any] = dict(_CHIP_FILTERS[filter_key])
    conditions = conversation_list.filter_conditions(None, conversation_list.ConversationFilter(**values))
    if filter_key == "mine":
        conditions.append(Conversation.assigned_to == viewer)
    if only_ids:
        conditions.append(Conversation.id.in_(bindparam("only_ids", expanding=True)))
    page = conversation_list.page_of(conditions, search)
    assignee = aliased(User)
    return (
        select(
            Conversation.id,
            Contact.name,
            CUSTOMER_KEY,
            Conversation.last_message_preview,
            page.c.sort_at,
            Conversation.mode,
            Conversation.lead,
            Conversation.assigned_to,
            assignee.name,
            Conversation.human_source,
            Conversation.awaiting_human_since.is_not(None),
            unread.unread_count(viewer),
        )
        .select_from(page)
        .join(Conversation, Conversation.id == page.c.id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(assignee, assignee.id == Conversation.assigned_to)
        .order_by(page.c.sort_at.desc(), page.c.id.desc())
    )


def display_name(name: str | None, wa_id: str | None) -> str:
    name = " ".join((name or "").split())
    # `wa_id` here is the customer's key (`CUSTOMER_KEY`): phone digits, else @username or BSUID.
    if name:
        return name[:80]
    return f"+{wa_id}" if wa_id and wa_id.isdigit() else (wa_id or "Cliente")


# ---- one chat ----------------------------------------------------------------------------------------


def chat_header(session: Session, conversation_id: int) -> ChatHeader | None:
    row = session.execute(
        select(Conversation, Contact.name, CUSTOMER_KEY, User.name)
        .join(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(User, User.id == Conversation.assigned_to)
        .where(Conversation.id == conversation_id)
    ).first()
    if row is None:
        return None
    conv, name, wa_id, assignee_name = row
    return ChatHeader(
        id=conv.id,
        name=display_name(name, wa_id),
        wa_id=wa_id,
        mode=conv.mode,
        lead=conv.lead,
        intent_score=conv.intent_score or 0,
        assigned_to=conv.assigned_to,
        assignee_name=assignee_name,
        human_source=conv.human_source,
        awaiting_human=conv.awaiting_human_since is not None,
        last_customer_at=conv.last_customer_at,
        facts=contact_facts.facts(session, conv),
        followup=_followup(session, conv.id),
        outcome=_outcome(session, conv),
    )


def _followup(session: Session, conversation_id: int) -> FollowUp | None:
    row = session.execute(
        select(Reminder.due_at, User.name)
        .join(User, User.id == Reminder.user_id)
        .where(Reminder.conversation_id == conversation_id, Reminder.fired_at.is_(None))
        .order_by(Reminder.due_at, Reminder.id)
        .limit(1)
    ).first()
    return FollowUp(row[0], row[1]) if row else None


def _outcome(session: Session, conversation: Conversation) -> OutcomeFact | None:
    result = outcomes.outcome_of(conversation)
    if result is None:
        return None
    row = session.execute(
        select(Outcome.amount, Outcome.reason)
        .where(Outcome.conversation_id == conversation.id)
        .order_by(Outcome.id.desc())
        .limit(1)
    ).first()
    return OutcomeFact(result, row[0] if row else None, row[1] if row else None)


def _message_rows(session: Session, statement: Select) -> list[MessageRow]:
    found = session.execute(statement.outerjoin(User, User.id == Message.author_user_id).add_columns(User.name)).all()
    context_ids = {m.context_wa_id for m, _ in found if m.context_wa_id}
    quoted: dict[str, str] = {}
    if context_ids:
        for wamid, type_, text in session.execute(
            select(Message.wa_message_id, Message.type, Message.text).where(Message.wa_message_id.in_(context_ids))
        ):
            quoted[wamid] = " ".join((text or type_).split())[:120]
    return [
        MessageRow(
            id=m.id,
            direction=m.direction,
            author=m.author,
            author_name=author_name,
            type=m.type,
            text=m.text,
            options=list(m.options or []),
            media=dict(m.media) if m.media else None,
            reaction=m.reaction,
            status=m.status,
            error=m.error,
            created_at=m.created_at,
            edited=bool(m.edited),
            revoked=bool(m.revoked),
            quoted=quoted.get(m.context_wa_id) if m.context_wa_id else None,
            extra=dict(m.extra) if m.extra else None,
        )
        for m, author_name in found
    ]


def recent_messages(
    session: Session, conversation_id: int, *, before_id: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[MessageRow], bool]:
    """The newest `limit` messages (older than `before_id` when paging back), oldest first, and
    whether older ones remain."""
    rows, older = conversation_list.recent_messages(
        session, conversation_id, limit=min(max(limit, 1), 200), before_id=before_id
    )
    if not rows:
        return [], False
    statement = select(Message).where(Message.id.in_([m.id for m in rows])).order_by(Message.id)
    return _message_rows(session, statement), older


def messages_by_id(session: Session, conversation_id: int, message_ids: list[int]) -> list[MessageRow]:
    """Re-read messages an event named (new ones, new ticks, reactions, edits)."""
    if not message_ids:
        return []
    statement = (
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.id.in_(message_ids))
        .order_by(Message.id)
    )
    return _message_rows(session, statement)


def notes_between(
    session: Session,
    conversation_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    note_ids: list[int] | None = None,
) -> list[NoteRow]:
    """Internal notes of a chat in a time span (to interleave with a page of messages) or by id."""
    statement = (
        select(Note, User.name)
        .join(User, User.id == Note.author_user_id)
        .where(Note.conversation_id == conversation_id)
    )
    if since is not None:
        statement = statement.where(Note.created_at >= since)
    if until is not None:
        statement = statement.where(Note.created_at < until)
    if note_ids is not None:
        statement = statement.where(Note.id.in_(note_ids or [-1]))
    statement = statement.order_by(Note.id.desc()).limit(200)
    rows = [NoteRow(n.id, name, n.text, n.created_at) for n, name in session.execute(statement)]
    return list(reversed(rows))


def team(session: Session) -> list[tuple[int, str]]:
    """Active users a chat can be assigned to, by name."""
    rows = session.execute(select(User.id, User.name).where(User.active).order_by(User.name))
    return [(uid, name) for uid, name in rows]


def conversation_names(session: Session, conversation_ids: list[int]) -> dict[int, str]:
    if not conversation_ids:
        return {}
    rows = session.execute(
        select(Conversation.id, Contact.name, CUSTOMER_KEY)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Conversation.id.in_(conversation_ids))
    )
    return {cid: display_name(name, wa_id) for cid, name, wa_id in rows}


# ---- "I saw it" ------------------------------------------------------------------------------------


def mark_seen(session: Session, conversation_id: int, user_id: int) -> bool:
    """A seller has the chat in front of them: their unread count drops to zero and, the first
    time anyone on the team sees the customer's newest message, WhatsApp gets a read receipt
    (blue ticks on the customer's phone). Returns True when this seller's mark moved.
    """
    from s7.domain.chats import messages  # the edge owner's module; imported late to keep this one light

    # The row lock makes two sellers opening the chat at once take turns: the second sees the
    # first one's read mark and does not queue a second receipt (Postgres; SQLite is one writer).
    conversation = session.get(Conversation, conversation_id, with_for_update=True)
    if conversation is None:
        return False
    newest_inbound = session.execute(
        select(Message.id, Message.wa_message_id)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == "in",
            Message.wa_message_id.is_not(None),
        )
        .order_by(Message.id.desc())
        .limit(1)
    ).first()
    seen_by_team = (
        session.scalar(
            select(func.max(ReadMark.last_read_message_id)).where(ReadMark.conversation_id == conversation_id)
        )
        or 0
    )
    mine_before = (
        session.scalar(
            select(ReadMark.last_read_message_id).where(
                and_(ReadMark.conversation_id == conversation_id, ReadMark.user_id == user_id)
            )
        )
        or 0
    )
    last = conversations.mark_read(session, conversation_id, user_id)
    if newest_inbound is not None and newest_inbound.id > seen_by_team:
        messages.queue_read_receipt(session, conversation, newest_inbound.wa_message_id)
    moved = last is not None and last > mine_before
    if moved:
        # Only this seller's tabs care (their unread badge); `read_by` lets the others skip it.
        realtime.publish_after_commit(session, "conversation", conversation_id=conversation_id, read_by=user_id)
    return moved
