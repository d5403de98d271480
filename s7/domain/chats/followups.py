"""What the periodic jobs do, as plain functions of (session, now): tests pass a fake clock.

- `return_idle_chats_to_bot`: HUMAN_INACTIVITY_MINUTES of human silence → BOT_ON ("inactividad").
- `sweep_unclaimed_hot_leads` (HOT_LOST_REMINDER): a chat waiting for a seller longer than
  HOT_LEAD_UNCLAIMED_MINUTES → the bot resumes with a short message; a HOT lead becomes HOT_LOST.
- `send_after_hours_followups` (AFTER_HOURS_FOLLOWUP): customers who wrote while the store was
  closed get one message once it opens, only while their 24-hour window is still open.

Every effect is claimed by a conditional UPDATE in the same transaction as the message it sends,
so replicas sweeping at once never double-send; each chat runs in its own savepoint, so one bad
chat does not stop the others. `s7.jobs` runs these under an advisory lock.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from s7.config import get_settings
from s7.domain.chats import conversations, leads, messages, templates
from s7.domain.chats.audit import audit
from s7.domain.models import Conversation
from s7.domain.store import hours

log = logging.getLogger(__name__)

BATCH = 200  # chats per run; the rest wait for the next run (seconds later)

# The jobs' words (es-AR). The bot's phrases file (`data/phrases.json`) wins when it has the key,
# so a store edits every customer-facing sentence in one place.
PHRASES = {
    "hot_lost": (
        "¡Perdón la demora! 🙏 El equipo está con otros clientes, así que mientras tanto sigo yo. "
        "Contame qué necesitás y apenas se libere alguien te escribe."
    ),
    "handoff_unclaimed": "Perdón, todavía no se liberó nadie del equipo 🙏 Mientras tanto sigo yo: ¿en qué te ayudo?",
    "after_hours_followup": (
        "¡Hola! Ya estamos atendiendo 🙌 ¿Seguís interesado en lo que nos consultaste? "
        "Respondé este mensaje y te ayudamos."
    ),
}


def phrase(key: str) -> str:
    try:
        from s7.domain.bot import replies as bot_replies

        text = bot_replies.load_phrases().get(key)
    except Exception:  # the bot's file is optional for the jobs; their own copy is the fallback
        text = None
    return str(text) if text else PHRASES[key]


def return_idle_chats_to_bot(session: Session, at: datetime) -> int:
    """Chats whose humans went quiet for HUMAN_INACTIVITY_MINUTES go back to the bot."""
    cutoff = at - timedelta(minutes=get_settings().HUMAN_INACTIVITY_MINUTES)
    candidates = session.scalars(
        select(Conversation.id)
        .where(Conversation.mode == conversations.HUMAN_TAKEOVER, Conversation.last_human_at <= cutoff)
        .order_by(Conversation.last_human_at)
        .limit(BATCH)
    ).all()
    done = 0
    for conversation_id in candidates:
        with _one_chat(session, "inactivity", conversation_id):
            if conversations.release_if_idle(session, conversation_id, cutoff=cutoff) is not None:
                done += 1
    return done


def sweep_unclaimed_hot_leads(session: Session, at: datetime) -> int:
    """The bot stops waiting for a seller who never came, says so, and flags HOT leads HOT_LOST."""
    cutoff = at - timedelta(minutes=get_settings().HOT_LEAD_UNCLAIMED_MINUTES)
    candidates = session.scalars(
        select(Conversation.id)
        .where(
            Conversation.mode == conversations.BOT_ON,
            Conversation.awaiting_human_since.is_not(None),
            Conversation.awaiting_human_since <= cutoff,
        )
        .order_by(Conversation.awaiting_human_since)
        .limit(BATCH)
    ).all()
    done = 0
    for conversation_id in candidates:
        with _one_chat(session, "hot_lost", conversation_id):
            conversation = leads.resume_bot_unclaimed(session, conversation_id, cutoff=cutoff, at=at)
            if conversation is None:
                continue  # a seller took it meanwhile, or another replica did this already
            key = "hot_lost" if conversation.lead == "HOT_LOST" else "handoff_unclaimed"
            _bot_says(session, conversation, phrase(key), at=at, why=key)
            done += 1
    return done


def send_after_hours_followups(session: Session, at: datetime) -> int:
    """Once the store is open: one follow-up per customer who wrote while it was closed."""
    if not hours.is_open(at, session):
        return 0
    candidates = session.execute(
        select(Conversation.id, Conversation.after_hours_since)
        .where(Conversation.after_hours_since.is_not(None))
        .order_by(Conversation.after_hours_since)
        .limit(BATCH)
    ).all()
    sent = 0
    for conversation_id, wrote_at in candidates:
        with _one_chat(session, "after_hours", conversation_id):
            claimed = session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.after_hours_since.is_not(None))
                .values(after_hours_since=None)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:
                continue
            conversation = conversations.get(session, conversation_id, for_update=True)
            session.refresh(conversation)
            if _already_attended(conversation, wrote_at):
                continue
            if _bot_says(session, conversation, phrase("after_hours_followup"), at=at, why="after_hours_followup"):
                sent += 1
    return sent


def _already_attended(conversation: Conversation, wrote_at: datetime) -> bool:
    """A human is on it, or already wrote after the customer, or the chat is waiting for a seller
    (the customer was already told someone will write): no follow-up from the bot."""
    if conversation.mode == conversations.HUMAN_TAKEOVER or conversation.awaiting_human_since is not None:
        return True
    return conversation.last_human_at is not None and conversation.last_human_at >= wrote_at


def _bot_says(session: Session, conversation: Conversation, text: str, *, at: datetime, why: str) -> bool:
    """The bot's message through THE send path; outside the 24 h window it is skipped, on record."""
    if not messages.window_open(conversation, at):
        # Outside the window only an approved template may go: the one an admin chose for this job.
        use = "after_hours" if why == "after_hours_followup" else "hot_lost"
        if templates.queue_for_job(session, conversation, use) is not None:
            audit(session, conversation, why, actor="bot", via="template")
            return True
        audit(session, conversation, "bot_message_skipped", actor="system", reason=why, why="window_closed")
        return False
    if conversation.contact.blocked_at is not None:  # a seller blocked this customer: jobs stay out
        audit(session, conversation, "bot_message_skipped", actor="system", reason=why, why="blocked")
        return False
    messages.queue_outbound(session, conversation, author="bot", text=text)
    audit(session, conversation, why, actor="bot")
    return True


@contextlib.contextmanager
def _one_chat(session: Session, job: str, conversation_id: int) -> Iterator[None]:
    """A savepoint per chat: an error rolls back that chat only, is logged, and the sweep goes on."""
    nested = session.begin_nested()
    try:
        yield
    except Exception as exc:
        nested.rollback()
        log.warning("job %s skipped chat %s: %s", job, conversation_id, exc, exc_info=True)
    else:
        nested.commit()
