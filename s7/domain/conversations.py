"""Who owns each chat: the BOT_ON ⇄ HUMAN_TAKEOVER machine, assignment, notes, unread, leads.

Every ownership change is a single conditional UPDATE, so two sellers clicking at once get
exactly one winner; the loser learns who holds the chat (`HeldByOther`). Every change leaves
an audit row and a realtime event (published after commit).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from s7 import realtime
from s7.clock import now
from s7.domain.models import AuditEvent, Contact, Conversation, Message, Note, ReadMark, User

BOT_ON = "BOT_ON"
HUMAN_TAKEOVER = "HUMAN_TAKEOVER"
LEAD_ORDER = {"NONE": 0, "WARM": 1, "HOT": 2}


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
        statement = statement.with_for_update()
    conversation = session.scalar(statement)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return conversation


def ensure_conversation(
    session: Session, *, wa_id: str, name: str | None = None, user_id: str | None = None
) -> Conversation:
    """The conversation of a WhatsApp contact, created on first contact (race-safe)."""
    contact = session.scalar(select(Contact).where(Contact.wa_id == wa_id))
    if contact is None:
        nested = session.begin_nested()
        try:
            contact = Contact(wa_id=wa_id, name=name, user_id=user_id)
            session.add(contact)
            session.flush()
            nested.commit()
        except Exception:  # another worker created it between our select and insert
            nested.rollback()
            contact = session.scalar(select(Contact).where(Contact.wa_id == wa_id))
            if contact is None:
                raise
    else:
        if name and contact.name != name:
            contact.name = name
        if user_id and contact.user_id != user_id:
            contact.user_id = user_id
    conversation = session.scalar(select(Conversation).where(Conversation.contact_id == contact.id))
    if conversation is None:
        nested = session.begin_nested()
        try:
            conversation = Conversation(contact_id=contact.id, bot_state={})
            session.add(conversation)
            session.flush()
            nested.commit()
            _changed(session, conversation, created=True)
        except Exception:
            nested.rollback()
            conversation = session.scalar(select(Conversation).where(Conversation.contact_id == contact.id))
            if conversation is None:
                raise
    return conversation


# ---- inbound / human activity -----------------------------------------------------------------


def on_customer_message(session: Session, conversation: Conversation, message: Message) -> None:
    """A customer wrote: the 24 h window (re)opens, the chat list shows it first."""
    at = message.created_at or now()
    if conversation.last_customer_at is None or at > conversation.last_customer_at:
        conversation.last_customer_at = at
    touch(session, conversation, message)
    from s7.domain import hours  # local: hours reads settings, keep imports light for the edge

    if not hours.is_open(at):
        if conversation.after_hours_since is None:
            conversation.after_hours_since = at
    else:
        conversation.after_hours_since = None


def touch(session: Session, conversation: Conversation, message: Message) -> None:
    """Keep the list's ordering and preview current and tell the screens."""
    at = message.created_at or now()
    if conversation.last_message_at is None or at >= conversation.last_message_at:
        conversation.last_message_at = at
        conversation.last_message_preview = preview_of(message)
    session.flush()
    realtime.publish_after_commit(session, "message", conversation_id=conversation.id, message_id=message.id)


def preview_of(message: Message) -> str:
    labels = {
        "image": "📷 Foto",
        "audio": "🎤 Audio",
        "video": "🎬 Video",
        "document": "📄 Documento",
        "sticker": "Sticker",
        "location": "📍 Ubicación",
        "contacts": "👤 Contacto",
        "reaction": "Reacción",
        "unsupported": "Mensaje no soportado",
    }
    text = (message.text or "").strip() or labels.get(message.type, message.type)
    return text.replace("\n", " ")[:200]


