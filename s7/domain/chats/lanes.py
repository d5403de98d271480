"""Customer lanes (`InboundChat`) and the stored webhooks behind them: the one rule for making a
lane due (the processor's split, an admin's retry of a parked item) and their retention."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from s7.config import get_settings
from s7.db import is_postgres
from s7.domain.models import InboundChat, InboundItem, WebhookEvent

PRUNE_BATCH = 5000  # rows per table per run: a first run on a years-old table stays a short transaction


def mark_due(session: Session, keys: Iterable[str], at: datetime) -> None:
    """Make these lanes due at `at` (creating them as needed)."""
    rows = [{"chat_key": key, "due_at": at} for key in sorted(keys)]
    if not rows:
        return
    insert = pg_insert if is_postgres(session) else sqlite_insert
    statement = insert(InboundChat).values(rows)
    # A lane already due keeps its (earlier) due time; one waiting for a retry keeps waiting.
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["chat_key"],
            set_={"due_at": func.coalesce(InboundChat.due_at, statement.excluded.due_at)},
        )
    )


def prune(session: Session, at: datetime) -> int:
    """Retention (a job): delete processed webhook bodies older than WEBHOOK_RETENTION_DAYS with
    their items, and lanes left idle with no items. An event with a part still pending or parked
    is kept (admins may need its body), and so is a failed event. Returns rows deleted."""
    cutoff = at - timedelta(days=get_settings().WEBHOOK_RETENTION_DAYS)
    unfinished = exists().where(InboundItem.event_id == WebhookEvent.id, InboundItem.state != "done")
    old = and_(WebhookEvent.state == "done", WebhookEvent.received_at < cutoff, ~unfinished)
    # Ids follow arrival: the first recent event bounds the scan of ix_webhook_events_state_id
    # (found walking the primary key from the oldest, so it stops right after the old rows).
    first_recent = session.scalar(
        select(WebhookEvent.id).where(WebhookEvent.received_at >= cutoff).order_by(WebhookEvent.id).limit(1)
    )
    if first_recent is not None:
        old = and_(old, WebhookEvent.id < first_recent)
    ids = list(session.scalars(select(WebhookEvent.id).where(old).order_by(WebhookEvent.id).limit(PRUNE_BATCH)))
    if not ids:
        return 0
    # Only the lanes of what is deleted can become empty: no scan over every lane ever made.
    keys = set(session.scalars(select(InboundItem.chat_key).where(InboundItem.event_id.in_(ids)).distinct()))
    deleted = _count(session.execute(delete(InboundItem).where(InboundItem.event_id.in_(ids))))
    deleted += _count(session.execute(delete(WebhookEvent).where(WebhookEvent.id.in_(ids))))
    if keys:
        # An idle lane with nothing left goes; one that got an item or became due meanwhile stays.
        # Lanes a worker or the splitter holds are skipped (never waited for: no deadlock).
        idle = select(InboundChat.chat_key).where(InboundChat.chat_key.in_(keys), InboundChat.due_at.is_(None))
        if is_postgres(session):
            idle = idle.order_by(InboundChat.chat_key).with_for_update(skip_locked=True)
        free = list(session.scalars(idle))
        deleted += _count(
            session.execute(
                delete(InboundChat).where(
                    InboundChat.chat_key.in_(free),
                    InboundChat.due_at.is_(None),
                    ~exists().where(InboundItem.chat_key == InboundChat.chat_key),
                )
            )
        )
    return deleted


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
