"""/dashboard in the NiceGUI user simulation: the figures, the charts' data, the period switch, live."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

import s7.pages.dashboard as dashboard_page
from s7 import realtime
from s7.db import session_scope
from s7.domain.models import User as UserRow
from s7.pages.dashboard import format_duration
from tests.domain.reads.test_stats import NOON_LOCAL, Story, local, store  # noqa: F401 - the fixture
from tests.pages.page_helpers import clean_realtime_bus, sign_in  # noqa: F401 - autouse fixture


def value(user: User, marker: str) -> str:
    return user.find(marker=f"{marker}-value").elements.pop().text


def chart(user: User, marker: str) -> dict:
    return user.find(marker=marker).elements.pop().props["options"]


async def test_admin_sees_todays_figures_and_charts(store, user: User) -> None:  # noqa: F811
    await sign_in(user, "jefa@tienda.com")
    await user.open("/dashboard")
    await user.should_see("Tablero")
    assert value(user, "kpi-conversations") == "3"
    assert value(user, "kpi-hot") == "2"
    assert value(user, "kpi-taken") == "1"
    assert value(user, "kpi-lost") == "1"
    assert value(user, "kpi-response") == "18 min"  # median of 3, 6, 30 and 57 minutes
    series = chart(user, "chart-series")
    assert series["xAxis"]["data"][-1] == "12 h"
    assert [s["name"] for s in series["series"]] == ["Conversaciones", "Leads calientes", "Perdidos"]
    assert sum(series["series"][0]["data"]) == 3
    outcome = {d["name"]: d["value"] for d in chart(user, "chart-outcome")["series"][0]["data"]}
    assert outcome == {"Tomados": 1, "Perdidos": 1, "Esperando": 0}
    sellers = chart(user, "chart-sellers")
    assert sellers["yAxis"]["data"][-1] == "Ana"  # the top bar
    table = user.find(marker="seller-table").elements.pop()
    assert {r["name"]: r["response"] for r in table.rows}["Ana"] == "18 min"
    assert len(user.find(ui.echart).elements) == 3


async def test_switching_to_the_week_adds_yesterdays_lead(store, user: User) -> None:  # noqa: F811
    await sign_in(user, "jefa@tienda.com")
    await user.open("/dashboard")
    user.find(marker="period").elements.pop().value = "week"
    await user.should_see("Por día")
    assert value(user, "kpi-conversations") == "4"
    assert value(user, "kpi-hot") == "3"
    assert chart(user, "chart-series")["xAxis"]["data"][0] == "jue 19/11"


async def test_figures_follow_the_chats_live(store, user: User, fake_clock, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setattr(dashboard_page, "REFRESH_SECONDS", 0.1)
    await sign_in(user, "jefa@tienda.com")
    await user.open("/dashboard")
    assert value(user, "kpi-conversations") == "3"
    story = Story(fake_clock, "549110000077", local(25, 12, 3)).customer()  # a new chat: its events reload
    fake_clock.current = NOON_LOCAL + timedelta(minutes=5)
    realtime.publish("message", conversation_id=story.id, message_id=0)
    for _ in range(30):
        if value(user, "kpi-conversations") == "4":
            break
        await asyncio.sleep(0.1)
    assert value(user, "kpi-conversations") == "4"


async def test_a_demoted_admin_stops_seeing_the_figures(store, user: User) -> None:  # noqa: F811
    await sign_in(user, "jefa@tienda.com")
    await user.open("/dashboard")
    with session_scope() as session:
        session.scalar(select(UserRow).where(UserRow.email == "jefa@tienda.com")).role = "seller"
    user.find(marker="period").elements.pop().value = "week"
    await user.should_see(marker="no-longer-admin")
    await user.should_not_see(kind=ui.echart)


def test_durations_read_naturally() -> None:
    assert [format_duration(s) for s in (None, 42, 360, 4800, 7200)] == ["—", "42 s", "6 min", "1 h 20 min", "2 h"]