def record_human_message(
    session: Session, conversation: Conversation, *, user: User | None = None, source: str = "panel"
) -> None:
    """A human wrote (panel, API or the Business app on the phone): the bot goes silent now.

    Raises HeldByOther when a panel seller writes in a chat another seller holds.
    """
    at = now()
    values: dict[str, Any] = {
        "mode": HUMAN_TAKEOVER,
        "last_human_at": at,
        "awaiting_human_since": None,
        "updated_at": at,
    }
    statement = update(Conversation).where(Conversation.id == conversation.id)
    if source == "panel" and user is not None:
        values.update(human_source="panel")
        statement = statement.where(_free_for(user.id))
        values["assigned_to"] = func.coalesce(Conversation.assigned_to, user.id)
    else:
        values["human_source"] = func.coalesce(Conversation.human_source, "business_app")
    was_bot = conversation.mode == BOT_ON
    result = session.execute(statement.values(**values).execution_options(synchronize_session=False))
    if result.rowcount == 0:
        session.refresh(conversation)
        raise HeldByOther(conversation.assigned_to, _holder_name(session, conversation))
    session.refresh(conversation)
    if was_bot:
        actor = "seller" if source == "panel" else "business_app"
        audit(session, conversation, "takeover", actor=actor, user=user, via="message")
    _recover_lost_lead(session, conversation, user)
    _changed(session, conversation)


def _free_for(user_id: int) -> Any:
    """SQL condition: this seller may hold the chat (nobody else does)."""
    return (
        (Conversation.mode == BOT_ON)
        | (Conversation.assigned_to.is_(None))
        | (Conversation.assigned_to == user_id)
        | (Conversation.human_source == "business_app")
    )


def _holder_name(session: Session, conversation: Conversation) -> str:
    if conversation.assigned_to is None:
        return "la app de WhatsApp Business"
    holder = session.get(User, conversation.assigned_to)
    return holder.name if holder else "otro vendedor"


# ---- ownership -----------------------------------------------------------------------------------


def takeover(session: Session, conversation_id: int, user: User) -> Conversation:
    """A seller takes the chat; exactly one of two simultaneous takers wins."""
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
        raise HeldByOther(conversation.assigned_to, _holder_name(session, conversation))
    audit(session, conversation, "takeover", actor=_actor(user), user=user)
    _recover_lost_lead(session, conversation, user)
    _changed(session, conversation)
    return conversation


def release_to_bot(
    session: Session, conversation_id: int, *, actor_user: User | None = None, reason: str = "button"
) -> Conversation:
    """Back to the bot (the panel's button, or human inactivity). The assignee stays as owner."""
    conversation = get(session, conversation_id, for_update=True)
    if actor_user is not None and actor_user.role != "admin" and conversation.mode == HUMAN_TAKEOVER:
        holder = conversation.assigned_to
        if holder is not None and holder != actor_user.id and conversation.human_source == "panel":
            raise HeldByOther(holder, _holder_name(session, conversation))
    if conversation.mode == BOT_ON:
        return conversation
    conversation.mode = BOT_ON
    conversation.human_source = None
    conversation.awaiting_human_since = None
    session.flush()
    actor = _actor(actor_user) if actor_user else "system"
    audit(session, conversation, "release", actor=actor, user=actor_user, reason=reason)
    _changed(session, conversation)
    return conversation


def assign(session: Session, conversation_id: int, user_id: int | None, *, actor_user: User) -> Conversation:
    """Give the chat to a seller (or nobody). Sellers may only take free chats for themselves or
    hand over their own; admins may reassign anything."""
    conversation = get(session, conversation_id, for_update=True)
    if user_id is not None:
        target = session.get(User, user_id)
        if target is None or not target.active:
            raise ConversationError("Ese usuario no existe o está desactivado")
    if actor_user.role != "admin":
        holder = conversation.assigned_to
        if holder is not None and holder != actor_user.id:
            raise HeldByOther(holder, _holder_name(session, conversation))
    previous = conversation.assigned_to
    conversation.assigned_to = user_id
    if conversation.mode == HUMAN_TAKEOVER and conversation.human_source == "panel" and user_id is None:
        conversation.human_source = "business_app" if previous is None else conversation.human_source
    session.flush()
    audit(session, conversation, "assign", actor=_actor(actor_user), user=actor_user, to=user_id, previous=previous)
    _changed(session, conversation)
    return conversation


def add_note(session: Session, conversation_id: int, user: User, text: str) -> Note:
    text = text.strip()
    if not text:
        raise ConversationError("La nota está vacía")
    if len(text) > 4000:
        raise ConversationError("La nota es demasiado larga (máximo 4000 caracteres)")
    conversation = get(session, conversation_id)
    note = Note(conversation_id=conversation.id, author_user_id=user.id, text=text)
    session.add(note)
    session.flush()
    realtime.publish_after_commit(session, "note", conversation_id=conversation.id, note_id=note.id)
    return note


