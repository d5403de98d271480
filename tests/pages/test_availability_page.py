"""Availability in the inbox: the switch, the panel heartbeat, and alerts meant for one seller."""

from __future__ import annotations

from nicegui.testing import User

from s7 import realtime
from s7.db import session_scope
from s7.domain.chats import assignment
from tests.pages.inbox_helpers import customer_says, eventually, make_user, sign_in
from tests.pages.page_helpers import clean_realtime_bus  # noqa: F401 - autouse fixture


def _state(user_id: int) -> assignment.Availability:
    with session_scope() as session:
        return assignment.availability(session, user_id)


async def test_opening_the_inbox_marks_the_seller_present_and_the_switch_sets_away(pg_db, user: User) -> None:
    me = make_user("Vendedor Uno")
    assert not _state(me).connected
    await sign_in(user, "Vendedor Uno")
    await user.open("/")
    await eventually(lambda: _state(me).connected)
    with user:
        switch = user.find(marker="availability").elements.pop()
        await eventually(lambda: switch.value is True)
        switch.value = False
    await eventually(lambda: not _state(me).available)
    await user.should_see("Quedaste ausente.")


async def test_an_alert_for_another_seller_is_not_shown_to_me(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    other = make_user("Vendedora Dos")
    chat, _ = customer_says("5491100000701", "hola", name="Juan")
    await sign_in(user, "Vendedor Uno")
    await user.open("/")
    realtime.publish("alert", conversation_id=chat, reason="assigned", for_user=other)
    realtime.publish("alert", conversation_id=chat, reason="hot")
    await user.should_see("Lead caliente")
    with user:
        badge = user.find(marker="alert-count").elements.pop()
    assert badge.text == "1"
    await user.should_not_see("Te asignaron")
