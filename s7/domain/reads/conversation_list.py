"""Conversations as the REST API lists them: combinable filters, pages, unread per viewer.

(The panel's chat list has its own view-shaped reader in `inbox_queries`; both read the same
tables and the same unread rule: customer messages after the viewer's read mark.)
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Select, Subquery, Text, bindparam, case, exists, func, or_, select, union_all
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


def filter_conditions(viewer_id: int | None, f: ConversationFilter) -> list[Any]:
    """The filter's conditions on Conversation, the search aside (see `matching` and `page_of`)."""
    conditions: list[Any] = []
    if f.mode:
        conditions.append(Conversation.mode == f.mode)
    if f.leads:
        conditions.append(Conversation.lead.in_(f.leads))
    if f.unassigned:
        conditions.append(Conversation.assigned_to.is_(None))
    elif f.assigned_to is not None:
        conditions.append(Conversation.assigned_to == f.assigned_to)
    if f.unread_only:
        assert viewer_id is not None, "unread is per viewer"
        conditions.append(exists().where(*unseen_by(viewer_id)).correlate(Conversation))
    return conditions


def normalized(q: str) -> str:
    """The search as run: blanks collapsed, at most Q_MAX characters, no NUL (Postgres refuses it)."""
    return " ".join(q.replace("\x00", " ").split())[:Q_MAX]


class Search(NamedTuple):
    """What a search statement's SHAPE depends on. The text goes in as bound values
    (`Search.of`), so a statement can be built once per shape and cached."""

    text: bool = False  # anything to search at all
    digits: bool = False  # also the phone digits of "+54 9 11 5555-1234"
    indexed: bool = False  # Postgres' folded trigram columns, else LIKE over names and messages

    @staticmethod
    def of(q: str) -> tuple[Search, dict[str, str]]:
        """The shape and the bound values of the (normalized) search `q`."""
        if not q:
            return Search(), {}
        digits = "".join(c for c in q if c.isdigit())
        indexed = indexed_search()
        # Indexed: an all-digits query already is the digits pattern.
        with_digits = len(digits) >= 3 and (digits != q or not indexed)
        values = {"q_like": _like(fold(q) if indexed else q), "q_digits": _like(digits)}
        if not indexed:
            values["q_user"] = _like(q.lstrip("@"))
        return Search(True, with_digits, indexed), values


def matching(columns: list[Any], conditions: list[Any], search: Search) -> Select:
    """SELECT `columns` of the chats that meet `conditions` and the search (if any)."""
    statement = select(*columns).select_from(Conversation).where(*conditions)
    if not search.text:
        return statement
    if search.indexed:
        return statement.where(_indexed_match(search.digits))
    return statement.join(Contact, Contact.id == Conversation.contact_id).where(_scan_match(search.digits))


# The plan's two knobs (module values, bound at execution: tests lower them). Measured at 50k
# chats, a chat passed by a newest-first walk and a match read through the GIN index cost about
# the same (~1.5 µs): WINDOW bounds the first walk (a word in ≥ 5% of chats ends there), PROBE
# the matches a rarer word is paged from; past it the full walk passes at most ~50/4% chats.
WINDOW = 1000
PROBE = 2000


def page_values(limit: int, offset: int = 0) -> dict[str, int]:
    """The bound values `page_of`'s statement needs besides the search's."""
    return {
        "limit": limit,
        "offset": offset,
        "reach": limit + offset,
        "window": WINDOW,
        "probe": PROBE,
        "probe_rows": PROBE + 1,
    }


