"""A seller's day in real Chromium against `python main.py` with AUTO_ASSIGN on and a fake Graph API:
quick replies, a sale on the dashboard, round-robin assignment, a notification in a hidden tab,
the phone layout and the keyboard shortcuts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from s7.db import session_scope
from s7.domain.chats import quick_replies
from s7.domain.models import Contact, Conversation, Outcome
from s7.domain.models import User as UserRow
from tests.e2e.conftest import login, screenshot
from tests.e2e.test_inbox_e2e import Shop, _row, _wait, running_shop
from tests.pages.inbox_helpers import PASSWORD, make_user

pytestmark = pytest.mark.e2e
TIMEOUT = 10_000
UNO = ("vendedoruno@inbox.test", PASSWORD)
DOS = ("vendedorados@inbox.test", PASSWORD)
TRES = ("vendedortres@inbox.test", PASSWORD)
JEFA = ("jefaadmin@inbox.test", PASSWORD)


@pytest.fixture(scope="module")
def shop() -> Iterator[Shop]:
    with running_shop(
        "s7_e2e_day",
        ("Vendedor Uno", "Vendedora Dos", "Vendedor Tres"),
        AUTO_ASSIGN="true",
        BUSINESS_HOURS="mon-sun 00:00-24:00",
    ) as running:
        make_user("Jefa Admin", role="admin")
        yield running


def _page(browser, shop: Shop, credentials, **context: Any):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(**{"viewport": {"width": 1280, "height": 860}, **context})
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT)
    login(page, shop.server.url, credentials)
    page.get_by_text("Disponible").wait_for()  # the inbox is up, on a phone too
    return ctx, page


def _assignee(wa_id: str) -> int | None:
    with session_scope() as session:
        return session.scalar(
            select(Conversation.assigned_to)
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(Contact.wa_id == wa_id)
        )


def _user_id(name: str) -> int:
    with session_scope() as session:
        return session.scalar(select(UserRow.id).where(UserRow.name == name))


def test_round_robin_across_two_available_sellers_with_one_away(shop: Shop, browser) -> None:  # type: ignore[no-untyped-def]
    opened = [_page(browser, shop, who) for who in (UNO, DOS, TRES)]
    tres = opened[2][1]
    tres.get_by_text("Disponible").click()  # Vendedor Tres steps away
    tres.get_by_text("Quedaste ausente.").wait_for()
    uno, dos = opened[0][1], opened[1][1]
    shop.customer_writes("5491180000001", "quiero hablar con una persona", "Ana Ruleta")
    first = _wait(lambda: _assignee("5491180000001"))
    shop.customer_writes("5491180000002", "quiero hablar con una persona", "Beto Ruleta")
    second = _wait(lambda: _assignee("5491180000002"))
    shop.customer_writes("5491180000003", "quiero hablar con una persona", "Caro Ruleta")
    third = _wait(lambda: _assignee("5491180000003"))
    ids = {_user_id("Vendedor Uno"), _user_id("Vendedora Dos")}
    assert {first, second} == ids and third == first  # alternating, never the seller who is away
    assert _user_id("Vendedor Tres") not in (first, second, third)
    who_first = uno if first == _user_id("Vendedor Uno") else dos
    who_first.get_by_text("📥 Te asignaron un chat: Ana Ruleta").wait_for()
    with session_scope() as session:
        assert session.scalar(select(Conversation.mode).limit(1)) == "BOT_ON"  # assigned, not taken
    screenshot(who_first, "day-assigned")
    for ctx, _ in opened:
        ctx.close()


def test_a_quick_reply_is_inserted_filled_and_sent(shop: Shop, browser) -> None:  # type: ignore[no-untyped-def]
    with session_scope() as session:
        uno = session.scalar(select(UserRow).where(UserRow.name == "Vendedor Uno"))
        quick_replies.save(
            session,
            uno,
            "envios",
            "¡Hola {nombre}! Soy {vendedor}. El {producto} sale {precio}. Envíos a todo el país.",
        )
    wa_id = "5491180000010"
    shop.customer_writes(wa_id, "¿hacen envíos?", "Juan Rápido")
    ctx, page = _page(browser, shop, UNO)
    _row(page, "Juan Rápido").click()
    composer = page.get_by_placeholder("Escribí tu respuesta")
    composer.fill("/env")
    page.get_by_text("/envios").click()
    filled = "¡Hola Juan! Soy Vendedor. Envíos a todo el país."
    page.wait_for_function("text => document.querySelector('textarea').value === text", arg=filled)
    composer.press("Enter")
    send = _wait(lambda: next((b for b in shop.graph.sends() if b.get("text", {}).get("body") == filled), None))
    assert send["to"].lstrip("+") == wa_id and "{" not in send["text"]["body"]
    screenshot(page, "day-quick-reply")
    ctx.close()


def test_a_sale_is_recorded_and_shows_on_the_dashboard(shop: Shop, browser) -> None:  # type: ignore[no-untyped-def]
    shop.customer_writes("5491180000020", "me lo llevo, ¿lo reservás?", "Vera Venta")
    ctx, page = _page(browser, shop, DOS)
    _row(page, "Vera Venta").click()
    page.get_by_role("button", name="Cerrar venta").click()
    page.get_by_label("Monto").fill("250000")
    page.get_by_role("button", name="Guardar").click()
    page.get_by_text("Listo: vendido").wait_for()
    _wait(lambda: _outcome_count() == 1)
    admin_ctx, admin = _page(browser, shop, JEFA)
    admin.goto(shop.server.url + "/dashboard")
    admin.get_by_text("Facturación").first.wait_for()
    admin.locator('[data-testid="sales-sellers"]').get_by_text("Vendedora Dos").wait_for()
    assert "$ 250.000" in admin.locator("body").inner_text()
    screenshot(admin, "day-dashboard-sale")
    admin_ctx.close()
    ctx.close()


def _outcome_count() -> int:
    with session_scope() as session:
        return len(session.scalars(select(Outcome.id)).all())


def test_a_hidden_tab_gets_a_browser_notification(shop: Shop, browser) -> None:  # type: ignore[no-untyped-def]
    ctx, page = _page(browser, shop, TRES, permissions=["notifications"])
    assert page.evaluate("Notification.permission") == "granted"
    page.evaluate(
        "Object.defineProperty(document, 'visibilityState', {get: () => 'hidden', configurable: true});"
        "document.dispatchEvent(new Event('visibilitychange'));"
    )
    page.evaluate(
        "window.s7_seen = []; const Real = window.Notification;"
        "window.Notification = function (title, options) { window.s7_seen.push([title, options.body]);"
        " return new Real(title, options); }; window.Notification.permission = 'granted';"
    )
    shop.customer_writes("5491180000030", "quiero hablar con una persona", "Nora Notificada")
    page.wait_for_function("window.s7 && s7.notified > 0")
    seen = page.evaluate("window.s7_seen")
    assert ["🙋 Pide hablar con una persona", "Nora Notificada"] in seen
    ctx.close()


def test_every_flow_fits_a_phone_without_sideways_scrolling(shop: Shop, browser) -> None:  # type: ignore[no-untyped-def]
    shop.customer_writes("5491180000040", "¿tienen talle 42?", "Pablo Teléfono")
    ctx, page = _page(browser, shop, UNO, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    fits = "document.documentElement.scrollWidth <= window.innerWidth + 1"
    assert page.evaluate(fits), "inbox list scrolls sideways"
    manifest = page.evaluate("document.querySelector('link[rel=manifest]').href")
    assert manifest.endswith("/manifest.webmanifest")
    _row(page, "Pablo Teléfono").click()
    page.locator(".q-message", has_text="¿tienen talle 42?").wait_for()
    assert page.evaluate(fits), "open chat scrolls sideways"
    screenshot(page, "day-phone-chat")
    page.get_by_role("button", name="Cerrar venta").click()
    page.get_by_text("¿Cómo terminó?").wait_for()
    assert page.evaluate(fits), "outcome dialog scrolls sideways"
    page.keyboard.press("Escape")
    for path in ("/quick-replies",):
        page.goto(shop.server.url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate(fits), f"{path} scrolls sideways"
    ctx.close()
    admin_ctx, admin = _page(browser, shop, JEFA, viewport={"width": 390, "height": 844}, is_mobile=True)
    admin.goto(shop.server.url + "/dashboard")
    admin.get_by_text("Facturación").first.wait_for()
    assert admin.evaluate(fits), "dashboard scrolls sideways"
    screenshot(admin, "day-phone-dashboard")
    admin_ctx.close()


def test_keyboard_shortcuts_and_their_help(shop: Shop, browser) -> None:  # type: ignore[no-untyped-def]
    shop.customer_writes("5491180000050", "hola, ¿están?", "Kiko Teclas")
    ctx, page = _page(browser, shop, DOS)
    _row(page, "Kiko Teclas").wait_for()
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("?")
    page.get_by_text("Atajos de teclado").wait_for()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.locator(".q-message", has_text="hola, ¿están?").wait_for()  # the newest unread chat opened
    page.keyboard.press("t")
    page.get_by_text("Tomaste el chat").wait_for()
    page.keyboard.press("r")
    page.wait_for_function("document.activeElement && document.activeElement.tagName === 'TEXTAREA'")
    ctx.close()


def test_a_product_card_from_the_composer_reaches_the_graph_with_photo_and_buttons(shop: Shop, browser) -> None:  # type: ignore[no-untyped-def]
    from s7.domain import catalog

    with session_scope() as session:
        catalog.import_path(session, "catalog/demo.json")
    wa_id = "5491180000060"
    shop.customer_writes(wa_id, "¿tienen las air max 90 blancas?", "Sofía Card")
    ctx, page = _page(browser, shop, UNO)
    _row(page, "Sofía Card").click()
    page.locator('[title="Mandar un producto del catálogo"]').click()
    page.get_by_placeholder("Buscá como el cliente").fill("air max 90 blancas")
    page.locator(".q-dialog").get_by_text("Zapatillas Nike Air Max 90 Blanco").first.click()
    card = _wait(
        lambda: next(
            (b for b in shop.graph.sends() if b.get("to", "").lstrip("+") == wa_id and b.get("type") == "interactive"),
            None,
        ),
        timeout=20,
    )
    interactive = card["interactive"]
    assert interactive["header"]["type"] == "image" and interactive["header"]["image"]["link"].startswith("https://")
    assert interactive["type"] == "button" and 1 <= len(interactive["action"]["buttons"]) <= 3
    assert "249.999" in interactive["body"]["text"]
    page.locator(".q-message", has_text="249.999").first.wait_for()
    screenshot(page, "day-product-card")
    ctx.close()
