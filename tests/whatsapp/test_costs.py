"""What WhatsApp costs, from a fixed set of status webhooks: each outbound message charged once, on
its first priced status, at the rate in force then; free ones cost nothing; the dashboard's sums."""

from __future__ import annotations

import copy
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from s7.clock import now
from s7.config import Settings
from s7.db import session_scope
from s7.domain.billing import costs
from s7.domain.chats import conversations, messages, outcomes
from s7.domain.models import MessageCharge, User
from s7.domain.reads import costs as cost_reads
from tests.chat_factory import make_user
from tests.conftest import FakeClock
from tests.whatsapp.conftest import CUSTOMER, BotCalls, load
from tests.whatsapp.test_processor import deliver


def sent(wamid: str, wa_id: str = CUSTOMER) -> int:
    """An outbound message the Graph API accepted as `wamid` (the customer wrote: window open)."""
    with session_scope() as session:
        conversation = conversations.ensure_conversation(session, wa_id=wa_id)
        conversation.last_customer_at = now()
        message = messages.queue_outbound(session, conversation, author="bot", text=f"mensaje {wamid}")
        messages.mark_sent(session, message.id, wamid)
        return message.id


def priced(fixture: str, wamid: str, status: str | None = None, wa_id: str = CUSTOMER) -> dict[str, Any]:
    body = copy.deepcopy(load(fixture))
    item = body["entry"][0]["changes"][0]["value"]["statuses"][0]
    item.update(id=wamid, recipient_id=wa_id, timestamp=str(int(now().timestamp())))  # sent by Meta just now
    item.pop("recipient_user_id", None)
    if status:
        item["status"] = status
    return body


def charges() -> list[tuple[bool, str | None, Decimal, str | None]]:
    with session_scope() as session:
        return [
            (c.billable, c.category, c.amount, c.currency)
            for c in session.scalars(select(MessageCharge).order_by(MessageCharge.id))
        ]


def admin() -> User:
    with session_scope() as session:
        user = make_user(session, "Ada", role="admin")
        session.expunge(user)
        return user


def test_each_message_is_charged_once_on_its_first_priced_status(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    sent("wamid.M1")
    for status in ("sent", "delivered", "read", "delivered"):
        deliver(priced("status_pricing_marketing", "wamid.M1", status))
    assert charges() == [(True, "marketing", costs.EXAMPLE_RATES["marketing"], "USD")]


@pytest.mark.parametrize("category", ["service", "utility", "marketing", "authentication"])
def test_each_category_is_charged_at_its_rate(
    category: str, any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    user = admin()
    with session_scope() as session:
        costs.set_rate(session, category, "12,5", "ars", user=session.get(User, user.id))
    fake_clock.advance(seconds=1)
    sent("wamid.C1")
    deliver(priced(f"status_pricing_{category}", "wamid.C1"))
    assert charges() == [(True, category, Decimal("12.5"), "ARS")]


def test_free_messages_cost_nothing_and_unpriced_statuses_charge_nothing(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    sent("wamid.F1")
    sent("wamid.F2")
    sent("wamid.F3")
    deliver(priced("status_free_entry_point", "wamid.F1"))
    deliver(priced("status_free_customer_service", "wamid.F2"))
    deliver(priced("status_delivered", "wamid.F3"))  # no pricing at all: nothing inferred
    assert charges() == [(False, "service", Decimal(0), None), (False, "utility", Decimal(0), None)]


def test_editing_a_rate_later_does_not_rewrite_history(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    user = admin()
    with session_scope() as session:
        costs.set_rate(session, "utility", "0.02", "USD", user=session.get(User, user.id))
    fake_clock.advance(seconds=1)
    sent("wamid.U1")
    deliver(priced("status_pricing_utility", "wamid.U1"))
    fake_clock.advance(minutes=5)
    with session_scope() as session:
        costs.set_rate(session, "utility", "0.05", "USD", user=session.get(User, user.id))
    fake_clock.advance(seconds=1)
    deliver(priced("status_pricing_utility", "wamid.U1", "read"))  # a later status: still the old price
    sent("wamid.U2")
    deliver(priced("status_pricing_utility", "wamid.U2"))
    assert [c[2] for c in charges()] == [Decimal("0.02"), Decimal("0.05")]


def test_only_an_admin_sets_sensible_rates(any_db: Settings) -> None:
    with session_scope() as session:
        seller = make_user(session, "Vera")
        boss = make_user(session, "Ada", role="admin")
        with pytest.raises(PermissionError):
            costs.set_rate(session, "service", "0.1", "USD", user=seller)
        for amount, currency in (("-1", "USD"), ("abc", "USD"), ("NaN", "USD"), ("0.1", "dollars")):
            with pytest.raises(costs.RateError):
                costs.set_rate(session, "service", amount, currency, user=boss)
        with pytest.raises(costs.RateError):
            costs.set_rate(session, "promo", "0.1", "USD", user=boss)


def test_the_week_report_answers_cost_per_day_chat_seller_hot_lead_ad_and_sale(
    any_db: Settings, fake_clock: FakeClock, bot_calls: BotCalls
) -> None:
    start = fake_clock() - timedelta(days=1)
    deliver("referral")  # chat A came from an ad
    ad_chat = "5491155550001"
    other = "5491155550002"
    sent("wamid.A1", ad_chat)
    sent("wamid.A2", ad_chat)
    sent("wamid.B1", other)
    sent("wamid.B2", other)
    deliver(priced("status_pricing_marketing", "wamid.A1", wa_id=ad_chat))  # 0.062
    deliver(priced("status_pricing_service", "wamid.A2", wa_id=ad_chat))  # 0.026
    deliver(priced("status_pricing_utility", "wamid.B1", wa_id=other))  # 0.026
    deliver(priced("status_free_entry_point", "wamid.B2", wa_id=other))  # free
    with session_scope() as session:
        seller = make_user(session, "Vera")
        chat_a = conversations.ensure_conversation(session, wa_id=ad_chat)
        conversations.assign(session, chat_a.id, seller.id, actor_user=seller)
        conversations.set_lead(session, chat_a, "HOT", actor="bot", reason="compra")
        outcomes.close_episode(session, chat_a.id, seller, "won", amount=Decimal("189999"))
    with session_scope() as session:
        report = cost_reads.report(session, start, fake_clock() + timedelta(minutes=1))
        cost_a = cost_reads.conversation_cost(session, chat_a.id)
    assert report.currency == "USD"
    assert report.total == Decimal("0.114") and (report.billed, report.free) == (3, 1)
    assert [(line.label, line.amount) for line in report.by_ad] == [
        ("Air Max 90 en 6 cuotas", Decimal("0.088")),
        ("Sin anuncio", Decimal("0.026")),
    ]
    assert [(line.label, line.amount) for line in report.by_seller] == [
        ("Vera", Decimal("0.088")),
        ("Sin asignar", Decimal("0.026")),
    ]
    assert sum(line.amount for line in report.by_day) == report.total
    assert report.by_chat[0].key == chat_a.id and report.by_chat[0].amount == Decimal("0.088")
    assert (report.hot_leads, report.sales) == (1, 1)
    assert report.per_hot_lead == report.per_sale == Decimal("0.1140")
    assert cost_a == (Decimal("0.088"), "USD", 2)
