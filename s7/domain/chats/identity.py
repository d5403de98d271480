"""Who a customer is (DESIGN rule 10): one contact whether WhatsApp names them by phone (`wa_id`),
by business-scoped user id (BSUID) or both, plus a username when they have one.

Since 2026 a customer with a username may write without a phone; the same person may have been
known by phone for months. Every update is looked up by whatever it carries (phone, then BSUID,
then — only when neither matches — username), fills in what we did not know, and when it reveals
that two contacts are one person, merges them: the older chat survives with both histories.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import UniqueConstraint, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from s7 import realtime
from s7.clock import now
from s7.db import is_postgres
from s7.domain.chats.audit import audit, changed
from s7.domain.models import Base, Contact, Conversation, Message

log = logging.getLogger(__name__)

# The more advanced lead wins a merge.
LEAD_RANK = {"NONE": 0, "WARM": 1, "HOT_LOST": 2, "HOT": 3}


@dataclass(frozen=True, slots=True)
class Ids:
    """What an update tells about a customer; any part may be missing."""

    phone: str | None = None
    bsuid: str | None = None
    username: str | None = None

    @classmethod
    def of(cls, phone: str | None, bsuid: str | None = None, username: str | None = None) -> Ids:
        # Callers that only know "the customer's WhatsApp id" may hand a BSUID as the phone.
        if phone and not phone.isdigit():
            phone, bsuid = None, bsuid or phone
        return cls(phone or None, bsuid or None, (username or "").lstrip("@") or None)


# ---- lookups -------------------------------------------------------------------------------------
def find_contact(
    session: Session, *, phone: str | None = None, bsuid: str | None = None, username: str | None = None
) -> Contact | None:
    """The contact these ids name (the oldest if they name several), or None."""
    found = _matches(session, Ids.of(phone, bsuid, username))
    return found[0] if found else None


def _matches(session: Session, ids: Ids) -> list[Contact]:
    found: dict[int, Contact] = {}
    for column, value in ((Contact.wa_id, ids.phone), (Contact.bsuid, ids.bsuid)):
        if value:
            contact = session.scalar(select(Contact).where(column == value))
            if contact is not None:
                found[contact.id] = contact
    if not found and ids.username:
        # Usernames can be given up and taken by someone else: a last resort, and only when
        # exactly one contact has it.
        named = list(session.scalars(select(Contact).where(Contact.username == ids.username).limit(2)))
        if len(named) == 1:
            found[named[0].id] = named[0]
    return [found[key] for key in sorted(found)]


def resolve_contact(
    session: Session,
    *,
    phone: str | None = None,
    bsuid: str | None = None,
    username: str | None = None,
    name: str | None = None,
) -> Contact:
    """The one contact for these ids: found, completed with what it lacked, created on first
    contact (race-safe), or — when the ids name two contacts — the survivor of their merge."""
    ids = Ids.of(phone, bsuid, username)
    if ids.phone is None and ids.bsuid is None:
        raise ValueError("a contact needs a phone or a business-scoped user id")
    for _attempt in range(3):
        found = _matches(session, ids)
        if not found:
            contact = _create(session, ids, name)
            if contact is not None:
                return contact
            continue  # another worker created it between our select and insert
        contact = found[0]
        for other in found[1:]:
            contact = merge_contacts(session, contact, other, reason="ids_linked")
        if _complete(session, contact, ids, name):
            return contact
        # Another worker gave one of these ids to a new contact meanwhile: look again, then merge.
    raise RuntimeError("contact could not be resolved")


def _create(session: Session, ids: Ids, name: str | None) -> Contact | None:
    nested = session.begin_nested()
    try:
        contact = Contact(wa_id=ids.phone, bsuid=ids.bsuid, username=ids.username, name=name)
        session.add(contact)
        session.flush()
        nested.commit()
        return contact
    except IntegrityError:
        nested.rollback()
        return None


def _complete(session: Session, contact: Contact, ids: Ids, name: str | None) -> bool:
    """What the update knows better: a phone we lacked, a BSUID (also a rotated one), the username.
    False when another transaction took one of these ids first (the caller looks again)."""
    values = {
        "wa_id": ids.phone or contact.wa_id,
        "bsuid": ids.bsuid or contact.bsuid,
        "username": ids.username or contact.username,
        "name": name[:200] if name else contact.name,
    }
    if all(getattr(contact, key) == value for key, value in values.items()):
        return True
    nested = session.begin_nested()
    try:
        for key, value in values.items():
            setattr(contact, key, value)
        session.flush()
        nested.commit()
        return True
    except IntegrityError:
        nested.rollback()
        session.refresh(contact)
        return False


def learn(session: Session, *, phone: str | None, bsuid: str | None) -> Contact | None:
    """A status that names both the phone we wrote to and the customer's BSUID links them, so a
    later username-only message lands in the same chat. Never creates a contact."""
    if not phone or not bsuid or not phone.isdigit():
        return None
    if not _matches(session, Ids(phone=phone)) and not _matches(session, Ids(bsuid=bsuid)):
        return None
    return resolve_contact(session, phone=phone, bsuid=bsuid)


def address_of(contact: Contact) -> str:
    """Where a send goes: the phone when known; otherwise the BSUID (sent as `recipient`)."""
    return contact.wa_id or contact.bsuid or ""


def label_of(contact: Contact | None) -> str:
    """How sellers see a customer without a profile name: +phone, else @username, else the id."""
    if contact is None:
        return ""
    return label(contact.wa_id, contact.username, contact.bsuid)


def label(phone: str | None, username: str | None, bsuid: str | None) -> str:
    if phone:
        return f"+{phone}"
    if username:
        return f"@{username}"
    return bsuid or "cliente sin número"


# ---- changes WhatsApp announces -----------------------------------------------------------------
def change_ids(
    session: Session,
    contact: Contact,
    *,
    new_phone: str | None = None,
    new_bsuid: str | None = None,
    at: datetime | None = None,
) -> Contact:
    """The customer changed number or BSUID: the contact takes the new ids (merging with a contact
    that already had them) and the chat says so in a visible line."""
    before = (contact.wa_id, contact.bsuid)
    for column, value in ((Contact.wa_id, new_phone), (Contact.bsuid, new_bsuid)):
        if not value:
            continue
        holder = session.scalar(select(Contact).where(column == value, Contact.id != contact.id))
        if holder is not None:
            contact = merge_contacts(session, contact, holder, reason="ids_changed")
    if new_phone:
        contact.wa_id = new_phone
    if new_bsuid:
        contact.bsuid = new_bsuid
    session.flush()
    conversation = _conversation_of(session, contact)
    if conversation is not None and (contact.wa_id, contact.bsuid) != before:
        audit(
            session,
            conversation,
            "contact_ids_changed",
            actor="customer",
            old_phone=before[0],
            new_phone=contact.wa_id if new_phone else None,
            old_bsuid=before[1],
            new_bsuid=contact.bsuid if new_bsuid else None,
        )
        changed(session, conversation)
    return contact


def notice_text(*, new_phone: str | None, new_bsuid: str | None) -> str:
    """The line sellers read in the chat (Meta's own body is English and names raw ids)."""
    if new_phone:
        return f"El cliente cambió su número de WhatsApp a +{new_phone}."
    if new_bsuid:
        return "El cliente cambió su identificador de WhatsApp (sigue siendo la misma persona)."
    return "WhatsApp avisó un cambio en la cuenta del cliente."


def add_system_line(session: Session, conversation: Conversation, text: str, *, at: datetime | None = None) -> Message:
    """A visible line in the chat written by the system (not the customer, never sent)."""
    at = at or now()
    message = Message(
        conversation_id=conversation.id,
        direction="in",
        author="system",
        type="system",
        text=text,
        options=[],
        status="received",
        status_at=at,
        created_at=at,
    )
    session.add(message)
    session.flush()
    realtime.publish_after_commit(session, "message", conversation_id=conversation.id, message_id=message.id)
    return message


def _conversation_of(session: Session, contact: Contact) -> Conversation | None:
    return session.scalar(select(Conversation).where(Conversation.contact_id == contact.id))


# ---- merging two contacts that turn out to be one person ----------------------------------------
def merge_contacts(session: Session, first: Contact, second: Contact, *, reason: str) -> Contact:
    """Fold the newer contact into the older one. Their chats are merged under both rows' locks
    (taken in id order, so two merges of the same pair cannot deadlock): the older chat keeps both
    histories, notes and audit; the more advanced lead, the current holder and the latest outcome
    win. The newer contact and chat are deleted; the merge is audited."""
    session.flush()  # the rows are moved with SQL below: pending ORM changes go first
    keep, gone = (first, second) if first.id < second.id else (second, first)
    keep_id, gone_id = keep.id, gone.id
    ids = {"phone": gone.wa_id, "bsuid": gone.bsuid, "username": gone.username}
    chats = _lock_in_id_order(session, keep_id, gone_id)
    survivor = chats[0] if chats else None
    for loser in chats[1:]:
        _merge_chats(session, survivor, loser)
    if survivor is not None and survivor.contact_id != keep_id:
        session.execute(update(Conversation).where(Conversation.id == survivor.id).values(contact_id=keep_id))
    _move_references(session, Contact.__table__.c.id, gone_id, keep_id, skip=("conversations",))
    session.execute(delete(Contact).where(Contact.id == gone_id))
    session.expunge(gone)
    session.expire_all()
    keep = session.get(Contact, keep_id)
    assert keep is not None
    keep.wa_id = keep.wa_id or ids["phone"]
    keep.bsuid = keep.bsuid or ids["bsuid"]
    keep.username = keep.username or ids["username"]
    session.flush()
    if survivor is not None:
        chat = session.get(Conversation, survivor.id)
        merged = [c.id for c in chats[1:]]
        audit(session, chat, "contacts_merged", actor="system", reason=reason, merged_conversations=merged, **ids)
        changed(session, chat, merged=True)
    log.info("merged contact %s into %s (%s)", gone_id, keep_id, reason)
    return keep


def _lock_in_id_order(session: Session, *contact_ids: int) -> list[Conversation]:
    chats = select(Conversation).where(Conversation.contact_id.in_(contact_ids)).order_by(Conversation.id)
    if is_postgres(session):
        chats = chats.with_for_update()
    return list(session.scalars(chats))


def _merge_chats(session: Session, keep: Conversation, gone: Conversation) -> None:
    _merge_state(keep, gone)
    session.flush()
    _move_references(session, Conversation.__table__.c.id, gone.id, keep.id)
    session.execute(delete(Conversation).where(Conversation.id == gone.id))
    session.expunge(gone)


def _merge_state(keep: Conversation, gone: Conversation) -> None:
    if LEAD_RANK.get(gone.lead, 0) > LEAD_RANK.get(keep.lead, 0):
        keep.lead, keep.hot_at = gone.lead, gone.hot_at
    keep.intent_score = max(keep.intent_score or 0, gone.intent_score or 0)
    gone_holds = gone.mode == "HUMAN_TAKEOVER" and (
        keep.mode != "HUMAN_TAKEOVER" or _later(gone.last_human_at, keep.last_human_at)
    )
    if gone_holds:
        keep.mode, keep.human_source, keep.last_human_at = gone.mode, gone.human_source, gone.last_human_at
        keep.assigned_to = gone.assigned_to or keep.assigned_to
    elif keep.assigned_to is None:
        keep.assigned_to = gone.assigned_to
    if _later(gone.last_customer_at, keep.last_customer_at):
        keep.last_customer_at = gone.last_customer_at
    if _later(gone.last_message_at, keep.last_message_at):
        keep.last_message_at, keep.last_message_preview = gone.last_message_at, gone.last_message_preview
        keep.bot_state = dict(gone.bot_state or {})
    keep.awaiting_human_since = _earliest(keep.awaiting_human_since, gone.awaiting_human_since)
    # Columns other features add: the newer chat's outcome is the latest; anything else fills gaps.
    for column in Conversation.__table__.columns:
        if column.key in _MERGED_ABOVE:
            continue
        value = getattr(gone, column.key, None)
        if value is not None and (getattr(keep, column.key, None) is None or column.key.startswith("outcome")):
            setattr(keep, column.key, value)


_MERGED_ABOVE = frozenset(
    (
        *("id", "contact_id", "created_at", "updated_at", "lead", "hot_at", "intent_score", "mode"),
        *("human_source", "last_human_at", "assigned_to", "last_customer_at", "last_message_at"),
        *("last_message_preview", "bot_state", "awaiting_human_since"),
    )
)


def _move_references(session: Session, target: object, old: int, new: int, skip: tuple[str, ...] = ()) -> None:
    """Point every row that references `old` (any table, today's or one added later) at `new`.
    Where a unique key would clash (one read mark per seller, one outcome per chat), the older row
    gives way: the latest wins."""
    for table in Base.metadata.sorted_tables:
        if table.name in skip:
            continue
        for fk in table.foreign_keys:
            if fk.column is not target:
                continue
            column = fk.parent
            pk = list(table.primary_key.columns)[0]
            for unique in _unique_sets(table, column):
                others = [c for c in unique if c is not column]
                rows = session.execute(select(pk, column, *others).where(column.in_((old, new)))).all()
                seen: dict[tuple, int] = {}
                for row in sorted(rows, key=lambda r: r[0]):
                    key = tuple(row[2:])
                    if key in seen:  # same key on both sides: the newer row stays
                        session.execute(delete(table).where(pk == seen[key]))
                    seen[key] = row[0]
            session.execute(update(table).where(column == old).values({column.name: new}))


def _unique_sets(table, column):  # type: ignore[no-untyped-def]
    sets = [list(c.columns) for c in table.constraints if isinstance(c, UniqueConstraint) and column.name in c.columns]
    sets += [list(i.columns) for i in table.indexes if i.unique and column.name in i.columns]
    return sets


def _later(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and (b is None or a > b)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min((x for x in (a, b) if x is not None), default=None)


def apply_user_id_change(
    session: Session, previous: str, current: str, *, phone: str | None = None, at: datetime | None = None
) -> Contact | None:
    """`user_id_update`: the BSUID `previous` is now `current`. The contact keeps its chat; a
    customer we never met is not created here (their next message will)."""
    contact = find_contact(session, bsuid=previous) or find_contact(session, phone=phone, bsuid=current)
    if contact is None:
        return None
    if contact.bsuid == current and (not phone or contact.wa_id == phone):
        return contact  # already applied (a system message said it first, or a redelivery)
    contact = change_ids(session, contact, new_phone=phone if phone and not contact.wa_id else None, new_bsuid=current)
    conversation = _conversation_of(session, contact)
    if conversation is not None:
        add_system_line(session, conversation, notice_text(new_phone=None, new_bsuid=current), at=at)
    return contact
