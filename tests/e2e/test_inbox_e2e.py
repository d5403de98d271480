"""The inbox in real Chromium, against `python main.py` wired to a fake Graph API over HTTP.

One server for the module (Postgres, real webhook signature, real outbox sending to the fake
Graph), two sellers logged in in two browser contexts; each test uses its own customer.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from s7.config import reset_settings
from s7.db import reset_engine, session_scope
from s7.domain.models import Conversation, Message
from s7.whatsapp import signature
from tests.conftest import ServerProcess, create_pg_database, drop_pg_database, make_settings, server_env
from tests.e2e.conftest import login, screenshot
from tests.fakes.graph_server import FakeGraph
from tests.pages.inbox_helpers import PASSWORD, make_user

pytestmark = pytest.mark.e2e
TIMEOUT = 10_000
TOKEN = "e2e-graph-token"
SELLER1 = ("vendedoruno@inbox.test", PASSWORD)
SELLER2 = ("vendedorados@inbox.test", PASSWORD)


def post_webhook(base_url: str, secret: str, phone_number_id: str, value: dict[str, Any]) -> None:
    """POST a signed webhook body to /webhook, as Meta does."""
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "e2e-waba",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "5491100000000", "phone_number_id": phone_number_id},
                            **value,
                        },
                    }
                ],
            }
        ],
    }
    raw = json.dumps(body, ensure_ascii=True).encode()
    headers = {"content-type": "application/json", "x-hub-signature-256": signature.sign(secret, raw)}
    response = httpx.post(base_url + "/webhook", content=raw, headers=headers, timeout=10)
    assert response.status_code == 200, response.text


def customer_writes(base_url: str, secret: str, phone_number_id: str, wa_id: str, text: str, name: str) -> str:
    wamid = f"wamid.e2e.{uuid.uuid4().hex}"
    post_webhook(
        base_url,
        secret,
        phone_number_id,
        {
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [
                {"from": wa_id, "id": wamid, "timestamp": str(int(time.time())), "type": "text", "text": {"body": text}}
            ],
        },
    )
    return wamid


class Shop:
    """The running server, its fake Graph API and what the test process needs to talk to them."""

    def __init__(self, server: ServerProcess, graph: FakeGraph, settings: Any) -> None:
        self.server, self.graph, self.settings = server, graph, settings

    def post(self, value: dict[str, Any]) -> None:
        post_webhook(self.server.url, self.settings.META_APP_SECRET, self.graph.phone_number_id, value)

    def customer_writes(self, wa_id: str, text: str, name: str) -> str:
        return customer_writes(
            self.server.url, self.settings.META_APP_SECRET, self.graph.phone_number_id, wa_id, text, name
        )

    def phone_status(self, wamid: str, status: str, wa_id: str) -> None:
        self.post(
            {"statuses": [{"id": wamid, "status": status, "timestamp": str(int(time.time())), "recipient_id": wa_id}]}
        )


@contextlib.contextmanager
def running_shop(database: str, sellers: tuple[str, ...], **env: str) -> Iterator[Shop]:
    """`python main.py` on its own Postgres database, sending to a fake Graph API; `sellers` are
    created as inbox users (`make_user`). Extra server settings in `env`."""
    url = create_pg_database(database)
    settings = make_settings(DATABASE_URL=url)
    with FakeGraph(token=TOKEN) as graph:
        server = ServerProcess(
            server_env(
                settings,
                WHATSAPP_TOKEN=TOKEN,
                WHATSAPP_PHONE_NUMBER_ID=graph.phone_number_id,
                META_GRAPH_BASE_URL=graph.base_url,
                META_GRAPH_VERSION=graph.version,
                **env,
            )
        )
        try:
            server.wait_ready()
            reset_settings(settings)
            reset_engine()
            for name in sellers:
                make_user(name)
            yield Shop(server, graph, settings)
        except Exception:
            print(server.output()[-4000:])
            raise
        finally:
            server.stop()
            reset_engine()
            reset_settings(None)
            drop_pg_database(url)


@pytest.fixture(scope="module")
def shop() -> Iterator[Shop]:
    with running_shop("s7_e2e_inbox", ("Vendedor Uno", "Vendedora Dos")) as running:
        yield running


@pytest.fixture(scope="module")
def tabs(browser, shop: Shop) -> Iterator[tuple[Any, Any]]:  # type: ignore[no-untyped-def]
    """Seller 1 and seller 2, each in their own browser (own cookies), both on the inbox."""
    contexts, pages = [], []
    for credentials in (SELLER1, SELLER2):
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
        login(page, shop.server.url, credentials)
        page.get_by_text("Conversaciones").first.wait_for()
        contexts.append(context)
        pages.append(page)
    yield pages[0], pages[1]
    for context in contexts:
        context.close()


def _row(page, text: str):  # type: ignore[no-untyped-def]
    """A chat-list row (the left column) containing `text`."""
    return page.locator(".s7-chat-row", has_text=text).first


def _db_message(text: str) -> Message | None:
    with session_scope() as session:
        found = session.scalar(select(Message).where(Message.text == text))
        if found is not None:
            session.expunge(found)
        return found


def _conversation(wa_id: str) -> Conversation:
    from s7.domain.models import Contact

    with session_scope() as session:
        found = session.scalar(select(Conversation).join(Contact).where(Contact.wa_id == wa_id))
        session.expunge(found)
        return found


def _wait(predicate, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"not true after {timeout} s")


def test_a_webhook_message_appears_live_in_two_sellers_tabs(shop: Shop, tabs) -> None:  # type: ignore[no-untyped-def]
    seller1, seller2 = tabs
    shop.customer_writes("5491170000001", "Hola, ¿tienen zapatillas talle 42?", "Ana Live")
    for page in (seller1, seller2):  # a new chat shows up in the list by itself
        _row(page, "Ana Live").wait_for()
        _row(page, "Ana Live").click()
        page.locator(".q-message", has_text="¿tienen zapatillas talle 42?").wait_for()
    started = time.monotonic()
    shop.customer_writes("5491170000001", "¿Y en color negro?", "Ana Live")
    for page in (seller1, seller2):  # the open chat gets the bubble, without reload
        page.locator(".q-message", has_text="¿Y en color negro?").wait_for()
    print(f"\nwebhook → bubble visible in both tabs: {(time.monotonic() - started) * 1000:.0f} ms")
    assert seller1.evaluate("performance.getEntriesByType('navigation').length") == 1  # never reloaded
    screenshot(seller2, "inbox-live-message")


def test_a_seller_reply_reaches_the_graph_api_and_the_other_tab(shop: Shop, tabs) -> None:  # type: ignore[no-untyped-def]
    seller1, seller2 = tabs
    wa_id = "5491170000002"
    wamid = shop.customer_writes(wa_id, "¿Me pasás el precio?", "Bruno Reply")
    for page in (seller1, seller2):
        _row(page, "Bruno Reply").click()
        page.locator(".q-message", has_text="¿Me pasás el precio?").wait_for()
    _wait(
        lambda: any(r.json.get("status") == "read" and r.json.get("message_id") == wamid for r in shop.graph.requests)
    )  # opening the chat sent blue ticks, once
    seller2.get_by_text("También lo está viendo: Vendedor Uno").wait_for()

    composer = seller1.get_by_placeholder("Escribí tu respuesta")
    composer.fill("Sale $189.999")
    composer.press("Shift+Enter")
    composer.type("¿Te lo reservo?")
    composer.press("Enter")
    text = "Sale $189.999\n¿Te lo reservo?"
    send = _wait(lambda: next((b for b in shop.graph.sends() if b.get("text", {}).get("body") == text), None))
    assert send["to"].lstrip("+") == wa_id
    seller2.locator(".q-message", has_text="¿Te lo reservo?").wait_for()
    seller2.get_by_text("🔒 Vendedor Uno está atendiendo este chat.", exact=False).wait_for()
    assert _conversation(wa_id).mode == "HUMAN_TAKEOVER"

    sent = _wait(lambda: (m := _db_message(text)) and m.wa_message_id and m)
    shop.phone_status(sent.wa_message_id, "read", wa_id)  # the customer read it: blue ticks
    seller2.locator(".q-message", has_text="¿Te lo reservo?").locator(".text-sky-600").wait_for()
    screenshot(seller1, "inbox-reply-sender")
    screenshot(seller2, "inbox-reply-other-tab")


def test_a_held_chat_tells_a_second_seller_who_has_it_and_offers_nothing_to_press(shop: Shop, tabs) -> None:  # type: ignore[no-untyped-def]
    seller1, seller2 = tabs
    wa_id = "5491170000003"
    shop.customer_writes(wa_id, "hola, consulta", "Carla Bot")
    for page in (seller1, seller2):
        _row(page, "Carla Bot").click()
        page.locator(".q-message", has_text="hola, consulta").wait_for()
        page.locator(".s7-chat-owner", has_text="Bot").wait_for()
    seller1.get_by_role("button", name="Tomar").click()
    seller1.get_by_text("Tomaste el chat: el bot no va a responder.").wait_for()

    # The second seller, live: one line says who has it, in the header and in the row.
    seller2.get_by_text("🔒 Vendedor Uno está atendiendo este chat.", exact=False).wait_for()
    seller2.locator(".s7-chat-owner", has_text="Vendedor: Vendedor Uno").wait_for()
    _row(seller2, "Carla Bot").get_by_text("Vendedor: Vendedor Uno").wait_for()
    assert "Pide vendedor" not in _row(seller2, "Carla Bot").inner_text()
    # ...and what they may not do is not offered (pressing it could only explain it is held).
    for name in ("Tomar", "Devolver al bot", "Asignar a…"):
        assert seller2.get_by_role("button", name=name).filter(visible=True).count() == 0, name
    assert seller1.get_by_role("button", name="Devolver al bot").is_visible()  # the holder keeps them
    screenshot(seller2, "inbox-held-by-another-seller")

    seller1.get_by_role("button", name="Devolver al bot").click()
    for page in (seller1, seller2):
        page.get_by_text("El bot está atendiendo. Si escribís, tomás el chat y el bot se calla.").wait_for()
    seller2.get_by_role("button", name="Tomar").wait_for()  # free again: offered again, live
    seller2.locator(".s7-chat-owner", has_text="Bot (asignado a Vendedor Uno)").wait_for()
    assert _conversation(wa_id).mode == "BOT_ON"
    screenshot(seller2, "inbox-returned-to-bot")


def test_customer_html_and_script_are_shown_literally_and_never_run(shop: Shop, tabs) -> None:  # type: ignore[no-untyped-def]
    seller1, _ = tabs
    name = '<img src=x onerror="window.__xss=1">'
    text = "<script>window.__xss=2</script><b>negrita</b> **md** <img src=x onerror=window.__xss=3>"
    shop.customer_writes("5491170000004", text, name)
    _row(seller1, name).click()
    seller1.locator(".q-message", has_text="<b>negrita</b>").wait_for()
    seller1.get_by_text(text, exact=True).first.wait_for()
    seller1.get_by_text(name, exact=True).first.wait_for()
    seller1.wait_for_timeout(300)
    assert seller1.evaluate("window.__xss") is None
    assert seller1.locator(".q-message b").count() == 0  # no <b> element was created
    screenshot(seller1, "inbox-xss-literal")


def test_a_handoff_request_chimes_and_badges_the_tab_title(shop: Shop, tabs) -> None:  # type: ignore[no-untyped-def]
    seller1, seller2 = tabs
    sounds_before = seller2.evaluate("window.s7 ? s7.sounds : 0")
    shop.customer_writes("5491170000005", "quiero hablar con una persona", "Diego Alerta")
    seller2.wait_for_function("document.title.startsWith('(1) ')")
    assert seller2.evaluate("s7.sounds") == sounds_before + 1
    seller2.get_by_text("🙋 Pide hablar con una persona: Diego Alerta").wait_for()
    screenshot(seller2, "inbox-alert")
    _row(seller2, "Diego Alerta").click()
    seller2.wait_for_function("!document.title.startsWith('(')")  # seen: the badge goes away
    seller1.wait_for_function("document.title.startsWith('(1) ')")  # still unseen for seller 1


def test_on_a_phone_the_list_and_the_chat_take_turns(shop: Shop, browser) -> None:  # type: ignore[no-untyped-def]
    shop.customer_writes("5491170000006", "¿hacen envíos a Córdoba?", "Elena Móvil")
    context = browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    login(page, shop.server.url, SELLER1)
    _row(page, "Elena Móvil").wait_for()
    screenshot(page, "inbox-phone-list")
    _row(page, "Elena Móvil").click()
    page.locator(".q-message", has_text="¿hacen envíos a Córdoba?").wait_for()
    assert not _row(page, "Elena Móvil").is_visible()  # the list steps aside
    screenshot(page, "inbox-phone-chat")
    page.get_by_role("button", name="Volver a la lista").click()
    _row(page, "Elena Móvil").wait_for()
    context.close()


def test_two_replicas_share_live_updates_and_presence(browser) -> None:  # type: ignore[no-untyped-def]
    """Seller 1 on replica A, seller 2 on replica B, one Postgres: the realtime bridge carries
    new chats, replies and "who is viewing" across processes."""
    from tests.e2e.conftest import SELLER1 as DEMO_SELLER1
    from tests.e2e.conftest import SELLER2 as DEMO_SELLER2

    url = create_pg_database("s7_e2e_replicas")
    settings = make_settings(DATABASE_URL=url)
    replicas: list[ServerProcess] = []
    contexts = []
    try:
        for _ in range(2):  # one after the other: the first migrates and seeds the demo users
            replicas.append(ServerProcess(server_env(settings)))
            replicas[-1].wait_ready()
        pages = []
        for replica, credentials in zip(replicas, (DEMO_SELLER1, DEMO_SELLER2), strict=True):
            context = browser.new_context(viewport={"width": 1280, "height": 860})
            page = context.new_page()
            page.set_default_timeout(TIMEOUT)
            login(page, replica.url, credentials)
            contexts.append(context)
            pages.append(page)
        on_a, on_b = pages
        customer_writes(
            replicas[0].url, settings.META_APP_SECRET, "sandbox", "5491170000099", "hola, ¿abren hoy?", "Franco Réplica"
        )
        for page in pages:
            _row(page, "Franco Réplica").click()
            page.locator(".q-message", has_text="¿abren hoy?").wait_for()
        on_b.get_by_text("También lo está viendo: Vendedor 1").wait_for()
        on_a.get_by_text("También lo está viendo: Vendedor 2").wait_for()
        composer = on_a.get_by_placeholder("Escribí tu respuesta")
        composer.fill("Sí, hasta las 19")
        composer.press("Enter")
        on_b.locator(".q-message", has_text="Sí, hasta las 19").wait_for()
        on_b.get_by_text("🔒 Vendedor 1 está atendiendo este chat.", exact=False).wait_for()
        screenshot(on_b, "inbox-replica-b")
    finally:
        for context in contexts:
            context.close()
        for replica in replicas:
            replica.stop()
        drop_pg_database(url)
