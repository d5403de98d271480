"""Open panel tabs end with their session: the server cuts them, and an action on an ended
session is refused (the real-browser run is in tests/e2e/test_security_e2e.py)."""

from __future__ import annotations

import asyncio

import pytest
from nicegui import Client, ui
from nicegui.testing import User

from s7.auth import user_from_token
from s7.db import session_scope
from s7.domain import users
from s7.pages import sessions
from tests.domain.test_users import make_user, token_for
from tests.pages.page_helpers import clean_realtime_bus, sign_in  # noqa: F401 - autouse fixture


def test_end_all_sessions_for_oneself_or_by_an_admin(pg_db) -> None:
    admin = make_user("jefa@tienda.com", role="admin")
    ana = make_user("ana@tienda.com")
    beto = make_user("beto@tienda.com")
    ana_phone, ana_laptop, beto_token = token_for(ana), token_for(ana), token_for(beto)
    with session_scope() as session, pytest.raises(users.NotAllowed):
        users.end_all_sessions(session, beto, actor_id=ana)  # a seller cannot end someone else's
    assert user_from_token(beto_token) is not None
    with session_scope() as session:
        users.end_all_sessions(session, ana, actor_id=ana)  # "cerrar sesión en todos los dispositivos"
    assert user_from_token(ana_phone) is None and user_from_token(ana_laptop) is None
    with session_scope() as session:
        users.end_all_sessions(session, beto, actor_id=admin)
    assert user_from_token(beto_token) is None


def _click(client: Client, element: ui.element) -> dict:
    listener_id = next(iter(element._event_listeners))
    return {"client_id": client.id, "id": element.id, "listener_id": listener_id, "type": "click", "args": []}


async def test_a_panel_action_rechecks_the_session_and_an_ended_one_is_refused(pg_db, user: User) -> None:
    """Even with no realtime event (another replica whose bridge is down), the next action
    meets the database check."""
    ana = make_user("ana@tienda.com")
    await sign_in(user, "ana@tienda.com")
    await user.open("/")
    client = user.client
    clicks: list[int] = []
    with client:
        button = ui.button("probar", on_click=lambda: clicks.append(1))
    await sessions._guarded_event("test-socket", _click(client, button))
    assert clicks == [1]

    with session_scope() as session:  # a reset whose event never reaches this replica
        user_row = session.get(users.User, ana)
        user_row.session_version += 1
    await sessions._guarded_event("test-socket", _click(client, button))
    assert clicks == [1]  # refused
    await asyncio.sleep(sessions.GRACE_SECONDS + 0.3)
    assert client.is_deleted  # and the tab was ended by the server


async def test_a_password_reset_ends_the_open_tab_at_once(pg_db, user: User) -> None:
    ana = make_user("ana@tienda.com")
    admin = make_user("jefa@tienda.com", role="admin")
    await sign_in(user, "ana@tienda.com")
    await user.open("/")
    client = user.client
    with session_scope() as session:
        users.reset_password(session, ana, "otra-clave-nueva", actor_id=admin)
    await asyncio.sleep(sessions.GRACE_SECONDS + 0.3)
    assert client.is_deleted


async def test_a_logout_elsewhere_ends_only_that_sessions_tabs(pg_db, user: User) -> None:
    from s7.auth import revoke_token

    ana = make_user("ana@tienda.com")
    await sign_in(user, "ana@tienda.com")
    await user.open("/")
    client = user.client
    revoke_token(token_for(ana))  # her phone logs out: this tab (another session) stays
    await asyncio.sleep(sessions.GRACE_SECONDS + 0.3)
    assert not client.is_deleted
    revoke_token(user.http_client.cookies.get("s7_session"))
    await asyncio.sleep(sessions.GRACE_SECONDS + 0.3)
    assert client.is_deleted


async def test_the_admin_sees_recent_sign_ins_and_can_end_anyones_sessions(pg_db, user: User) -> None:
    from s7.auth import authenticate

    make_user("jefa@tienda.com", role="admin")
    ana = make_user("ana@tienda.com")
    ana_token = token_for(ana)
    assert authenticate("ana@tienda.com", "mal", "203.0.113.77", "<b>curl</b>/8") is None
    await sign_in(user, "jefa@tienda.com")
    await user.open("/admin/users")
    await user.should_see("Ingresos recientes")
    (table,) = [t for t in user.find(ui.table).elements if any("outcome" in r for r in t.rows)]
    rows = {(r["email"], r["outcome"], r["address"], r["agent"]) for r in table.rows}
    assert ("ana@tienda.com", "Contraseña incorrecta", "203.0.113.77", "<b>curl</b>/8") in rows  # text, as typed
    assert any(r[0] == "jefa@tienda.com" and r[1] == "Ingresó" and r[2] == "127.0.0.1" for r in rows)
    user.find(marker=f"end-sessions-{ana}").click()
    await user.should_see("se cerraron las sesiones de ana")
    assert user_from_token(ana_token) is None


async def test_a_seller_ends_all_her_sessions_from_the_user_menu(pg_db, user: User) -> None:
    ana = make_user("ana@tienda.com")
    phone = token_for(ana)
    await sign_in(user, "ana@tienda.com")
    await user.open("/")
    client = user.client
    user.find(marker="logout-everywhere").click()
    await asyncio.sleep(sessions.GRACE_SECONDS + 0.5)
    assert user_from_token(phone) is None
    assert user_from_token(user.http_client.cookies.get("s7_session")) is None
    assert client.is_deleted  # this tab too


async def test_a_reset_on_another_replica_ends_the_tab_here(pg_db, user: User) -> None:
    """The event arrives only through Postgres NOTIFY, as another replica sends it."""
    import json

    import psycopg

    from s7 import realtime

    ana = make_user("ana@tienda.com")
    await sign_in(user, "ana@tienda.com")
    await user.open("/")
    client = user.client
    payload = json.dumps({"o": "other-replica", "k": "session_ended", "d": {"user_id": ana}})
    conninfo = pg_db.database_url.replace("postgresql+psycopg://", "postgresql://")
    for _ in range(50):  # the app's bridge may still be starting to LISTEN
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("SELECT pg_notify(%s, %s)", (realtime.CHANNEL, payload))
        await asyncio.sleep(0.1)
        if client.is_deleted or sessions._tabs.get(client.id, sessions._Tab(None)).ended:  # type: ignore[arg-type]
            break
    await asyncio.sleep(sessions.GRACE_SECONDS + 0.3)
    assert client.is_deleted
