"""Admin pages, dashboard and simulator in real Chromium against `python main.py` (sandbox, Postgres).

One server serves the catalog, team and simulator tests (each uses its own people and customers);
the dashboard gets a server of its own because it asserts exact figures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from s7.clock import now
from s7.config import reset_settings
from s7.db import reset_engine
from tests.conftest import FakeClock, ServerProcess, create_pg_database, drop_pg_database, make_settings, server_env
from tests.e2e.conftest import ADMIN, SELLER1, login, screenshot

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 15_000


@contextmanager
def running_server() -> Iterator[tuple[ServerProcess, str]]:
    """The app as deployed on a fresh Postgres database; yields (server, database URL)."""
    url = create_pg_database("s7_e2e")
    server = ServerProcess(server_env(make_settings(DATABASE_URL=url)))
    try:
        server.wait_ready()
        yield server, url
    except Exception:
        print(server.output()[-4000:])
        raise
    finally:
        server.stop()
        drop_pg_database(url)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with running_server() as (process, _url):
        yield process


@pytest.fixture(autouse=True)
def server_log_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """A failed test prints the end of its module server's log (a shared server outlives it)."""
    yield
    if getattr(request.node, "rep_call_failed", False) and "server" in request.fixturenames:
        print("--- server log ---\n" + request.getfixturevalue("server").output()[-6000:])


def new_page(browser, base_url: str, credentials: tuple[str, str]):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    login(page, base_url, credentials)
    return context, page


# ---- catalog ---------------------------------------------------------------------------------------


def test_admin_uploads_a_messy_catalog_and_reads_the_report(browser, server, tmp_path) -> None:
    context, page = new_page(browser, server.url, ADMIN)
    page.goto(server.url + "/admin/catalog")
    page.get_by_text("Importar catálogo").wait_for()

    # A big file first: the bar moves while the import runs in its thread.
    big = tmp_path / "grande.json"
    big.write_text(
        json.dumps(
            [{"sku": f"G-{i}", "name": f"Producto {i}", "price": 1000 + i, "stock": i % 3} for i in range(20_000)]
        )
    )
    page.locator("input[type=file]").set_input_files(str(big))
    page.get_by_text(re.compile(r"Importando… \d+ de 20000 filas")).wait_for()
    screenshot(page, "admin-catalog-progress")
    page.get_by_text("Listo: 20000 de 20000 filas procesadas").wait_for(timeout=120_000)

    page.locator("input[type=file]").set_input_files(str(ROOT / "catalog" / "messy-sample.csv"))
    page.get_by_text("Resultado de messy-sample.csv").wait_for()
    page.get_by_text("Listo: 12 de 12 filas procesadas").wait_for()
    report = page.locator(".q-card", has_text="Resultado de messy-sample.csv")
    assert report.get_by_text("5 rechazados").is_visible()
    rejected = page.locator("[data-testid=rejected-rows] tbody tr")
    rejected.first.wait_for()
    assert rejected.count() == 5
    assert "'consultar' no es un precio" in page.locator("[data-testid=rejected-rows]").inner_text()
    screenshot(page, "admin-catalog-report")

    # Catalog text is text: markup in a rejected value is shown literally, never run.
    hostile = tmp_path / "hostil.json"
    hostile.write_text(
        json.dumps([{"sku": "H-1", "name": "Mate", "price": 10, "currency": "<img src=x onerror=window.pwned=1>"}])
    )
    page.locator("input[type=file]").set_input_files(str(hostile))
    page.get_by_text("Resultado de hostil.json").wait_for()
    assert "<img src=x onerror=window.pwned=1>" in page.locator("[data-testid=rejected-rows]").inner_text()
    assert page.locator("[data-testid=rejected-rows] img").count() == 0
    assert page.evaluate("window.pwned") is None

    page.get_by_label("Buscar (como lo buscaría un cliente)").fill("topper rail")
    page.get_by_text(re.compile(r"\d+ resultados para la búsqueda")).wait_for()
    assert "ZAP-002" in page.locator("[data-testid=products]").inner_text()
    screenshot(page, "admin-catalog-search")
    context.close()


# ---- team ------------------------------------------------------------------------------------------


def test_admin_creates_a_seller_who_can_then_log_in(browser, server) -> None:
    context, page = new_page(browser, server.url, ADMIN)
    page.goto(server.url + "/admin/users")
    page.get_by_text("Nuevo usuario").wait_for()
    page.get_by_label("Nombre").fill("Carla Gómez")
    page.get_by_label("Email").fill("carla@sector7.local")
    page.get_by_label("Contraseña", exact=True).fill("clave-de-carla")
    page.get_by_role("button", name="Crear usuario").click()
    page.get_by_text("Listo: Carla Gómez ya puede ingresar con carla@sector7.local").wait_for()
    page.locator("[data-testid=team-list]").get_by_text("carla@sector7.local").wait_for()
    screenshot(page, "admin-users-created")

    carla, carla_page = new_page(browser, server.url, ("carla@sector7.local", "clave-de-carla"))
    assert carla_page.url.rstrip("/") == server.url
    carla_page.goto(server.url + "/admin/users")
    carla_page.get_by_text("Sin permiso").wait_for()
    screenshot(carla_page, "admin-users-seller-no-permission")
    carla.close()
    context.close()


