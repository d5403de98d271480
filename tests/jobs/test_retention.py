"""The retention job: processed raw webhook bodies (personal data) go after WEBHOOK_RETENTION_DAYS;
anything still waiting or parked stays, and so do recent bodies; idle lanes are dropped."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from s7 import jobs
from s7.config import Settings
from s7.db import session_scope
from s7.domain.models import InboundChat, InboundItem, WebhookEvent
from s7.whatsapp import processor
from s7.whatsapp.webhook import store_event
from tests.conftest import FakeClock
from tests.whatsapp.conftest import bot_calls as _stub_bot  # noqa: F401 - the bot stand-in, as a fixture
from tests.whatsapp.conftest import encode
from tests.whatsapp.test_ordered_core import text_from


def _event_ids() -> set[int]:
    with session_scope() as session:
        return set(session.scalars(select(WebhookEvent.id)))


def _stored(wa_id: str, wamid: str) -> int:
    event_id = store_event(encode(text_from(wa_id, wamid, "hola")))
    assert event_id is not None
    return event_id


@pytest.mark.usefixtures("_stub_bot")
@pytest.mark.parametrize("db", ["pg_db", "sqlite_db"])
def test_retention_deletes_only_old_processed_bodies(
    db: str,
    request: pytest.FixtureRequest,
    fake_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings: Settings = request.getfixturevalue(db)
    assert settings.WEBHOOK_RETENTION_DAYS == 30
    old_done = _stored("5491100000001", "wamid.OLD")
    old_parked_item = _stored("5491100000002", "wamid.PARKED")
    old_pending_item = _stored("5491100000003", "wamid.STUCK")
    real = processor.dispatch

    def poisoned(session: Any, update: Any, **kw: Any) -> Any:
        if getattr(update, "wamid", None) == "wamid.PARKED":
            raise RuntimeError("poison")
        if getattr(update, "wamid", None) == "wamid.STUCK":
            raise RuntimeError("still failing")
        return real(session, update, **kw)

    monkeypatch.setattr(processor, "dispatch", poisoned)
    processor.process_pending()
    for _ in range(processor.MAX_ATTEMPTS):
        fake_clock.advance(seconds=61)
        processor.process_pending()
    with session_scope() as session:  # the stuck one: put back to pending (e.g. an admin's retry)
        stuck = session.scalars(select(InboundItem).where(InboundItem.event_id == old_pending_item)).one()
        assert stuck.state == "failed"
        stuck.state = "pending"

    fake_clock.advance(days=29)
    recent_done = _stored("5491100000004", "wamid.RECENT")
    monkeypatch.setattr(processor, "dispatch", real)
    processor.split_new_events()
    processor.apply_due_lanes()
    fake_clock.advance(days=2)  # the first three are 31 days old, the last one 2 days

    with session_scope() as session:
        events = dict(session.execute(select(WebhookEvent.id, WebhookEvent.state)).all())
    assert events[old_done] == events[recent_done] == "done"
    pruned = jobs.run_job("webhook_retention")

    assert _event_ids() == {old_parked_item, old_pending_item, recent_done}
    assert pruned >= 1
    with session_scope() as session:
        assert (
            session.scalar(select(func.count()).select_from(InboundItem).where(InboundItem.event_id == old_done)) == 0
        )
        lanes = set(session.scalars(select(InboundChat.chat_key)))
    # The lane of the deleted event had nothing left and was idle: dropped. The one with a
    # pending item (due) stays; a lane whose only item is parked stays (its item still exists).
    assert "wa:5491100000001" not in lanes
    assert "wa:5491100000003" in lanes and "wa:5491100000002" in lanes


def test_retention_is_a_scheduled_job_with_its_setting(pg_db: Settings) -> None:
    assert "webhook_retention" in jobs.JOBS
    assert jobs.run_job("webhook_retention") == 0  # nothing to do is fine
