"""/admin/catalog in the NiceGUI user simulation: upload, progress, the per-row report, search."""

from __future__ import annotations

import json

from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User
from sqlalchemy import select

from s7.db import session_scope
from s7.domain.models import Product
from s7.pages.admin_catalog import format_price
from tests.domain.test_users import make_user
from tests.pages.page_helpers import clean_realtime_bus, sign_in  # noqa: F401 - autouse fixture

MESSY = json.dumps(
    {
        "products": [
            {
                "sku": " ZAP-1 ",
                "name": "Zapatillas Nike Air Max 90",
                "brand": "Nike",
                "price": "$ 189.999,50",
                "stock": "4",
            },
            {"sku": "ZAP-2", "name": "Zapatillas Adidas Samba", "brand": "Adidas", "price": 149999, "stock": 0},
            {"sku": "REM-1", "name": "<b>Remera</b> básica", "price": "gratis", "stock": 3},
            {"name": "Sin SKU", "price": 1000},
            {"sku": "ZAP-2", "name": "Zapatillas Adidas Samba OG", "brand": "Adidas", "price": "159.999", "stock": 2},
        ]
    }
).encode()


async def upload(user: User, name: str, data: bytes) -> None:
    element = user.find(ui.upload).elements.pop()
    await element.handle_uploads([SmallFileUpload(name, "application/json", data)])


async def open_as_admin(user: User) -> None:
    make_user("jefa@tienda.com", role="admin")
    await sign_in(user, "jefa@tienda.com")
    await user.open("/admin/catalog")


async def test_upload_imports_the_good_rows_and_lists_the_rejected_ones(pg_db, user: User) -> None:
    await open_as_admin(user)
    await user.should_see("0 productos")
    await upload(user, "desprolijo.json", MESSY)
    await user.should_see("Resultado de desprolijo.json", retries=50)
    await user.should_see("Listo: 5 de 5 filas procesadas")
    for badge in ("5 filas", "2 nuevos", "2 rechazados", "0 desactivados"):
        await user.should_see(badge)
    rejected = user.find(marker="rejected-rows").elements.pop()
    reasons = {row["row"]: row["reason"] for row in rejected.rows}
    assert set(reasons) == {3, 4}
    assert "precio" in reasons[3] and "sku" in reasons[4]
    with session_scope() as session:
        stored = {p.sku: (p.name, p.price, p.stock) for p in session.scalars(select(Product))}
    assert stored["ZAP-1"][1] == 189999.50 and stored["ZAP-2"] == ("Zapatillas Adidas Samba OG", 159999, 2)
    products = user.find(marker="products").elements.pop()
    assert {r["sku"]: r["price"] for r in products.rows} == {"ZAP-1": "$ 189.999,50", "ZAP-2": "$ 159.999"}
    assert user.find(ui.upload).elements.pop().enabled


async def test_deactivate_missing_marks_products_absent_from_the_file(pg_db, user: User) -> None:
    await open_as_admin(user)
    await upload(user, "primero.json", MESSY)
    await user.should_see("Resultado de primero.json", retries=50)
    user.find(marker="deactivate-missing").click()
    only_one = json.dumps([{"sku": "ZAP-1", "name": "Zapatillas Nike Air Max 90", "price": 189999.5, "stock": 4}])
    await upload(user, "segundo.json", only_one.encode())
    await user.should_see("Resultado de segundo.json", retries=50)
    await user.should_see("1 desactivados")
    with session_scope() as session:
        assert session.scalar(select(Product.active).where(Product.sku == "ZAP-2")) is False


async def test_a_file_that_is_not_a_catalog_changes_nothing_and_says_why(pg_db, user: User) -> None:
    await open_as_admin(user)
    await upload(user, "notas.json", b'{"hola": "mundo"}')
    await user.should_see(marker="import-error", retries=50)
    text = user.find(marker="import-error").elements.pop().default_slot.children[0].text
    assert text.startswith("No pudimos importar notas.json:") and text.endswith("No se cambió nada.")
    with session_scope() as session:
        assert session.scalar(select(Product.id)) is None


async def test_search_uses_the_catalog_search_and_shows_stock(pg_db, user: User) -> None:
    await open_as_admin(user)
    await upload(user, "desprolijo.json", MESSY)
    await user.should_see("Resultado de desprolijo.json", retries=50)
    user.find(marker="product-search").type("samba")
    await user.should_see("1 resultados para la búsqueda (en stock primero)", retries=20)
    rows = user.find(marker="products").elements.pop().rows
    assert [(r["sku"], r["stock"]) for r in rows] == [("ZAP-2", 2)]


def test_prices_use_the_argentine_format() -> None:
    assert format_price(189999.5) == "$ 189.999,50"
    assert format_price(1500) == "$ 1.500"
    assert format_price(25, "USD") == "USD 25"
