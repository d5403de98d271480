"""/admin/salud in the NiceGUI user simulation: the figures, retry buttons, the raw body as text."""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from s7.db import session_scope
from s7.domain.models import AuditEvent, InboundItem, OutboxItem
from tests.conftest import FakeClock
from tests.domain.reads.test_health import UNDELIVERABLE, quiet_background_work, seed_trouble
from tests.domain.test_users import make_user
from tests.pages.page_helpers import clean_realtime_bus, sign_in  # noqa: F401 - autouse fixture
from tests.whatsapp.conftest import bot_calls as _stub_bot  # noqa: F401 - the bot stand-in, as a fixture


async def test_a_seller_gets_no_permission(pg_db, user: User) -> None:
    make_user("ana@tienda.com")
    await sign_in(user, "ana@tienda.com")
    await user.open("/admin/salud")
    await user.should_see("Sin permiso")
    await user.should_not_see(marker="parked-list")


@pytest.mark.usefixtures("_stub_bot")
async def test_admin_sees_trouble_and_retries_it(
    pg_db,
    user: User,
    fake_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await quiet_background_work()
    seeded = seed_trouble(monkeypatch, fake_clock)
    caplog.clear()  # the parked item's attempts were logged as errors, on purpose
    make_user("jefa@tienda.com", role="admin")
    await sign_in(user, "jefa@tienda.com")
    await user.open("/")
    await user.should_see("Salud")  # in the admin navigation
    await user.open("/admin/salud")
    await user.should_see("Salud del sistema")
    await user.should_see(marker="parked-count")
    assert user.find(marker="parked-count").elements.pop().text == "1"
    await user.should_see("RuntimeError: poison: the catalog index is broken")
    await user.should_see(UNDELIVERABLE)

    user.find(marker=f"body-event-{seeded['event']}").click()
    await user.should_see(marker="raw-body")
    shown = user.find(marker="raw-body").elements.pop()
    assert isinstance(shown, ui.label) and '"history"' in shown.text  # text, never HTML

    user.find(marker=f"retry-item-{seeded['item']}").click()
    await user.should_see("Reintento en cola", retries=50)
    user.find(marker=f"retry-send-{seeded['send']}").click()
    await user.should_see("Reenvío en cola", retries=50)
    with session_scope() as session:
        assert session.get(InboundItem, seeded["item"]).state == "pending"
        assert session.get(OutboxItem, seeded["send"]).state == "pending"
        actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.actor == "admin")))
    assert {"webhook_body_viewed", "inbound_item_retried", "outbox_send_retried"} <= actions