def page_of(conditions: list[Any], search: Search) -> Subquery:
    """(id, sort_at) of one page of the chats meeting `conditions` and the search, newest first.
    Bind `page_values(...)` and `Search.of`'s values.

    Indexed (Postgres) it is ONE statement that picks its plan as it runs, with one-time filters
    on counts gating three branches so only what is needed runs:
    1. `recent`: the newest WINDOW chats, walked newest first, filtered, stopped at a page. A
       common word ("hola", a frequent surname) has its page here after a few hundred chats.
    2. else `hits`: the matches through the trigram indexes, read lazily and counted up to
       PROBE + 1. If that is all of them (a rare name, a phone, nothing at all) the page is
       sorted out of them without touching the table again.
    3. else the full newest-first walk, stopped at a page: the word is middling, and since
       there are over PROBE matches the walk is short.
    Without a search, or unindexed (SQLite), it is the plain walk.
    """
    key = sort_at().label("sort_at")
    newest = (key.desc(), Conversation.id.desc())
    limit, offset, reach = bindparam("limit"), bindparam("offset"), bindparam("reach")
    if not search.indexed:
        walk = matching([Conversation.id, key], conditions, search).order_by(*newest).limit(limit).offset(offset)
        return walk.subquery("page")
    match = _indexed_match(search.digits)
    # The newest WINDOW chats as a subquery with a LIMIT: the match cannot be pushed into it, so
    # it is a walk of the sort-order index, never a second trip through the GIN index.
    window = (
        select(Conversation.id, key, Conversation.search_name, Conversation.search_doc)
        .where(*conditions)
        .order_by(*newest)
        .limit(bindparam("window"))
        .subquery("window")
    )
    recent = (
        select(window.c.id, window.c.sort_at)
        .where(_indexed_match(search.digits, window.c))
        .limit(reach)
        .cte("recent")
        .prefix_with("MATERIALIZED")
    )
    in_recent = select(func.count()).select_from(recent).scalar_subquery()
    # No LIMIT inside: planned for all its rows, a rare or middling word takes the GIN bitmap (a
    # LIMIT would make the planner bet on a short sequential scan, and lose: ~7000 rows read to
    # find 700 "perez"). Read lazily, the count stops it at PROBE + 1 rows.
    hits = select(Conversation.id, key).where(*conditions, match).cte("hits").prefix_with("MATERIALIZED")
    first_hits = select(hits.c.id).limit(bindparam("probe_rows")).subquery()
    found = select(func.count()).select_from(first_hits).scalar_subquery()
    probe = bindparam("probe")
    from_recent = (  # `recent` holds exactly limit + offset rows when this runs
        select(recent.c.id, recent.c.sort_at).where(in_recent >= reach).order_by(*_newest(recent)).offset(offset)
    )
    from_hits = (
        select(hits.c.id, hits.c.sort_at)
        .where(in_recent < reach, found <= probe)
        .order_by(*_newest(hits))
        .limit(limit)
        .offset(offset)
    )
    walk = (
        select(Conversation.id, key)
        .where(*conditions, match, in_recent < reach, found > probe)
        .order_by(*newest)
        .limit(limit)
        .offset(offset)
    )
    parts = [part.subquery() for part in (from_recent, from_hits, walk)]
    return union_all(*(select(part.c.id, part.c.sort_at) for part in parts)).subquery("page")


def _newest(source: Any) -> tuple[Any, Any]:
    return source.c.sort_at.desc(), source.c.id.desc()


# None: indexed on Postgres (migration 0018), LIKE scans on SQLite. The benchmark sets False to
# time the old scan beside the index in one run.
INDEXED: bool | None = None


def indexed_search() -> bool:
    return INDEXED if INDEXED is not None else is_postgres()


def fold(text: str) -> str:
    """Lower case without accents, as the database's s7_fold() (unaccent) writes search columns."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _bound(name: str, *, literal: bool = False) -> Any:
    # `literal`: rendered into the SQL text at execution. A LIKE pattern as a parameter lets a
    # cached generic plan (psycopg prepares a statement run 5 times) walk the whole inbox for a
    # rare word: measured 60-110 ms instead of ~5.
    return bindparam(name, type_=Text, literal_execute=literal)


def _indexed_match(digits: bool, source: Any = Conversation) -> Any:
    """Name, phone, @username or the chat's text, on the folded trigram-indexed columns of
    conversations (kept by the triggers of migrations 0018 and 0022), or of a subquery's `.c`."""
    name, doc = source.search_name, source.search_doc
    pattern = _bound("q_like", literal=True)
    matches = [name.like(pattern, escape="\\"), doc.like(pattern, escape="\\")]
    if digits:  # "+54 9 11 5555-1234" finds 5491155551234
        matches.append(name.like(_bound("q_digits", literal=True), escape="\\"))
    return or_(*matches)


def _scan_match(digits: bool) -> Any:
    """The portable search (SQLite): ILIKE over names and every message."""
    pattern = _bound("q_like")
    matches = [
        Contact.name.ilike(pattern, escape="\\"),
        Contact.username.ilike(_bound("q_user"), escape="\\"),
        exists().where(Message.conversation_id == Conversation.id, Message.text.ilike(pattern, escape="\\")),
    ]
    if digits:  # "+54 9 11 5555-1234" finds 5491155551234
        matches.append(Contact.wa_id.like(_bound("q_digits"), escape="\\"))
    return or_(*matches)


def list_conversations(
    session: Session, viewer_id: int, f: ConversationFilter, *, limit: int = 50, offset: int = 0
) -> tuple[list[ListedConversation], int]:
    """One page of matching chats, most recent activity first, and how many match in total."""
    conditions = filter_conditions(viewer_id, f)
    search, values = Search.of(normalized(f.q))
    # The count skips the per-row unread column: only the page of 50 pays for it.
    total = session.scalar(matching([func.count(Conversation.id)], conditions, search), values) or 0
    page = page_of(conditions, search)
    statement = _base(viewer_id).join(page, page.c.id == Conversation.id)
    rows = session.execute(statement.order_by(*_newest(page)), values | page_values(limit, offset))
    return [ListedConversation(c, w, n, a, count or 0, b, u) for c, w, n, a, count, b, u in rows], total


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
