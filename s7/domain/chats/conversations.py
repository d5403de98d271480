"""Who owns each chat: the BOT_ON ⇄ HUMAN_TAKEOVER machine, assignment, notes, unread.

The states (a chat is *held* by seller X when it is HUMAN_TAKEOVER, taken from the panel, and
assigned to X; a business-app takeover is held by nobody in particular):

    BOT_ON ──seller writes / takes──────────────► HUMAN_TAKEOVER (panel, held by the seller)
    BOT_ON ──phone echo (Business app)──────────► HUMAN_TAKEOVER (business_app)
    HUMAN_TAKEOVER ──"devolver al bot" / HUMAN_INACTIVITY_MINUTES of silence──► BOT_ON

Every ownership change is a single conditional UPDATE (or runs under the row lock), so two
sellers clicking at once get exactly one winner; the loser learns who holds the chat
(`HeldByOther`, a 409 in the API). Every change leaves an audit row and a realtime event
(published after commit). Leads (NONE → WARM → HOT → HOT_LOST) live in `leads`; their public
functions are re-exported here, where the rest of the code looks for them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from s7 import realtime
from s7.clock import now
from s7.db import is_postgres
from s7.domain.chats import gate, identity, messages
from s7.domain.chats.activity import preview_of, touch
from s7.domain.chats.audit import actor_of, audit, changed
from s7.domain.chats.leads import LEAD_ORDER, add_intent, recover_lost_lead, request_human, set_lead
from s7.domain.chats.unread import mark_read, unread_counts
from s7.domain.models import Contact, Conversation, Message, Note, User

__all__ = [  # leads and unread are re-exported: callers use conversations.add_intent & co.
    "BOT_ON",
    "HUMAN_TAKEOVER",
    "LEAD_ORDER",
    "ConversationError",
    "HeldByOther",
    "NotFound",
    "add_intent",
    "add_note",
    "assign",
    "audit",
    "bot_may_speak",
    "ensure_conversation",
    "get",
    "mark_read",
    "notes",
    "on_customer_message",
    "preview_of",
    "record_human_message",
    "release_if_idle",
    "release_to_bot",
    "request_human",
    "send_seller_message",
    "set_lead",
    "takeover",
    "touch",
    "unread_counts",
]

BOT_ON = "BOT_ON"
HUMAN_TAKEOVER = "HUMAN_TAKEOVER"
NOTE_MAX = 4000


class ConversationError(Exception):
    """A request on a conversation that cannot be done as asked."""


class NotFound(ConversationError):
    pass


class HeldByOther(ConversationError):
    """Another seller holds this chat: the caller gets a 409 naming them."""

    def __init__(self, holder_id: int | None, holder_name: str) -> None:
        super().__init__(f"La conversación la tiene {holder_name}")
        self.holder_id = holder_id
        self.holder_name = holder_name


# ---- lookups -------------------------------------------------------------------------------------


def get(session: Session, conversation_id: int, *, for_update: bool = False) -> Conversation:
    statement = select(Conversation).where(Conversation.id == conversation_id)
    if for_update:
        # Locked means current: refresh an already-loaded object with what the lock saw.
        statement = statement.with_for_update().execution_options(populate_existing=True)
    conversation = session.scalar(statement)
    if conversation is None:
        raise NotFound("No existe esa conversación")
    return conversation


def ensure_conversation(
    session: Session,
    *,
    wa_id: str | None = None,
    name: str | None = None,
    user_id: str | None = None,
    username: str | None = None,
) -> Conversation:
    """The conversation of a WhatsApp contact, created on first contact (race-safe). The customer
    is found by phone, BSUID or username, whichever the update carries (`identity`)."""
    contact = identity.resolve_contact(session, phone=wa_id, bsuid=user_id, username=username, name=name)
    conversation = session.scalar(select(Conversation).where(Conversation.contact_id == contact.id))
    if conversation is None:
        nested = session.begin_nested()
        try:
            conversation = Conversation(contact_id=contact.id, bot_state={})
            session.add(conversation)
            session.flush()
            nested.commit()
            changed(session, conversation, created=True)
        except Exception:
            nested.rollback()
            conversation = session.scalar(select(Conversation).where(Conversation.contact_id == contact.id))
            if conversation is None:
                raise
    return conversation


def open_first_chat(
    session: Session, *, wa_id: str, name: str | None, user_id: str | None = None
) -> Conversation | None:
    """A customer nobody knows yet (the usual first message): their contact and conversation in
    two INSERT ... ON CONFLICT DO NOTHING statements, no savepoints, the new conversation row
    ours alone until commit (so locked for the turn). None when one of these ids already belongs
    to someone (or was taken a moment ago): the caller goes through `ensure_conversation`, which
    links and merges as identity requires."""
    ids = identity.Ids.of(wa_id, user_id)
    if ids.phone is None:
        return None
    insert = pg_insert if is_postgres(session) else sqlite_insert
    contact = session.scalars(
        insert(Contact)
        .values(wa_id=ids.phone, bsuid=ids.bsuid, name=name[:200] if name else None, created_at=now())
        .on_conflict_do_nothing()
        .returning(Contact)
    ).first()
    if contact is None:
        return None
    conversation = session.scalars(
        insert(Conversation).values(contact_id=contact.id, bot_state={}).returning(Conversation)
    ).one()
    set_committed_value(conversation, "contact", contact)  # known: no lazy load later in the turn
    set_committed_value(contact, "conversation", conversation)
    mark_locked(session, conversation.id)
    changed(session, conversation, created=True)
    return conversation


# ---- inbound / human activity -----------------------------------------------------------------


def on_customer_message(session: Session, conversation: Conversation, message: Message) -> None:
    """A customer wrote: the 24 h window (re)opens, the chat list shows it first."""
    at = message.created_at or now()
    if conversation.last_customer_at is None or at > conversation.last_customer_at:
        conversation.last_customer_at = at
    touch(session, conversation, message)
    from s7.domain.store import hours  # local: hours reads settings, keep imports light for the edge

    if not hours.is_open(at, session):
        if conversation.after_hours_since is None:
            conversation.after_hours_since = at
    else:
        conversation.after_hours_since = None


def record_human_message(
    session: Session, conversation: Conversation, *, user: User | None = None, source: str = "panel"
) -> None:
    """A human wrote (panel, API or the Business app on the phone): the bot goes silent now.

    From the panel it is a takeover by that seller (raises HeldByOther when another holds the
    chat). From the phone the chat goes HUMAN_TAKEOVER with "business app" as the human, unless
    a seller already holds it from the panel (then it stays theirs).
    """
    if source == "panel" and user is not None:
        _claim(session, conversation.id, user, via="message")
        session.refresh(conversation)
        return
    at = now()
    was_bot = conversation.mode == BOT_ON
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(
            mode=HUMAN_TAKEOVER,
            last_human_at=at,
            awaiting_human_since=None,
            updated_at=at,
            human_source=func.coalesce(Conversation.human_source, "business_app"),
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(conversation)
    gate.cancel_bot_messages(session, conversation.id)
    if was_bot:
        audit(session, conversation, "takeover", actor="business_app", via="message")
    changed(session, conversation)


def send_seller_message(session: Session, conversation_id: int, user: User, text: str) -> Message:
    """A seller writes to the customer (panel or API): takeover + THE send path, all or nothing.

    Raises `messages.WindowClosed` (24 h window closed: nothing is queued, the chat does not
    change hands), `HeldByOther`, `ConversationError` for an empty text and
    `messages.InvalidMessage` for what WhatsApp would refuse.
    """
    if not (text or "").strip():
        raise ConversationError("El mensaje está vacío")
    return seller_sends(
        session,
        conversation_id,
        user,
        lambda conversation: messages.queue_outbound(
            session, conversation, author="seller", text=text, user_id=user.id
        ),
    )


def seller_sends(
    session: Session,
    conversation_id: int,
    user: User,
    queue: Callable[[Conversation], Message],
    *,
    needs_window: bool = True,
) -> Message:
    """Any seller message (text, attachment, product card, template): the takeover and
    `queue(conversation)` in one transaction. Templates pass `needs_window=False`."""
    conversation = get(session, conversation_id)
    if needs_window and not messages.window_open(conversation):
        raise messages.WindowClosed(conversation.id, messages.window_closes_at(conversation))
    record_human_message(session, conversation, user=user, source="panel")
    message = queue(conversation)
    mark_read(session, conversation.id, user.id)  # who answers has seen the chat
    return message


def _free_for(user_id: int) -> Any:
    """SQL condition: nobody but this seller holds the chat."""
    return (
        (Conversation.mode == BOT_ON)
        | (Conversation.human_source.is_distinct_from("panel"))
        | (Conversation.assigned_to.is_(None))
        | (Conversation.assigned_to == user_id)
    )


def held_by_other(conversation: Conversation, user_id: int) -> bool:
    """The same rule as `_free_for`, on a loaded row."""
    return (
        conversation.mode == HUMAN_TAKEOVER
        and conversation.human_source == "panel"
        and conversation.assigned_to is not None
        and conversation.assigned_to != user_id
    )


def _holder_name(session: Session, conversation: Conversation) -> str:
    if conversation.assigned_to is None:
        return "la app de WhatsApp Business"
    holder = session.get(User, conversation.assigned_to)
    return holder.name if holder else "otro vendedor"


def _held(session: Session, conversation: Conversation) -> HeldByOther:
    return HeldByOther(conversation.assigned_to, _holder_name(session, conversation))


# ---- ownership -----------------------------------------------------------------------------------


def takeover(session: Session, conversation_id: int, user: User) -> Conversation:
    """A seller takes the chat (the bot goes silent); exactly one of two simultaneous takers wins."""
    return _claim(session, conversation_id, user, via="button")


def _claim(session: Session, conversation_id: int, user: User, *, via: str) -> Conversation:
    """The one conditional UPDATE behind takeover and a seller's message.

    On Postgres a concurrent taker blocks on the row lock, then re-checks the WHERE against the
    committed winner and updates nothing: it gets HeldByOther naming the winner.
    """
    before = session.execute(
        select(Conversation.mode, Conversation.assigned_to, Conversation.human_source).where(
            Conversation.id == conversation_id
        )
    ).one_or_none()
    if before is None:
        raise NotFound("No existe esa conversación")
    at = now()
    result = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, _free_for(user.id))
        .values(
            mode=HUMAN_TAKEOVER,
            assigned_to=user.id,
            human_source="panel",
            last_human_at=at,
            awaiting_human_since=None,
            updated_at=at,
        )
        .execution_options(synchronize_session=False)
    )
    conversation = get(session, conversation_id)
    session.refresh(conversation)
    if result.rowcount == 0:
        raise _held(session, conversation)
    gate.cancel_bot_messages(session, conversation_id)
    already_mine = before.mode == HUMAN_TAKEOVER and before.human_source == "panel" and before.assigned_to == user.id
    if not already_mine:
        previous = before.assigned_to if before.assigned_to != user.id else None
        audit(
            session,
            conversation,
            "takeover",
            actor=actor_of(user),
            user=user,
            via=via,
            previous_mode=before.mode,
            previous_assignee=previous,
        )
    recover_lost_lead(session, conversation, user)
    changed(session, conversation)
    return conversation


def release_to_bot(
    session: Session, conversation_id: int, *, actor_user: User | None = None, reason: str = "button"
) -> Conversation:
    """Back to the bot (the panel's button). The assignee stays as the chat's owner.

    A seller may release a chat they hold, a business-app takeover or an unassigned one; only an
    admin releases a chat another seller holds. Releasing also ends a wait for a human (the bot
    may talk again at once).
    """
    conversation = get(session, conversation_id, for_update=True)
    if actor_user is not None and actor_user.role != "admin" and held_by_other(conversation, actor_user.id):
        raise _held(session, conversation)
    if conversation.mode == BOT_ON and conversation.awaiting_human_since is None:
        return conversation
    previous_mode = conversation.mode
    conversation.mode = BOT_ON
    conversation.human_source = None
    conversation.awaiting_human_since = None
    conversation.updated_at = now()
    session.flush()
    actor = actor_of(actor_user) if actor_user else "system"
    audit(session, conversation, "release", actor=actor, user=actor_user, reason=reason, previous_mode=previous_mode)
    changed(session, conversation)
    return conversation


def release_if_idle(session: Session, conversation_id: int, *, cutoff: datetime) -> Conversation | None:
    """HUMAN_INACTIVITY_MINUTES of human silence (last human message at or before `cutoff`):
    back to the bot. One conditional UPDATE, so only one replica's sweep does it; None when the
    chat is no longer idle (a human wrote meanwhile) or another sweep got there first."""
    at = now()
    result = session.execute(
        update(Conversation)
        .where(
            Conversation.id == conversation_id,
            Conversation.mode == HUMAN_TAKEOVER,
            func.coalesce(Conversation.last_human_at, Conversation.updated_at) <= cutoff,
        )
        .values(mode=BOT_ON, human_source=None, awaiting_human_since=None, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    conversation = get(session, conversation_id)
    session.refresh(conversation)
    audit(session, conversation, "release", actor="system", reason="inactividad", previous_mode=HUMAN_TAKEOVER)
    changed(session, conversation)
    return conversation


def assign(session: Session, conversation_id: int, user_id: int | None, *, actor_user: User) -> Conversation:
    """Give the chat to a seller (or to nobody, `user_id=None`).

    Sellers may assign a chat nobody else holds (to themselves or a teammate: a hand-over);
    admins may reassign anything. If the chat is in a panel takeover, the new assignee holds it.
    """
    conversation = get(session, conversation_id, for_update=True)
    if user_id is not None:
        target = session.get(User, user_id)
        if target is None or not target.active:
            raise ConversationError("Ese usuario no existe o está desactivado")
    if actor_user.role != "admin" and held_by_other(conversation, actor_user.id):
        raise _held(session, conversation)
    previous = conversation.assigned_to
    if previous == user_id:
        return conversation
    conversation.assigned_to = user_id
    conversation.updated_at = now()
    session.flush()
    audit(session, conversation, "assign", actor=actor_of(actor_user), user=actor_user, to=user_id, previous=previous)
    changed(session, conversation)
    return conversation


# ---- notes ------------------------------------------------------------------------------------


def add_note(session: Session, conversation_id: int, user: User, text: str) -> Note:
    """An internal note: seen by the team, never sent to the customer."""
    text = (text or "").strip()
    if not text:
        raise ConversationError("La nota está vacía")
    if len(text) > NOTE_MAX:
        raise ConversationError(f"La nota es demasiado larga (máximo {NOTE_MAX} caracteres)")
    conversation = get(session, conversation_id)
    note = Note(conversation_id=conversation.id, author_user_id=user.id, text=text)
    session.add(note)
    session.flush()
    realtime.publish_after_commit(session, "note", conversation_id=conversation.id, note_id=note.id)
    return note


def notes(session: Session, conversation_id: int) -> list[Note]:
    return list(session.scalars(select(Note).where(Note.conversation_id == conversation_id).order_by(Note.id)))


# ---- the bot's turn -----------------------------------------------------------------------------


def lock_for_turn(session: Session, conversation_id: int) -> Conversation:
    """Lock the chat's row for the rest of this transaction (the inbound entries do this first):
    a seller's takeover waits for the turn to commit, then cancels what it queued (rule 8)."""
    conversation = get(session, conversation_id, for_update=True)
    mark_locked(session, conversation_id)
    return conversation


def mark_locked(session: Session, conversation_id: int) -> None:
    """This transaction holds the chat's row lock (taken with a FOR UPDATE that refreshed it)."""
    session.info.setdefault(_LOCKED_KEY, set()).add(conversation_id)


_LOCKED_KEY = "s7_locked_conversations"


def bot_may_speak(session: Session, conversation: Conversation) -> bool:
    """Right before the bot queues anything: a seller's takeover committed a millisecond ago must
    win. Under the turn's lock the loaded row is current; otherwise re-read it under a lock."""
    if conversation.id in session.info.get(_LOCKED_KEY, ()):
        return conversation.mode == BOT_ON and conversation.awaiting_human_since is None
    fresh = session.execute(
        select(Conversation.mode, Conversation.awaiting_human_since)
        .where(Conversation.id == conversation.id)
        .with_for_update()
    ).one()
    blocked = conversation.contact.blocked_at is not None  # a seller blocked the customer
    return fresh.mode == BOT_ON and fresh.awaiting_human_since is None and not blocked
