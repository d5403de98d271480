"""Login in a real browser: wrong password shows an error, right one lands on the inbox."""

import pytest

from tests.e2e.conftest import SELLER1, login, screenshot

pytestmark = pytest.mark.e2e


def test_login_in_real_browser(browser, live_server) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server.url + "/dashboard")
    page.wait_for_url("**/login?redirect_to=*")
    page.get_by_label("Email").fill(SELLER1[0])
    page.get_by_label("Contraseña").fill("wrong-password")
    page.get_by_role("button", name="Ingresar").click()
    page.get_by_text("Email o contraseña incorrectos.").wait_for()
    screenshot(page, "login-error")
    login(page, live_server.url, SELLER1)
    page.get_by_text("Sector 7").first.wait_for()
    screenshot(page, "after-login")
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["s7_session"]["httpOnly"] is True
    context.close()
