"""How hot a chat is: NONE → WARM → HOT from the bot's intent score, HOT_LOST when nobody came.

Becoming HOT alerts the sellers, tells n8n, and makes the bot wait for a human
(`awaiting_human_since`). If no seller takes it within HOT_LEAD_UNCLAIMED_MINUTES the sweep
(`resume_bot_unclaimed`, run by the jobs) gives the chat back to the bot and flags the lead
HOT_LOST, which stays until a seller deals with the chat (`recover_lost_lead`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from s7 import realtime
from s7.clock import now
from s7.domain.chats import notify
from s7.domain.chats.audit import audit, changed
from s7.domain.models import Conversation, User

BOT_ON = "BOT_ON"
LEAD_ORDER = {"NONE": 0, "WARM": 1, "HOT": 2}


def add_intent(session: Session, conversation: Conversation, points: int, *, reason: str) -> str:
    """Add purchase-intent points; NONE → WARM → HOT by the intent thresholds. Returns the lead.

    Leads only climb here; HOT_LOST stays HOT_LOST (a seller clears it by taking the chat).
    """
    from s7.domain.chats import intent

    if points <= 0:
        return conversation.lead
    conversation.intent_score = (conversation.intent_score or 0) + points
    target = intent.lead_for_score(conversation.intent_score)
    current = conversation.lead
    if current != "HOT_LOST" and LEAD_ORDER.get(target, 0) > LEAD_ORDER.get(current, 0):
        set_lead(session, conversation, target, actor="bot", reason=reason)
        if target == "HOT":
            if conversation.mode == BOT_ON and conversation.awaiting_human_since is None:
                conversation.awaiting_human_since = now()
            realtime.publish_after_commit(session, "alert", conversation_id=conversation.id, reason="hot")
            notify.event_after_commit(session, "hot_lead", conversation, reason=reason)
    session.flush()
    changed(session, conversation)
    return conversation.lead


def set_lead(
    session: Session, conversation: Conversation, lead: str, *, actor: str, reason: str = "", user: User | None = None
) -> None:
    """Change the lead state, leaving an audit row that says who and why."""
    previous = conversation.lead
    if previous == lead:
        return
    conversation.lead = lead
    if lead == "HOT" and conversation.hot_at is None:
        conversation.hot_at = now()
    session.flush()
    audit(session, conversation, "lead", actor=actor, user=user, previous=previous, lead=lead, reason=reason or None)
    changed(session, conversation)


def request_human(session: Session, conversation: Conversation, *, reason: str) -> None:
    """The customer asked for a person: alert the sellers; the bot waits for one."""
    if conversation.mode != BOT_ON:
        return
    if conversation.awaiting_human_since is None:
        conversation.awaiting_human_since = now()
    session.flush()
    audit(session, conversation, "handoff_requested", actor="customer", reason=reason)
    realtime.publish_after_commit(session, "alert", conversation_id=conversation.id, reason="handoff")
    changed(session, conversation)


def recover_lost_lead(session: Session, conversation: Conversation, user: User | None) -> None:
    """A seller dealing with a HOT_LOST lead clears the flag (the audit trail keeps it)."""
    if conversation.lead == "HOT_LOST" and user is not None:
        actor = "admin" if user.role == "admin" else "seller"
        set_lead(session, conversation, "HOT", actor=actor, user=user, reason="tomada por un vendedor")


def resume_bot_unclaimed(
    session: Session, conversation_id: int, *, cutoff: datetime, at: datetime
) -> Conversation | None:
    """Stop waiting for a seller who never came (waiting since `cutoff` or earlier).

    One conditional UPDATE claims the effect, so of several replicas sweeping at once exactly one
    gets the chat back (None for the others, and for a chat a seller took in the meantime).
    A HOT lead becomes HOT_LOST. The caller sends the bot's message in the same transaction.
    """
    claimed = session.execute(
        update(Conversation)
        .where(
            Conversation.id == conversation_id,
            Conversation.mode == BOT_ON,
            Conversation.awaiting_human_since.is_not(None),
            Conversation.awaiting_human_since <= cutoff,
        )
        .values(awaiting_human_since=None, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None
    conversation = session.get(Conversation, conversation_id)
    assert conversation is not None
    session.refresh(conversation)
    audit(session, conversation, "handoff_unclaimed", actor="system", lead=conversation.lead)
    if conversation.lead == "HOT":
        set_lead(session, conversation, "HOT_LOST", actor="system", reason="ningún vendedor la tomó a tiempo")
        realtime.publish_after_commit(session, "alert", conversation_id=conversation.id, reason="hot_lost")
        notify.event_after_commit(session, "hot_lost", conversation)
    changed(session, conversation)
    return conversation
