"""Real-browser fixtures: Debian's Chromium driven by Playwright, against `python main.py`
running as a real server process on a throwaway Postgres database.

Screenshots go to test-artifacts/ (kept by CI as artifacts).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, create_pg_database, drop_pg_database, make_settings, server_env

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = os.environ.get("S7_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ADMIN = ("admin@sector7.local", "admin-pass-123")
SELLER1 = ("vendedor1@sector7.local", "seller-pass-123")
SELLER2 = ("vendedor2@sector7.local", "seller-pass-123")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    # Module scope, not session: Playwright's sync API keeps an event loop running in this
    # thread while it is open, and every async test after it would fail to start its own.
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run .ci/run (it installs Debian's chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """The app as deployed (sandbox, seeded demo users and catalog) on its own Postgres database.

    Extra environment for the server: `@pytest.mark.server_env(KEY="value")`.
    """
    url = create_pg_database("s7_e2e")
    settings = make_settings(DATABASE_URL=url)
    marker = request.node.get_closest_marker("server_env")
    extra = dict(marker.kwargs) if marker else {}
    server = ServerProcess(server_env(settings, **extra))
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
        if request.node.rep_call_failed if hasattr(request.node, "rep_call_failed") else False:
            print(server.output()[-4000:])
        drop_pg_database(url)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call_failed = report.failed


def login(page, base_url: str, credentials: tuple[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the real form and wait for the inbox."""
    page.goto(base_url + "/login")
    page.get_by_label("Email").fill(credentials[0])
    page.get_by_label("Contraseña").fill(credentials[1])
    page.get_by_role("button", name="Ingresar").click()
    page.wait_for_url(lambda url: "/login" not in url, timeout=15000)


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