def test_deactivating_a_seller_logs_their_open_tab_out(browser, server) -> None:
    seller, seller_page = new_page(browser, server.url, SELLER1)
    seller_page.get_by_text("Conversaciones").first.wait_for()
    admin, page = new_page(browser, server.url, ADMIN)
    page.goto(server.url + "/admin/users")
    row = page.locator("[data-testid=team-list] [data-testid^=user-]", has_text=SELLER1[0])
    row.get_by_role("button", name="Desactivar").click()
    page.get_by_text("¿Desactivar a Vendedor 1?").wait_for()
    page.locator("[data-testid=deactivate-confirm]").click()
    page.get_by_text("Vendedor 1 desactivado").wait_for()

    seller_page.wait_for_url("**/login?ended=1")
    seller_page.get_by_text("Tu sesión terminó. Ingresá de nuevo.").wait_for()
    screenshot(seller_page, "admin-users-deactivated-tab")
    seller_page.get_by_label("Email").fill(SELLER1[0])
    seller_page.get_by_label("Contraseña").fill(SELLER1[1])
    seller_page.get_by_role("button", name="Ingresar").click()
    seller_page.get_by_text("Email o contraseña incorrectos.").wait_for()
    screenshot(page, "admin-users-after-deactivation")
    seller.close()
    admin.close()


# ---- simulator -------------------------------------------------------------------------------------


def test_simulator_conversation_end_to_end(browser, server) -> None:
    context, phone = new_page(browser, server.url, ADMIN)
    phone.goto(server.url + "/simulator?wa=5493515550102")
    phone.get_by_text("Sos Martín Gómez · +5493515550102").wait_for()
    phone.get_by_placeholder("Mensaje").fill("Hola! Tienen zapatillas Nike?")
    phone.get_by_placeholder("Mensaje").press("Enter")
    phone.locator("[data-testid=bubble-out]").first.wait_for()
    options = phone.locator("[data-testid=reply-button], [data-testid=list-options]")
    options.first.wait_for()
    screenshot(phone, "simulator-bot-options")

    with context.expect_page() as opened:
        phone.locator("[data-testid=open-inbox]").click()
    panel = opened.value
    panel.set_default_timeout(TIMEOUT)
    panel.wait_for_url(re.compile(r"/\?chat=\d+$"))
    panel.get_by_text("Hola! Tienen zapatillas Nike?").first.wait_for()

    if phone.locator("[data-testid=reply-button]").count():
        tap = phone.locator("[data-testid=reply-button]").first
    else:
        phone.locator("[data-testid=list-options]").first.click()  # opens the list, like WhatsApp's sheet
        tap = phone.locator("[data-testid=list-row]").first
    tap.wait_for()
    title = tap.locator(".q-item__label, .q-btn__content").first.inner_text().strip()
    tap.click()
    phone.locator("[data-testid=bubble-in]", has_text=title).wait_for()
    panel.get_by_text(title, exact=True).first.wait_for()  # the seller's panel shows the tap, live
    screenshot(phone, "simulator-after-tap")
    screenshot(panel, "simulator-panel-live")
    context.close()


# ---- dashboard -------------------------------------------------------------------------------------


def seed_store(database_url: str) -> None:
    """A few minutes of store life, written through the domain straight into the server's database."""
    from tests.domain.reads.test_stats import Story
    from tests.domain.test_users import make_user

    reset_settings(make_settings(DATABASE_URL=database_url))
    reset_engine()
    from s7 import clock

    fake = FakeClock(now() - timedelta(minutes=40))
    clock.set_clock(fake)
    try:
        ana = make_user("ana@sector7.local", name="Ana Paz")
        start = fake.current
        (
            Story(fake, "5491100000001", start)
            .customer()
            .bot()
            .at(start + timedelta(minutes=1))
            .lead("HOT")
            .at(start + timedelta(minutes=3))
            .takeover(ana)
            .at(start + timedelta(minutes=4))
            .seller(ana)
        )
        (
            Story(fake, "5491100000002", start + timedelta(minutes=5))
            .customer()
            .bot()
            .at(start + timedelta(minutes=6))
            .lead("HOT")
            .at(start + timedelta(minutes=20))
            .lead("HOT_LOST", "system")
        )
        Story(fake, "5491100000003", start + timedelta(minutes=10)).customer().bot()
    finally:
        clock.set_clock(None)
        reset_engine()
        reset_settings(None)


def test_dashboard_renders_its_charts_with_seeded_data(browser) -> None:
    with running_server() as (process, url):
        seed_store(url)
        context, page = new_page(browser, process.url, ADMIN)
        page.goto(process.url + "/dashboard")
        page.locator("[data-testid=period]").get_by_text("Últimos 7 días").click()
        page.get_by_text("Por día").wait_for()
        assert page.locator("[data-testid=kpi-conversations-value]").inner_text() == "3"
        assert page.locator("[data-testid=kpi-hot-value]").inner_text() == "2"
        assert page.locator("[data-testid=kpi-taken-value]").inner_text() == "1"
        assert page.locator("[data-testid=kpi-lost-value]").inner_text() == "1"
        assert page.locator("[data-testid=kpi-response-value]").inner_text() == "3 min"
        for chart in ("chart-series", "chart-outcome", "chart-sellers"):
            page.locator(f"[data-testid={chart}] canvas").first.wait_for()
            box = page.locator(f"[data-testid={chart}] canvas").first.bounding_box()
            assert box and box["width"] > 100 and box["height"] > 100
        assert "Ana Paz" in page.locator("[data-testid=seller-table]").inner_text()
        screenshot(page, "dashboard-week")
        page.locator("[data-testid=period]").get_by_text("Hoy").click()
        page.get_by_text(re.compile("Por (hora|día)")).wait_for()
        screenshot(page, "dashboard-today")
        context.close()
