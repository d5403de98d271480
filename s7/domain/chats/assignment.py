"""Hot leads find a seller: availability, round-robin auto-assignment, reassignment when unopened.

A seller is *available* when their switch says "disponible", they are an active seller (admins
are not routed to), and a panel tab of theirs was connected within AVAILABILITY_GRACE_MINUTES
(`panel_seen`, a heartbeat from every open inbox tab; a phone that drops the websocket in the
background is not marked away at once).

With AUTO_ASSIGN on, a new hot lead or handoff request goes to the available seller with fewer
than AUTO_ASSIGN_MAX_OPEN open chats who got an automatic assignment longest ago (round-robin).
The choice runs under one cluster-wide lock (a Postgres advisory lock), so two leads assigned at
the same moment never pick past a cap nor the same "next" seller twice. An assignee who does not
open the chat within AUTO_ASSIGN_REASSIGN_MINUTES loses it to the next seller (`reassign_unopened`,
a job). Every assignment leaves an audit row.

Assignment is not a takeover: the mode stays BOT_ON (the bot keeps answering until the seller
writes) and `awaiting_human_since` is untouched, so the HOT_LOST clock keeps running.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from s7 import realtime
from s7.clock import now
from s7.config import get_settings
from s7.db import is_postgres, lock_key
from s7.domain.chats.audit import actor_of, audit, changed
from s7.domain.models import Conversation, User

LOCK_NAME = "s7.auto_assign"
BATCH = 100


@dataclass(frozen=True)
class Availability:
    user_id: int
    available: bool  # the seller's own switch
    connected: bool  # a panel tab within the grace period
    panel_seen_at: datetime | None

    @property
    def effective(self) -> bool:
        return self.available and self.connected


# ---- availability ---------------------------------------------------------------------------------


def _grace_cutoff(at: datetime) -> datetime:
    return at - timedelta(minutes=get_settings().AVAILABILITY_GRACE_MINUTES)


def availability(session: Session, user_id: int, at: datetime | None = None) -> Availability:
    user = session.get(User, user_id)
    if user is None:
        raise LookupError(user_id)
    at = at or now()
    seen = user.panel_seen_at
    return Availability(user.id, bool(user.available), seen is not None and seen >= _grace_cutoff(at), seen)


def set_available(session: Session, user: User, available: bool) -> Availability:
    """The seller's switch: disponible / ausente (audited, and every screen hears it)."""
    if bool(user.available) != available:
        user.available = available
        session.flush()
        audit(session, None, "availability", actor=actor_of(user), user=user, available=available)
        realtime.publish_after_commit(session, "user", user_id=user.id, available=available)
    return availability(session, user.id)


def panel_seen(session: Session, user_id: int, at: datetime | None = None) -> None:
    """Heartbeat from an open panel tab: this seller is here (one small UPDATE)."""
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(panel_seen_at=at or now())
        .execution_options(synchronize_session=False)
    )


def _available_sellers(at: datetime):  # type: ignore[no-untyped-def]
    return (
        User.active.is_(True),
        User.role == "seller",
        User.available.is_(True),
        User.panel_seen_at >= _grace_cutoff(at),
    )


def anyone_available(session: Session, at: datetime | None = None) -> bool:
    return session.scalar(select(User.id).where(*_available_sellers(at or now())).limit(1)) is not None


# ---- picking a seller --------------------------------------------------------------------------------


def _open_chats():  # type: ignore[no-untyped-def]
    """Chats a seller is dealing with: held in a takeover, or waiting for them."""
    return (
        select(func.count(Conversation.id))
        .where(
            Conversation.assigned_to == User.id,
            (Conversation.mode == "HUMAN_TAKEOVER") | Conversation.awaiting_human_since.is_not(None),
        )
        .correlate(User)
        .scalar_subquery()
    )