def notes(session: Session, conversation_id: int) -> list[Note]:
    return list(session.scalars(select(Note).where(Note.conversation_id == conversation_id).order_by(Note.id)))


# ---- leads and the bot's hand-off -------------------------------------------------------------


def add_intent(session: Session, conversation: Conversation, points: int, *, reason: str) -> str:
    """Add purchase-intent points; NONE → WARM → HOT by the intent thresholds. Returns the lead.

    Becoming HOT alerts the sellers and makes the bot wait for one (awaiting_human_since);
    nobody taking it within HOT_LEAD_UNCLAIMED_MINUTES turns it HOT_LOST (jobs).
    """
    from s7.domain import intent

    if points <= 0:
        return conversation.lead
    conversation.intent_score = (conversation.intent_score or 0) + points
    target = intent.lead_for_score(conversation.intent_score)
    current = conversation.lead
    if current != "HOT_LOST" and LEAD_ORDER.get(target, 0) > LEAD_ORDER.get(current, 0):
        set_lead(session, conversation, target, actor="bot", reason=reason)
        if target == "HOT" and conversation.mode == BOT_ON:
            conversation.awaiting_human_since = now()
            realtime.publish_after_commit(session, "alert", conversation_id=conversation.id, reason="hot")
    session.flush()
    _changed(session, conversation)
    return conversation.lead


def set_lead(
    session: Session, conversation: Conversation, lead: str, *, actor: str, reason: str = "", user: User | None = None
) -> None:
    previous = conversation.lead
    if previous == lead:
        return
    conversation.lead = lead
    if lead == "HOT":
        conversation.hot_at = now()
    session.flush()
    audit(session, conversation, "lead", actor=actor, user=user, previous=previous, lead=lead, reason=reason)
    _changed(session, conversation)


def request_human(session: Session, conversation: Conversation, *, reason: str) -> None:
    """The customer asked for a person: alert the sellers; the bot waits for one."""
    if conversation.mode != BOT_ON:
        return
    if conversation.awaiting_human_since is None:
        conversation.awaiting_human_since = now()
    session.flush()
    audit(session, conversation, "handoff_requested", actor="customer", reason=reason)
    realtime.publish_after_commit(session, "alert", conversation_id=conversation.id, reason="handoff")
    _changed(session, conversation)


def bot_may_speak(session: Session, conversation: Conversation) -> bool:
    """Re-read the row under a lock right before the bot queues anything: a seller's takeover
    committed a millisecond ago must win."""
    fresh = session.execute(
        select(Conversation.mode, Conversation.awaiting_human_since)
        .where(Conversation.id == conversation.id)
        .with_for_update()
    ).one()
    return fresh.mode == BOT_ON and fresh.awaiting_human_since is None


def _recover_lost_lead(session: Session, conversation: Conversation, user: User | None) -> None:
    """A seller dealing with a HOT_LOST lead clears the flag (it stays in the audit trail)."""
    if conversation.lead == "HOT_LOST" and user is not None:
        set_lead(session, conversation, "HOT", actor=_actor(user), user=user, reason="tomado por un vendedor")


# ---- unread ------------------------------------------------------------------------------------


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


# ---- audit and events ----------------------------------------------------------------------------


def _actor(user: User | None) -> str:
    if user is None:
        return "system"
    return "admin" if user.role == "admin" else "seller"


def audit(
    session: Session,
    conversation: Conversation | None,
    action: str,
    *,
    actor: str,
    user: User | None = None,
    **detail: Any,
) -> AuditEvent:
    event = AuditEvent(
        conversation_id=conversation.id if conversation else None,
        actor=actor,
        actor_user_id=user.id if user else None,
        action=action,
        detail={k: v for k, v in detail.items() if v is not None},
    )
    session.add(event)
    return event


def _changed(session: Session, conversation: Conversation, **extra: Any) -> None:
    realtime.publish_after_commit(session, "conversation", conversation_id=conversation.id, **extra)


def idle_since(conversation: Conversation) -> datetime | None:
    return conversation.last_human_at
