"""Security in real Chromium against `python main.py`: the panel's key flows under the CSP with
no violation, and open tabs that really end when their session does."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import ServerProcess, create_pg_database, drop_pg_database, make_settings, server_env
from tests.e2e.conftest import ADMIN, SELLER1, SELLER2, login, screenshot
from tests.e2e.test_inbox_e2e import customer_writes

pytestmark = pytest.mark.e2e
TIMEOUT = 15_000
# Every CSP violation, whether the console reports it or only the DOM event fires.
CSP_PROBE = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture(scope="module")
def live_server() -> Iterator[ServerProcess]:
    """One server for the module (tests use their own people and chats, in any order), with
    UPLOAD_MAX_MB=1 so an oversize upload is small to make."""
    url = create_pg_database("s7_e2e_security")
    server = ServerProcess(server_env(make_settings(DATABASE_URL=url), UPLOAD_MAX_MB="1"))
    try:
        server.wait_ready()
        yield server
    except Exception:
        print(server.output()[-4000:])
        raise
    finally:
        server.stop()
        drop_pg_database(url)


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
    # Logout from the user menu: a form POST with the session's CSRF value, under the CSP.
    cookie = next(c["value"] for c in context.cookies() if c["name"] == "s7_session")
    page.locator("[data-testid=user-menu], .q-btn:has(i:text('account_circle'))").first.click()
    page.get_by_text("Cerrar sesión", exact=True).click()
    page.wait_for_url("**/login")  # not "?ended=1": this tab left by itself
    assert_no_csp_violation(page, console)
    bearer = {"Authorization": f"Bearer {cookie}"}
    assert httpx.get(live_server.url + "/api/conversations", headers=bearer).status_code == 401  # revoked
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


def _api_login(base_url: str, credentials: tuple[str, str]) -> dict[str, str]:
    response = httpx.post(base_url + "/api/auth/login", json={"email": credentials[0], "password": credentials[1]})
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_a_password_reset_disconnects_open_tabs_and_their_next_action_is_refused(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    url = live_server.url
    customer_writes(url, make_settings().META_APP_SECRET, "sandbox", "5491170009002", "¿Hay stock?", "Eva Reset")
    tabs = []
    for _ in range(2):  # two of the seller's own browsers: a plain one, and one that ignores redirects
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        login(page, url, SELLER2)
        page.locator(".s7-chat-row", has_text="Eva Reset").first.click()
        page.locator(".q-message", has_text="¿Hay stock?").wait_for()
        page.wait_for_function("window.socket && window.socket.connected && window.did_handshake")
        tabs.append((context, page))
    (plain_context, plain), (stubborn_context, stubborn) = tabs
    # A modified client that ignores "go to /login": a 204 leaves the current page in place.
    stubborn.route("**/login**", lambda route: route.fulfill(status=204))

    admin = _api_login(url, ADMIN)
    seller_id = next(u["id"] for u in httpx.get(url + "/api/users", headers=admin).json() if u["email"] == SELLER2[0])
    started = time.monotonic()
    reset = httpx.post(f"{url}/api/users/{seller_id}/password", json={"password": "otra-clave-99"}, headers=admin)
    assert reset.status_code == 200
    plain.wait_for_url("**/login?ended=1", timeout=10_000)
    redirected = time.monotonic() - started
    stubborn.wait_for_function("window.socket && !window.socket.connected", timeout=10_000)
    disconnected = time.monotonic() - started
    print(
        f"\npassword reset → plain tab on /login: {redirected * 1000:.0f} ms; "
        f"stubborn tab's socket cut by the server: {disconnected * 1000:.0f} ms"
    )
    assert disconnected < 5

    # Its next action goes nowhere: the socket cannot reconnect with the dead session.
    composer = stubborn.get_by_placeholder("Escribí tu respuesta")
    composer.fill("Enviado después del reset")
    composer.press("Enter")
    time.sleep(3)
    assert stubborn.evaluate("window.socket.connected") is False
    chats = httpx.get(url + "/api/conversations", headers=admin).json()
    items = chats["items"] if isinstance(chats, dict) else chats
    chat_id = next(c["id"] for c in items if c.get("name") == "Eva Reset")
    messages = httpx.get(f"{url}/api/conversations/{chat_id}/messages", headers=admin).json()
    texts = [m.get("text") for m in (messages["items"] if isinstance(messages, dict) else messages)]
    assert "Enviado después del reset" not in texts
    screenshot(stubborn, "reset-stubborn-tab")
    plain_context.close()
    stubborn_context.close()


def test_an_oversize_panel_upload_is_refused_by_the_server_in_spanish(browser, live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    context, page, console = watched_page(browser, live_server.url, ADMIN)
    page.goto(live_server.url + "/admin/catalog")
    page.get_by_text("Importar catálogo").wait_for()
    # A modified client without the browser's size check: the server has to refuse on its own.
    page.evaluate(
        "() => { for (const el of Object.values(mounted_app.elements))"
        " if ('max-file-size' in el.props) el.props['max-file-size'] = 1e12; }"
    )
    big = tmp_path / "grande.json"
    big.write_bytes(b"[" + b" " * (3 * 1024 * 1024) + b"]")
    page.locator("input[type=file]").set_input_files(str(big))
    page.get_by_text("No se pudo subir el archivo. El archivo supera el máximo de 1 MB.").wait_for()
    screenshot(page, "upload-refused-by-server")
    assert_no_csp_violation(page, console)
    context.close()