def _lock(session: Session) -> None:
    """Serialise every pick in the cluster until this transaction ends (Postgres); SQLite has one
    writer at a time already."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(LOCK_NAME)})


def next_seller(session: Session, at: datetime, *, exclude: tuple[int, ...] = ()) -> User | None:
    """The available seller under the cap whose last automatic assignment is the oldest."""
    statement = (
        select(User)
        .where(*_available_sellers(at), _open_chats() < get_settings().AUTO_ASSIGN_MAX_OPEN)
        .order_by(User.last_auto_assigned_at.asc().nulls_first(), User.id)
        .limit(1)
    )
    if exclude:
        statement = statement.where(User.id.not_in(exclude))
    return session.scalar(statement)


def auto_assign(
    session: Session, conversation: Conversation, *, reason: str, at: datetime | None = None
) -> User | None:
    """Route a new hot lead or handoff request to a seller (AUTO_ASSIGN). Returns who got it.

    A chat a seller already holds or that is assigned to someone available stays where it is.
    """
    if not get_settings().AUTO_ASSIGN:
        return None
    at = at or now()
    _lock(session)
    session.refresh(conversation)
    if conversation.mode == "HUMAN_TAKEOVER":
        return None
    if conversation.assigned_to is not None:
        current = session.get(User, conversation.assigned_to)
        if current is not None and session.scalar(
            select(User.id).where(User.id == current.id, *_available_sellers(at))
        ):
            return None
    seller = next_seller(session, at)
    if seller is None:
        audit(session, conversation, "auto_assign_none", actor="system", reason=reason)
        return None
    _give(session, conversation, seller, at, reason=reason, previous=conversation.assigned_to)
    return seller


def _give(
    session: Session, conversation: Conversation, seller: User, at: datetime, *, reason: str, previous: int | None
) -> None:
    conversation.assigned_to = seller.id
    conversation.auto_assigned_at = at
    seller.last_auto_assigned_at = at
    session.flush()
    audit(session, conversation, "assign", actor="system", via="auto", to=seller.id, previous=previous, reason=reason)
    realtime.publish_after_commit(
        session, "alert", conversation_id=conversation.id, reason="assigned", for_user=seller.id
    )
    changed(session, conversation)


def opened(session: Session, conversation_id: int, user_id: int) -> None:
    """The assignee opened the chat: it is theirs, no more reassignment."""
    session.execute(
        update(Conversation)
        .where(
            Conversation.id == conversation_id,
            Conversation.assigned_to == user_id,
            Conversation.auto_assigned_at.is_not(None),
        )
        .values(auto_assigned_at=None)
        .execution_options(synchronize_session=False)
    )


def reassign_unopened(session: Session, at: datetime) -> int:
    """The job: auto-assigned chats still waiting and unopened after AUTO_ASSIGN_REASSIGN_MINUTES
    go to the next available seller (never back to the one who let it sit)."""
    if not get_settings().AUTO_ASSIGN:
        return 0
    cutoff = at - timedelta(minutes=get_settings().AUTO_ASSIGN_REASSIGN_MINUTES)
    stale = session.scalars(
        select(Conversation.id)
        .where(
            Conversation.auto_assigned_at.is_not(None),
            Conversation.auto_assigned_at <= cutoff,
            Conversation.mode == "BOT_ON",
            Conversation.awaiting_human_since.is_not(None),
        )
        .order_by(Conversation.auto_assigned_at)
        .limit(BATCH)
    ).all()
    moved = 0
    for conversation_id in stale:
        _lock(session)
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            continue
        session.refresh(conversation)
        if conversation.auto_assigned_at is None or conversation.auto_assigned_at > cutoff:
            continue  # opened or reassigned meanwhile
        previous = conversation.assigned_to
        seller = next_seller(session, at, exclude=(previous,) if previous else ())
        if seller is None:
            conversation.auto_assigned_at = None  # nobody else: it stays with them, no retry storm
            audit(session, conversation, "auto_assign_none", actor="system", reason="sin abrir", previous=previous)
            continue
        _give(session, conversation, seller, at, reason="no la abrió a tiempo", previous=previous)
        moved += 1
    return moved


def someone_can_take(session: Session, at: datetime | None = None) -> bool:
    """May the bot promise a seller? Always without AUTO_ASSIGN (nobody routes, the old promise
    stands); with it, only if an available seller is under the cap."""
    if not get_settings().AUTO_ASSIGN:
        return True
    return next_seller(session, at or now()) is not None
