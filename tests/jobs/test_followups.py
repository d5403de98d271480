"""The periodic jobs' effects on an injected clock: inactivity return, HOT_LOST, after-hours."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from s7 import jobs
from s7.db import lock_key, session_scope
from s7.domain.chats import conversations, followups
from s7.domain.models import AuditEvent, Conversation, Message, OutboxItem, User
from s7.domain.reads import conversation_list
from tests.chat_factory import customer_says, make_chat, make_user


def _seller_and_chat(wa_id: str = "5491155550001") -> tuple[int, int]:
    with session_scope() as session:
        seller = make_user(session, f"Ana{wa_id[-2:]}")
        return seller.id, make_chat(session, wa_id=wa_id).id


def _bot_messages(chat_id: int) -> list[str]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(Message.text)
                .where(Message.conversation_id == chat_id, Message.author == "bot")
                .order_by(Message.id)
            )
        )


def _actions(chat_id: int) -> list[tuple[str, str, dict]]:
    with session_scope() as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.actor, AuditEvent.detail)
            .where(AuditEvent.conversation_id == chat_id)
            .order_by(AuditEvent.id)
        )
        return [tuple(r) for r in rows]


def _chat(chat_id: int) -> Conversation:
    with session_scope() as session:
        return session.get(Conversation, chat_id)


# ---- inactivity return ------------------------------------------------------------------------


def test_human_silence_returns_the_chat_to_the_bot(pg_db, fake_clock) -> None:
    seller_id, chat_id = _seller_and_chat()
    with session_scope() as session:
        conversations.takeover(session, chat_id, session.get(User, seller_id))
    fake_clock.advance(minutes=20)
    with session_scope() as session:  # a message restarts the 30 minutes
        conversations.send_seller_message(session, chat_id, session.get(User, seller_id), "Ya te paso precio")
    fake_clock.advance(minutes=29)
    assert jobs.run_job("inactivity_return") == 0
    assert _chat(chat_id).mode == "HUMAN_TAKEOVER"
    fake_clock.advance(minutes=1, seconds=1)
    assert jobs.run_job("inactivity_return") == 1
    chat = _chat(chat_id)
    assert (chat.mode, chat.human_source, chat.assigned_to) == ("BOT_ON", None, seller_id)
    assert _actions(chat_id)[-1] == ("release", "system", {"reason": "inactividad", "previous_mode": "HUMAN_TAKEOVER"})
    assert jobs.run_job("inactivity_return") == 0
    assert [a for a, *_ in _actions(chat_id)].count("release") == 1


# ---- HOT_LOST ---------------------------------------------------------------------------------------


def _make_hot(chat_id: int) -> None:
    with session_scope() as session:
        conversations.add_intent(session, session.get(Conversation, chat_id), 10, reason="llevo")


def test_unclaimed_hot_lead_is_resumed_by_the_bot_and_flagged_once(pg_db, fake_clock) -> None:
    seller_id, chat_id = _seller_and_chat()
    _make_hot(chat_id)
    fake_clock.advance(minutes=9, seconds=59)
    assert jobs.run_job("hot_lost_sweep") == 0
    fake_clock.advance(seconds=2)
    assert jobs.run_job("hot_lost_sweep") == 1
    assert jobs.run_job("hot_lost_sweep") == 0
    chat = _chat(chat_id)
    assert (chat.lead, chat.mode, chat.awaiting_human_since) == ("HOT_LOST", "BOT_ON", None)
    assert _bot_messages(chat_id) == [followups.phrase("hot_lost")]
    with session_scope() as session:
        assert conversations.bot_may_speak(session, session.get(Conversation, chat_id))  # the bot talks again
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 1
        found, total = conversation_list.list_conversations(
            session, seller_id, conversation_list.ConversationFilter(leads=("HOT_LOST",))
        )
        assert total == 1 and found[0].conversation.id == chat_id
    actions = [(a, actor) for a, actor, _ in _actions(chat_id)]
    assert ("lead", "system") in actions and ("hot_lost", "bot") in actions
    with session_scope() as session:  # a seller deals with it: the flag clears
        conversations.takeover(session, chat_id, session.get(User, seller_id))
    assert _chat(chat_id).lead == "HOT"


def test_seller_who_takes_in_time_prevents_hot_lost(pg_db, fake_clock) -> None:
    seller_id, chat_id = _seller_and_chat()
    _make_hot(chat_id)
    fake_clock.advance(minutes=5)
    with session_scope() as session:
        conversations.takeover(session, chat_id, session.get(User, seller_id))
    fake_clock.advance(minutes=20)
    assert jobs.run_job("hot_lost_sweep") == 0
    assert _chat(chat_id).lead == "HOT" and _bot_messages(chat_id) == []


def test_unanswered_request_for_a_person_resumes_the_bot_without_hot_lost(pg_db, fake_clock) -> None:
    _seller, chat_id = _seller_and_chat()
    with session_scope() as session:
        conversations.request_human(session, session.get(Conversation, chat_id), reason="quiero una persona")
    fake_clock.advance(minutes=11)
    assert jobs.run_job("hot_lost_sweep") == 1
    assert _chat(chat_id).lead == "NONE"
    assert _bot_messages(chat_id) == [followups.phrase("handoff_unclaimed")]


def test_hot_lost_outside_the_window_is_flagged_without_a_message(pg_db, fake_clock) -> None:
    _seller, chat_id = _seller_and_chat()
    fake_clock.advance(hours=23, minutes=55)
    _make_hot(chat_id)
    fake_clock.advance(minutes=11)  # the customer's window closed meanwhile
    assert jobs.run_job("hot_lost_sweep") == 1
    assert _chat(chat_id).lead == "HOT_LOST"
    assert _bot_messages(chat_id) == []
    assert ("bot_message_skipped", "system", {"reason": "hot_lost", "why": "window_closed"}) in _actions(chat_id)


def test_a_run_waits_out_while_another_replica_holds_the_lock(pg_db, fake_clock) -> None:
    _seller, chat_id = _seller_and_chat()
    _make_hot(chat_id)
    fake_clock.advance(minutes=11)
    with session_scope() as other_replica:
        assert other_replica.scalar(select(func.pg_try_advisory_xact_lock(lock_key("s7.jobs.hot_lost_sweep"))))
        assert jobs.run_job("hot_lost_sweep") == 0
        assert _chat(chat_id).lead == "HOT"
    assert jobs.run_job("hot_lost_sweep") == 1


def test_two_sweeps_racing_without_the_lock_still_claim_each_chat_once(pg_db, fake_clock) -> None:
    """The conditional UPDATE alone (no advisory lock) keeps replicas from double-sending."""
    chat_ids = [_seller_and_chat(f"54911555501{i:02d}")[1] for i in range(12)]
    for chat_id in chat_ids:
        _make_hot(chat_id)
    fake_clock.advance(minutes=11)
    barrier = threading.Barrier(2)
    done: list[int] = []

    def sweep() -> None:
        with session_scope() as session:
            barrier.wait()
            done.append(followups.sweep_unclaimed_hot_leads(session, fake_clock()))

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sum(done) == len(chat_ids)
    for chat_id in chat_ids:
        assert _bot_messages(chat_id) == [followups.phrase("hot_lost")]


# ---- after-hours follow-up ----------------------------------------------------------------------


def test_customer_who_wrote_after_hours_gets_one_followup_when_the_store_opens(pg_db, fake_clock) -> None:
    fake_clock.current = datetime.fromisoformat("2026-11-25T22:00:00-03:00").astimezone(UTC)  # Wednesday night
    seller_id, waiting = _seller_and_chat("5491155550001")
    _, attended = _seller_and_chat("5491155550002")
    with session_scope() as session:
        assert session.get(Conversation, waiting).after_hours_since is not None
        conversations.takeover(session, attended, session.get(User, seller_id))  # someone answered at night
    fake_clock.current = datetime.fromisoformat("2026-11-25T23:30:00-03:00").astimezone(UTC)
    assert jobs.run_job("after_hours_followup") == 0  # still closed
    fake_clock.current = datetime.fromisoformat("2026-11-26T09:00:30-03:00").astimezone(UTC)  # Thursday, open
    assert jobs.run_job("after_hours_followup") == 1
    assert jobs.run_job("after_hours_followup") == 0
    assert _bot_messages(waiting) == [followups.phrase("after_hours_followup")]
    assert _bot_messages(attended) == []
    assert _chat(waiting).after_hours_since is None and _chat(attended).after_hours_since is None


def test_no_followup_once_the_24h_window_has_closed(pg_db, fake_clock) -> None:
    fake_clock.current = datetime.fromisoformat("2026-11-28T20:00:00-03:00").astimezone(UTC)  # Saturday night
    _seller, chat_id = _seller_and_chat()
    fake_clock.current = datetime.fromisoformat("2026-11-30T09:01:00-03:00").astimezone(UTC)  # Monday
    assert jobs.run_job("after_hours_followup") == 0
    assert _bot_messages(chat_id) == [] and _chat(chat_id).after_hours_since is None


def test_writing_again_during_opening_hours_cancels_the_followup(pg_db, fake_clock) -> None:
    fake_clock.current = datetime.fromisoformat("2026-11-25T08:30:00-03:00").astimezone(UTC)
    _seller, chat_id = _seller_and_chat()
    fake_clock.current = datetime.fromisoformat("2026-11-25T09:10:00-03:00").astimezone(UTC)
    with session_scope() as session:
        customer_says(session, session.get(Conversation, chat_id), "¿abrieron?")
    assert jobs.run_job("after_hours_followup") == 0


# ---- jobs through the send gate -----------------------------------------------------------------


def test_the_after_hours_followup_stays_out_of_a_chat_waiting_for_a_seller(pg_db, fake_clock) -> None:
    fake_clock.current = datetime.fromisoformat("2026-11-25T22:00:00-03:00").astimezone(UTC)  # Wednesday night
    _seller, chat_id = _seller_and_chat()
    with session_scope() as session:
        conversations.request_human(session, session.get(Conversation, chat_id), reason="pide vendedor")
    fake_clock.current = datetime.fromisoformat("2026-11-26T09:00:30-03:00").astimezone(UTC)  # open
    assert jobs.run_job("after_hours_followup") == 0
    assert _bot_messages(chat_id) == []


def test_a_hot_lost_message_queued_before_a_takeover_never_leaves(pg_db, fake_clock) -> None:
    seller_id, chat_id = _seller_and_chat()
    _make_hot(chat_id)
    fake_clock.advance(minutes=11)
    assert jobs.run_job("hot_lost_sweep") == 1
    with session_scope() as session:  # a seller takes it before the sender got to it
        conversations.takeover(session, chat_id, session.get(User, seller_id))
    with session_scope() as session:
        row = session.scalar(select(OutboxItem))
        bot_message = session.scalar(select(Message).where(Message.author == "bot"))
        assert (row.state, bot_message.status) == ("cancelled", "cancelled")
