"""Closing episodes: vendido / perdido / sin resultado, each its own record; lead and intent restart."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from s7.db import session_scope
from s7.domain.chats import conversations, outcomes
from s7.domain.chats.conversations import ConversationError, HeldByOther
from s7.domain.models import AuditEvent, Outcome, Product
from tests.chat_factory import customer_says, make_chat, make_user


def _hot_chat(session, wa_id: str = "5491155550001"):  # type: ignore[no-untyped-def]
    chat = make_chat(session, wa_id=wa_id, text="me lo llevo")
    conversations.add_intent(session, chat, 100, reason="compra: me lo llevo")
    assert chat.lead == "HOT"
    return chat


def test_a_sale_closes_the_episode_and_the_next_one_starts_fresh(any_db, fake_clock) -> None:
    with session_scope() as session:
        ana = make_user(session, "Ana")
        session.add(Product(sku="ZAP-1", name="Zapatilla", price=Decimal("1000"), stock=2))
        chat = _hot_chat(session)
        closed = outcomes.close_episode(session, chat.id, ana, "won", amount="$ 189.999,50", skus=["ZAP-1"])
        assert not closed.corrected
        assert closed.outcome.amount == Decimal("189999.50") and closed.outcome.skus == ["ZAP-1"]
        assert closed.outcome.was_hot and closed.outcome.source == "bot"
        assert chat.lead == "NONE" and chat.intent_score == 0 and chat.hot_at is None
        assert chat.awaiting_human_since is None
        assert outcomes.outcome_of(chat) == "won"
        chat_id = chat.id
    fake_clock.advance(days=3)
    with session_scope() as session:
        chat = conversations.get(session, chat_id)
        customer_says(session, chat, "hola, quiero otro par")
        assert outcomes.outcome_of(chat) is None  # a new episode is open
        conversations.add_intent(session, chat, 100, reason="compra")
        assert chat.lead == "HOT"
        ana = session.scalar(select(outcomes.User).where(outcomes.User.name == "Ana"))
        second = outcomes.close_episode(session, chat_id, ana, "won", amount=50000)
        assert not second.corrected
        assert session.scalar(select(func.count(Outcome.id)).where(Outcome.conversation_id == chat_id)) == 2


def test_a_second_outcome_on_an_empty_episode_corrects_the_first(pg_db) -> None:
    with session_scope() as session:
        ana = make_user(session, "Ana")
        chat = _hot_chat(session)
        outcomes.close_episode(session, chat.id, ana, "won", amount=1000)
        again = outcomes.close_episode(session, chat.id, ana, "won", amount=1000)  # a double click
        assert again.corrected
        fixed = outcomes.close_episode(session, chat.id, ana, "lost", reason="precio")
        assert fixed.corrected and fixed.outcome.reason == "Precio" and fixed.outcome.amount is None
        assert session.scalar(select(func.count(Outcome.id))) == 1
        assert fixed.outcome.was_hot  # the correction keeps what the episode was
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("outcome%"))).all()
        assert actions == ["outcome", "outcome_corrected", "outcome_corrected"]


def test_each_result_needs_its_own_data(pg_db) -> None:
    with session_scope() as session:
        ana = make_user(session, "Ana")
        chat = make_chat(session)
        for bad, kwargs in [
            ("won", {}),
            ("won", {"amount": "0"}),
            ("won", {"amount": "mucho"}),
            ("won", {"amount": 10, "skus": ["NO-EXISTE"]}),
            ("lost", {}),
            ("lost", {"reason": "me cayó mal"}),
            ("maybe", {}),
        ]:
            with pytest.raises(ConversationError):
                outcomes.close_episode(session, chat.id, ana, bad, **kwargs)
        assert session.scalar(select(func.count(Outcome.id))) == 0
        closed = outcomes.close_episode(session, chat.id, ana, "none")
        assert closed.outcome.result == "none" and not closed.outcome.was_hot
        assert closed.outcome.source == "organic"


def test_admins_edit_the_list_of_reasons_and_old_labels_stay_readable(pg_db) -> None:
    with session_scope() as session:
        ana, jefa = make_user(session, "Ana"), make_user(session, "Jefa", role="admin")
        assert outcomes.lost_reasons(session)[:2] == ["Precio", "Sin stock"]
        with pytest.raises(ConversationError):
            outcomes.save_lost_reasons(session, ["Precio"], actor_user=ana)
        saved = outcomes.save_lost_reasons(session, [" Precio ", "Demora en el envío", "precio", ""], actor_user=jefa)
        assert saved == ["Precio", "Demora en el envío"]
        assert outcomes.lost_reasons(session) == saved
        chat = make_chat(session)
        with pytest.raises(ConversationError):
            outcomes.close_episode(session, chat.id, ana, "lost", reason="Sin stock")  # no longer offered
        assert outcomes.close_episode(session, chat.id, ana, "lost", reason="demora en el envío").outcome.reason == (
            "Demora en el envío"
        )


def test_only_the_holder_or_an_admin_closes_a_held_chat(pg_db) -> None:
    with session_scope() as session:
        ana, beto, jefa = make_user(session, "Ana"), make_user(session, "Beto"), make_user(session, "Jefa", "admin")
        chat = make_chat(session)
        conversations.takeover(session, chat.id, ana)
        with pytest.raises(HeldByOther):
            outcomes.close_episode(session, chat.id, beto, "won", amount=10)
        assert outcomes.close_episode(session, chat.id, jefa, "won", amount=10).outcome.user_id == jefa.id


def test_an_ad_referral_makes_the_episode_an_ad_lead(pg_db) -> None:
    with session_scope() as session:
        ana = make_user(session, "Ana")
        chat = make_chat(session)
        outcomes.note_ad_referral(session, chat, {"source_type": "ad", "source_id": "123", "headline": "Promo"})
        conversations.add_intent(session, chat, 100, reason="compra")
        assert outcomes.close_episode(session, chat.id, ana, "won", amount=10).outcome.source == "ad"


def test_a_message_from_a_click_to_whatsapp_ad_marks_the_episode_as_an_ad_lead(pg_db) -> None:
    from s7.domain.chats import inbound

    incoming = inbound.Incoming(
        wamid="wamid.AD1",
        wa_id="5491155550077",
        type="text",
        text="hola, vi el anuncio",
        name="Publi",
        referral={"source_type": "ad", "source_id": "120", "headline": "Air Max -20%", "ctwa_clid": "x"},
    )
    with session_scope() as session:
        ana = make_user(session, "Ana")
        message = inbound.receive_customer_message(session, incoming)
        chat_id = message.conversation_id
        conversations.add_intent(session, conversations.get(session, chat_id), 100, reason="compra")
        assert outcomes.close_episode(session, chat_id, ana, "won", amount=10).outcome.source == "ad"
        detail = session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "ad_referral"))
        assert detail["headline"] == "Air Max -20%"
