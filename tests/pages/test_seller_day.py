"""The seller's day in the panel (NiceGUI user simulation): close a sale, set a reminder, see the sale
on the dashboard."""

from __future__ import annotations

from decimal import Decimal

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from s7.db import session_scope
from s7.domain.chats import conversations
from s7.domain.models import Outcome, Reminder
from tests.pages.inbox_helpers import customer_says, eventually, make_user, sign_in, take
from tests.pages.page_helpers import clean_realtime_bus  # noqa: F401 - autouse fixture


def _outcomes() -> list[tuple[str, Decimal | None, str | None]]:
    with session_scope() as session:
        return [(o.result, o.amount, o.reason) for o in session.scalars(select(Outcome).order_by(Outcome.id))]


async def test_a_seller_records_a_sale_and_the_admin_sees_it_on_the_dashboard(pg_db, create_user) -> None:
    seller_id = make_user("Vendedor Uno")
    make_user("Jefa Admin", role="admin")
    chat, _ = customer_says("5491100000301", "me lo llevo en 6 cuotas", name="Juan")
    with session_scope() as session:
        conversations.add_intent(session, conversations.get(session, chat), 100, reason="compra")
    take(chat, seller_id)

    seller = create_user()
    await sign_in(seller, "Vendedor Uno")
    await seller.open(f"/?chat={chat}")
    seller.find(marker="outcome").click()
    await seller.should_see("¿Cómo terminó?")
    seller.find(marker="outcome-amount").type("$ 189.999,50")
    seller.find(marker="save-outcome").click()
    await eventually(lambda: _outcomes() == [("won", Decimal("189999.50"), None)])
    await seller.should_see("Listo: vendido")

    seller.find(marker="reminder").click()
    seller.find(marker="reminder-when").type("mañana 10:00")
    seller.find(marker="save-reminder").click()
    await seller.should_see("Te lo recuerdo mañana 10:00")
    with session_scope() as session:
        assert session.scalar(select(Reminder.user_id)) == seller_id

    admin = create_user()
    await sign_in(admin, "Jefa Admin")
    await admin.open("/dashboard")
    await admin.should_see("Ventas")
    with admin:
        value = admin.find(marker="kpi-revenue-value").elements.pop().text
        table = admin.find(marker="sales-sellers").elements.pop()
    assert value == "$ 190.000"
    assert [r["label"] for r in table.rows] == ["Vendedor Uno"] and table.rows[0]["conversion"] == "100%"
    assert len(admin.find(ui.table).elements) >= 2


async def test_a_lost_sale_needs_a_reason_from_the_list(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    chat, _ = customer_says("5491100000302", "¿cuánto sale?", name="Ana")
    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat}")
    user.find(marker="outcome").click()
    await user.should_see("¿Cómo terminó?")
    user.find(marker="outcome-result").elements.pop().value = "lost"
    user.find(marker="save-outcome").click()
    await user.should_see("elegí un motivo")
    assert _outcomes() == []
    user.find(marker="outcome-reason").elements.pop().value = "Sin stock"
    user.find(marker="save-outcome").click()
    await eventually(lambda: _outcomes() == [("lost", None, "Sin stock")])


async def test_the_chat_header_shows_the_pending_reminder_and_the_outcome_while_it_stands(pg_db, user: User) -> None:
    seller_id = make_user("Vendedor Uno")
    chat, _ = customer_says("5491100000303", "¿tienen la campera negra?", name="Ana")
    take(chat, seller_id)
    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat}")
    await user.should_see(marker="chat-title")
    await user.should_not_see(marker="chat-reminder")
    await user.should_not_see(marker="chat-outcome")

    user.find(marker="reminder").click()
    user.find(marker="reminder-when").type("mañana 10:00")
    user.find(marker="save-reminder").click()
    await user.should_see("Recordatorio de Vendedor Uno: mañana 10:00", retries=30)  # a live update

    user.find(marker="outcome").click()
    await user.should_see("¿Cómo terminó?")
    user.find(marker="outcome-amount").type("189999,50")
    user.find(marker="save-outcome").click()
    await user.should_see("Vendido · $ 189.999,50", retries=30)
    await user.should_see("Recordatorio de Vendedor Uno: mañana 10:00")  # the follow-up still stands

    # The customer writes again: a new episode, the old outcome is no longer the chat's.
    customer_says("5491100000303", "¿y en azul?", name="Ana")
    await user.should_not_see("Vendido · $ 189.999,50", retries=30)  # two reads: the message, then the header
    with session_scope() as session:
        assert session.scalar(select(Outcome.result)) == "won"
