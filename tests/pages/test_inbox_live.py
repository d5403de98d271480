"""Live behaviour across tabs: presence, alerts, permissions, and no leaked subscriptions."""

from __future__ import annotations

from nicegui.testing import User

from s7 import realtime
from s7.db import session_scope
from s7.domain.chats import conversations
from tests.pages.inbox_helpers import customer_says, eventually, make_user, sign_in, two_sellers_on


def _text(user: User, marker: str) -> str:
    """The text of a visible element ('' when it is hidden)."""
    from nicegui import ElementFilter

    with user:
        found = list(ElementFilter(marker=marker, only_visible=True, local_scope=False))
    return found[0].text if found else ""


def _record_javascript(user: User, into: list[str]) -> None:
    """Keep the JavaScript the server sends to this tab (what the browser would run)."""
    emit = user.client.outbox._emit  # noqa: SLF001 - the one place the simulation sees outgoing JS

    async def spy(message: tuple) -> None:
        _, kind, data = message
        if kind == "run_javascript":
            into.append(data["code"])
        await emit(message)

    user.client.outbox._emit = spy  # noqa: SLF001


async def test_sellers_see_who_else_views_and_types_in_the_same_chat(pg_db, create_user) -> None:
    chat, _ = customer_says("5491100000301", "hola", name="Cliente")
    uno, dos = await two_sellers_on(create_user, f"/?chat={chat}")
    await eventually(lambda: _text(uno, "presence") == "También lo está viendo: Vendedora Dos")
    await eventually(lambda: _text(dos, "presence") == "También lo está viendo: Vendedor Uno")

    dos.find(marker="composer").type("Ya te")
    await eventually(lambda: _text(uno, "presence") == "Vendedora Dos está escribiendo…")

    dos.find(marker="back").click()  # she goes back to the list: no longer viewing
    await eventually(lambda: _text(uno, "presence") == "")


async def test_a_handoff_request_alerts_every_tab_until_the_chat_is_opened(pg_db, create_user) -> None:
    make_user("Vendedor Uno")
    make_user("Vendedora Dos")
    chat, _ = customer_says("5491100000311", "quiero hablar con una persona", name="Lucía")
    uno, dos = create_user(), create_user()
    for tab, name in ((uno, "Vendedor Uno"), (dos, "Vendedora Dos")):
        await sign_in(tab, name)
        await tab.open("/")
    js: list[str] = []
    for tab in (uno, dos):
        _record_javascript(tab, js)

    with session_scope() as session:
        conversations.request_human(session, conversations.get(session, chat), reason="pidió una persona")

    for tab in (uno, dos):
        await eventually(lambda tab=tab: _text(tab, "alert-count") == "1")
    await eventually(lambda: js.count("s7.alert(1)") == 2)  # chime + "(1)" in the title, once per tab
    assert "🙋 Pide hablar con una persona: Lucía" in uno.notify.messages + dos.notify.messages

    uno.find(marker=f"chat-{chat}").click()
    await uno.should_see(marker="chat-view", retries=30)
    await eventually(lambda: "s7.setBadge(0)" in js)
    assert _text(uno, "alert-count") == ""
    assert _text(dos, "alert-count") == "1"  # still unseen in the other seller's tab


async def test_closed_tabs_unsubscribe_from_the_realtime_bus(pg_db, create_user) -> None:
    make_user("Vendedor Uno")
    chat, _ = customer_says("5491100000321", "hola", name="Cliente")
    baseline = realtime.subscriber_count()
    tabs = [create_user() for _ in range(5)]
    for tab in tabs:
        await sign_in(tab, "Vendedor Uno")
        await tab.open(f"/?chat={chat}")
    assert realtime.subscriber_count() > baseline
    for tab in tabs:
        tab.client.delete()  # what NiceGUI does once a closed tab's reconnect timeout passes
    assert realtime.subscriber_count() == baseline


async def test_without_a_session_the_inbox_sends_you_to_login(pg_db, user: User) -> None:
    response = await user.http_client.get("/?chat=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?redirect_to=")


async def test_an_unknown_chat_id_is_a_message_not_a_crash(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    await sign_in(user, "Vendedor Uno")
    await user.open("/?chat=999999")
    await user.should_see("Esa conversación no existe.")
    await user.should_see("Elegí una conversación de la lista.")


async def test_a_lead_turning_hot_shows_in_the_list_and_the_open_chat_without_reload(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    chat, _ = customer_says("5491100000331", "me lo llevo en 6 cuotas", name="Caliente")
    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat}")
    assert _text(user, "chat-lead") == ""
    with session_scope() as session:
        conversations.set_lead(session, conversations.get(session, chat), "HOT", actor="bot", reason="test")
    await eventually(lambda: _text(user, "chat-lead") == "🔥 Caliente")
    with user.scope(marker=f"chat-{chat}"):
        await user.should_see("🔥 Caliente", retries=30)
