"""Events leave only with a commit: a rolled-back savepoint drops its own events, not the rest."""

from __future__ import annotations

import pytest

from s7 import realtime
from s7.db import session_scope
from s7.domain.models import Contact


@pytest.fixture
def seen():  # type: ignore[no-untyped-def]
    events: list[tuple[str, dict]] = []
    unsubscribe = realtime.subscribe(lambda e: events.append((e.kind, e.data)))
    yield events
    unsubscribe()


def test_a_failed_savepoint_keeps_the_outer_transactions_events(any_db, seen) -> None:
    with session_scope() as session:
        realtime.publish_after_commit(session, "message", conversation_id=1, message_id=10)
        try:
            with session.begin_nested():
                realtime.publish_after_commit(session, "alert", conversation_id=1, reason="hot")
                session.add(Contact(wa_id="549"))
                session.flush()
                raise ValueError("the bot failed")
        except ValueError:
            pass
        with session.begin_nested():  # a savepoint that succeeds keeps its events
            realtime.publish_after_commit(session, "note", conversation_id=1, note_id=5)
        assert seen == []  # nothing before the commit
    assert seen == [
        ("message", {"conversation_id": 1, "message_id": 10}),
        ("note", {"conversation_id": 1, "note_id": 5}),
    ]


def test_a_rollback_drops_everything_and_duplicates_go_once(any_db, seen) -> None:
    with pytest.raises(RuntimeError), session_scope() as session:
        realtime.publish_after_commit(session, "conversation", conversation_id=2)
        raise RuntimeError
    assert seen == []
    with session_scope() as session:
        for _ in range(3):
            realtime.publish_after_commit(session, "conversation", conversation_id=3)
        session.commit()
        realtime.publish_after_commit(session, "conversation", conversation_id=3)  # a new transaction
    assert seen == [("conversation", {"conversation_id": 3})] * 2


def test_a_bad_callback_does_not_stop_the_others(any_db) -> None:
    ran: list[str] = []
    with session_scope() as session:
        realtime.call_after_commit(session, lambda: (_ for _ in ()).throw(RuntimeError("boom")))
        realtime.call_after_commit(session, lambda: ran.append("second"))
    assert ran == ["second"]
