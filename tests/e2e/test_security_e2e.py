"""Security in real Chromium against `python main.py`: the panel's key flows under the CSP with
no violation, and open tabs that really end when their session does."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import make_settings
from tests.e2e.conftest import ADMIN, SELLER1, login, screenshot
from tests.e2e.test_inbox_e2e import customer_writes

pytestmark = pytest.mark.e2e
TIMEOUT = 15_000
# Every CSP violation, whether the console reports it or only the DOM event fires.
CSP_PROBE = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def watched_page(browser, base_url: str, credentials: tuple[str, str]):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.add_init_script(CSP_PROBE)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    login(page, base_url, credentials)
    return context, page, console


def assert_no_csp_violation(page: Any, console: list[str]) -> None:
    reported = [line for line in console if "Content Security Policy" in line or "Refused to" in line]
    assert reported == [], reported
    assert page.evaluate("window.__csp") == []


def test_the_panels_key_flows_run_under_the_csp(browser, live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = make_settings().META_APP_SECRET
    customer_writes(live_server.url, secret, "sandbox", "5491170009001", "Hola, ¿precio?", "Dora CSP")
    context, page, console = watched_page(browser, live_server.url, SELLER1)
    assert "default-src 'self'" in page.evaluate("fetch('/').then(r => r.headers.get('content-security-policy'))")
    page.locator(".s7-chat-row", has_text="Dora CSP").first.click()
    page.locator(".q-message", has_text="Hola, ¿precio?").wait_for()
    composer = page.get_by_placeholder("Escribí tu respuesta")
    composer.fill("Sale $10.000")
    composer.press("Enter")
    page.locator(".q-message", has_text="Sale $10.000").wait_for()
    screenshot(page, "csp-inbox")
    assert_no_csp_violation(page, console)
    context.close()

    context, page, console = watched_page(browser, live_server.url, ADMIN)
    page.goto(live_server.url + "/admin/catalog")
    page.get_by_text("Importar catálogo").wait_for()
    small = tmp_path / "csp.json"
    small.write_text(json.dumps([{"sku": "CSP-1", "name": "Mate CSP", "price": 1500, "stock": 3}]))
    page.locator("input[type=file]").set_input_files(str(small))
    page.get_by_text("Resultado de csp.json").wait_for()
    page.goto(live_server.url + "/admin/users")
    page.locator("[data-testid=team-list]").wait_for()
    page.goto(live_server.url + "/dashboard")
    page.wait_for_load_state("networkidle")
    screenshot(page, "csp-admin")
    assert_no_csp_violation(page, console)
    # The probe itself works: an image from another origin is blocked and reported.
    page.evaluate("new Image().src = 'https://elsewhere.invalid/x.png'")
    page.wait_for_function("window.__csp.length > 0")
    assert page.evaluate("window.__csp")[0].startswith("img-src")
    context.close()
