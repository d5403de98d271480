"""Sales figures: conversion of hot leads per seller and per source, revenue, time to sale, reasons."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from s7.db import session_scope
from s7.domain.chats import conversations, outcomes
from s7.domain.reads import stats
from tests.chat_factory import make_chat, make_user


def test_dashboard_counts_sales_conversion_and_reasons(pg_db, fake_clock) -> None:
    with session_scope() as session:
        ana, beto = make_user(session, "Ana"), make_user(session, "Beto")
        hot = []
        for i in range(3):
            chat = make_chat(session, wa_id=f"54911000000{i}", text="me lo llevo")
            conversations.add_intent(session, chat, 100, reason="compra")
            hot.append(chat.id)
        ad = make_chat(session, wa_id="5491100000009")
        outcomes.note_ad_referral(session, ad, {"source_type": "ad", "source_id": "1"})
        conversations.add_intent(session, ad, 100, reason="compra")
        cold = make_chat(session, wa_id="5491100000010")
        ids = {"ana": ana.id, "beto": beto.id}
    fake_clock.advance(minutes=20)
    with session_scope() as session:
        ana, beto = (session.get(outcomes.User, ids[k]) for k in ("ana", "beto"))
        outcomes.close_episode(session, hot[0], ana, "won", amount="1000")
        outcomes.close_episode(session, hot[1], ana, "lost", reason="Precio")
        outcomes.close_episode(session, hot[2], beto, "lost", reason="precio")
        outcomes.close_episode(session, ad.id, beto, "won", amount="500.50")
        outcomes.close_episode(session, cold.id, beto, "won", amount="10")  # not a hot lead
    with session_scope() as session:
        sales = stats.dashboard(session, "today", at=fake_clock() + timedelta(minutes=1)).sales
    assert sales.sales == 3 and sales.revenue == Decimal("1510.50")
    assert (sales.hot_closed, sales.hot_won) == (4, 2) and sales.conversion == 0.5
    assert sales.median_seconds_to_sale == 20 * 60
    by_seller = {c.label: (c.hot_won, c.hot_closed, c.revenue) for c in sales.sellers}
    assert by_seller == {"Ana": (1, 2, Decimal("1000")), "Beto": (1, 2, Decimal("510.50"))}
    by_source = {c.key: (c.hot_won, c.hot_closed) for c in sales.sources}
    assert by_source == {"bot": (1, 3), "ad": (1, 1), "organic": (0, 0)}
    assert sales.reasons == [("Precio", 2)]
    assert sales.to_dict()["revenue"] == "1510.50"
