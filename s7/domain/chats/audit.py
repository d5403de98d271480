"""The audit trail of a chat (who or what changed it) and the "conversation changed" event.

Shared by `conversations` (ownership) and `leads` (NONE → WARM → HOT → HOT_LOST), so both leave
the same kind of row and send the same event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from s7 import realtime
from s7.domain.models import AuditEvent, Conversation, User

# Who can cause a change (AuditEvent.actor).
ACTORS = ("seller", "admin", "bot", "system", "business_app", "customer")


def actor_of(user: User | None) -> str:
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
    """One row per takeover, release, assignment, lead change...: `detail` says why."""
    event = AuditEvent(
        conversation_id=conversation.id if conversation else None,
        actor=actor,
        actor_user_id=user.id if user else None,
        action=action,
        detail={k: v for k, v in detail.items() if v is not None},
    )
    session.add(event)
    return event


def trail(session: Session, conversation_id: int, *, limit: int = 200) -> list[AuditEvent]:
    """The chat's history of changes, oldest first (the newest `limit`)."""
    newest = list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.conversation_id == conversation_id)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )
    return newest[::-1]


def changed(session: Session, conversation: Conversation, **extra: Any) -> None:
    """Tell every screen (every replica) to re-read this chat once the transaction commits."""
    realtime.publish_after_commit(session, "conversation", conversation_id=conversation.id, **extra)
