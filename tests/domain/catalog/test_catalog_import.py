"""Importing scraped catalogs: every cleaning rule, the report, and files that are not catalogs."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from s7.config import Settings
from s7.db import session_scope
from s7.domain import catalog
from s7.domain.catalog.clean import RowError, clean_record, parse_money
from s7.domain.models import Product

ROOT = Path(__file__).resolve().parents[3]
MESSY = ROOT / "catalog" / "messy-sample.csv"
DEMO = ROOT / "catalog" / "demo.json"


def products() -> dict[str, Product]:
    with session_scope() as session:
        return {p.sku: p for p in session.scalars(select(Product))}


def run_import(data: bytes | dict | list, filename: str = "catalog.json", **options: object) -> catalog.ImportReport:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    with session_scope() as session:
        return catalog.import_catalog(session, raw, filename, **options)  # type: ignore[arg-type]


# ---- the messy sample, end to end ---------------------------------------------------------------
def test_messy_csv_imports_the_good_rows_and_reports_the_bad(any_db: Settings) -> None:
    with session_scope() as session:
        report = catalog.import_path(session, MESSY)

    assert sorted(report.created) == ["CEL-003", "IMP-005", "NEG-011", "REM-004", "ZAP-001", "ZAP-002"]
    assert report.total == 12  # the blank line is not a row
    # Rows are the spreadsheet's line numbers (header = 1), each with the reason.
    assert [(r.row, r.sku) for r in report.rejected] == [
        (7, "SIN-006"),
        (8, "SIN-007"),
        (10, None),
        (11, "ATR-009"),
        (14, "NEG-012"),
    ]
    reasons = {r.sku: r.reason for r in report.rejected}
    assert reasons["SIN-006"] == "falta Price"  # the column as the file names it
    assert "'consultar' no es un precio" in reasons["SIN-007"]
    assert reasons[None] == "falta SKU"
    assert reasons["ATR-009"].startswith("Attributes: no es JSON válido")
    assert "mayor que cero" in reasons["NEG-012"]
    assert [(d.row, d.sku) for d in report.duplicates] == [(3, "ZAP-002")]

    stored = products()
    zap = stored["ZAP-001"]
    assert zap.name == "Zapatillas Nike Air Max 90"  # HTML and extra spaces gone
    assert zap.brand == "Nike"
    assert zap.price == Decimal("189999.50")  # "$ 189.999,50"
    assert zap.description == "Cuero & malla.\nSuela de aire."
    assert zap.attributes == {"talles": ["40", "41", "42"], "color": "blanco"}
    assert zap.image_url == "https://cdn.example.com/zap-001.jpg"  # protocol-relative link fixed
    assert (zap.stock, zap.popularity, zap.installments, zap.currency) == (4, 87, 6, "ARS")

    topper = stored["ZAP-002"]  # repeated SKU: the last row wins
    assert (topper.name, topper.price, topper.stock, topper.installments) == (
        "Zapatillas Topper Rail (repetida)",
        Decimal("49999.00"),
        10,
        3,
    )
    assert stored["CEL-003"].price == Decimal("1234567.00")  # thousands dots
    assert (stored["CEL-003"].stock, stored["CEL-003"].installments) == (0, 12)  # "sin stock", "12x"
    assert stored["REM-004"].name == "Remera básica"
    assert stored["REM-004"].price == Decimal("12999.50")  # decimal point
    assert stored["REM-004"].stock == 7  # "  7 "
    assert (stored["IMP-005"].price, stored["IMP-005"].currency) == (Decimal("1200.00"), "USD")
    assert stored["NEG-011"].stock == 0  # -1 from the scraper means none on hand
    assert "SIN-006" not in stored and "ATR-009" not in stored


def test_the_report_serialises_for_the_api(any_db: Settings) -> None:
    with session_scope() as session:
        report = catalog.import_path(session, MESSY)
    data = report.to_dict()
    assert (data["created"], data["updated"], data["unchanged"], data["rejected_count"]) == (6, 0, 0, 5)
    assert data["rejected"][0] == {"row": 7, "sku": "SIN-006", "reason": "falta Price"}
    json.dumps(data)  # plain JSON all the way down
    assert "6 nuevos" in report.summary() and "5 rechazados" in report.summary()


# ---- upsert ---------------------------------------------------------------------------------------
def test_reimport_reports_unchanged_and_updated_rows(any_db: Settings) -> None:
    first = [
        {"sku": "A", "name": "Parlante JBL Go 3", "price": 59999, "stock": 3, "brand": "JBL"},
        {"sku": "B", "name": "Parlante JBL Flip 6", "price": 189999, "stock": 1},
    ]
    assert len(run_import(first).created) == 2
    again = run_import(first)
    assert (again.created, again.updated, sorted(again.unchanged)) == ([], [], ["A", "B"])

    # Same values written differently are still "unchanged"; a real change is an update.
    second = [
        {"sku": "A", "name": " Parlante  JBL Go 3 ", "price": "$ 59.999", "stock": "3"},
        {"sku": "B", "name": "Parlante JBL Flip 6", "price": "$ 179.999", "stock": 1},
    ]
    report = run_import(second)
    assert (report.unchanged, report.updated) == (["A"], ["B"])
    stored = products()
    assert stored["B"].price == Decimal("179999.00")
    assert stored["A"].brand == "JBL"  # a column the file leaves out keeps its value


def test_deactivate_missing_marks_inactive_and_never_deletes(any_db: Settings) -> None:
    run_import([{"sku": s, "name": f"Producto {s}", "price": 100} for s in ("A", "B", "C")])
    report = run_import(
        [{"sku": "A", "name": "Producto A", "price": 100}, {"sku": "C", "name": "Producto C"}],
        deactivate_missing=True,
    )
    # C's row was rejected (no price) but it is in the file: it must not be switched off.
    assert report.deactivated == ["B"]
    assert {s: p.active for s, p in products().items()} == {"A": True, "B": False, "C": True}

    back = run_import([{"sku": "B", "name": "Producto B", "price": 100}])
    assert back.updated == ["B"] and products()["B"].active


def test_without_the_flag_missing_products_stay_active(any_db: Settings) -> None:
    run_import([{"sku": "A", "name": "A", "price": 1}, {"sku": "B", "name": "B", "price": 1}])
    run_import([{"sku": "A", "name": "A", "price": 1}])
    assert all(p.active for p in products().values())


def test_progress_goes_up_to_the_total(any_db: Settings) -> None:
    calls: list[tuple[int, int]] = []
    rows = [{"sku": f"P{i}", "name": f"Producto {i}", "price": i + 1} for i in range(4500)]
    run_import({"products": rows}, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 4500) and calls[-1] == (4500, 4500)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len(calls) >= 4  # chunks, not only start and end


def test_csv_with_semicolons_and_spanish_headers(any_db: Settings) -> None:
    csv_text = (
        'Código;Nombre;Precio;Stock;Cuotas;Atributos\nR-1;Remera Lisa;"$ 17.999";5;3;"{""talles"": [""S"", ""M""]}"\n'
    )
    report = run_import(csv_text.encode("cp1252"), "export.csv")  # Excel on Windows
    assert report.created == ["R-1"]
    remera = products()["R-1"]
    assert (remera.name, remera.price, remera.installments) == ("Remera Lisa", Decimal("17999.00"), 3)
    assert remera.attributes == {"talles": ["S", "M"]}


def test_bare_json_list_with_numbers_as_strings(any_db: Settings) -> None:
    report = run_import([{"sku": 12345, "name": "Pava", "price": "49999", "stock": "2", "popularity": "40"}])
    assert report.created == ["12345"]
    assert (products()["12345"].stock, products()["12345"].popularity) == (2, 40)


# ---- files that are not catalogs change nothing ------------------------------------------------
@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "catalog.json", "vacío"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "foto.png", "no es un archivo de texto"),
        (b'{"products": [', "catalog.json", "JSON inválido"),
        (b'{"items": []}', "catalog.json", '"products"'),
        (b'{"products": {"sku": "A"}}', "catalog.json", "lista"),
        (b'{"products": []}', "catalog.json", "no tiene productos"),
        (b'[{"foo": 1}, {"bar": 2}]', "catalog.json", "No parece un catálogo"),
        (b"[1, 2, 3]", "catalog.json", "No parece un catálogo"),
        (
            b"nombre_cliente,telefono\nAna,123\n",
            "clientes.csv",
            "faltan columnas obligatorias: sku, name, price (código o sku; nombre o name; precio o price)",
        ),
    ],
)
def test_a_file_that_is_not_a_catalog_changes_nothing(
    sqlite_db: Settings, data: bytes, filename: str, message: str
) -> None:  # refused before any SQL: one dialect is enough
    run_import([{"sku": "KEEP", "name": "Se queda", "price": 1}])
    with pytest.raises(catalog.CatalogError) as error, session_scope() as session:
        catalog.import_catalog(session, data, filename, deactivate_missing=True)
    assert message.lower() in str(error.value).lower()
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 1
    assert products()["KEEP"].active


def test_import_path_names_a_missing_file(any_db: Settings, tmp_path: Path) -> None:
    with pytest.raises(catalog.CatalogError, match="No puedo leer"), session_scope() as session:
        catalog.import_path(session, tmp_path / "nada.json")


def test_the_demo_catalog_imports_cleanly(any_db: Settings) -> None:
    with session_scope() as session:
        report = catalog.import_path(session, DEMO)
    assert 60 <= len(report.created) <= 120 and not report.rejected and not report.duplicates
    stored = products().values()
    assert any(p.stock == 0 for p in stored) and any(p.installments for p in stored)
    assert any("talles" in p.attributes for p in stored)


# ---- cleaning rules, one by one ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("$ 189.999,50", "189999.50"),
        ("$189.999", "189999.00"),
        ("ARS 1.234.567", "1234567.00"),
        ("189999.5", "189999.50"),
        ("12,50", "12.50"),
        ("1,234,567.89", "1234567.89"),
        ("  $ 5.000  ", "5000.00"),
        (189999, "189999.00"),
        (189999.5, "189999.50"),
    ],
)
def test_prices_in_local_formats(raw: object, expected: str) -> None:
    assert parse_money(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", ["consultar", "$ 1.000 - $ 2.000", "", "0", "-5", True, None, [1]])
def test_prices_that_are_not_prices(raw: object) -> None:
    with pytest.raises(RowError):
        parse_money(raw)


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("stock", "12 u.", 12),
        ("stock", "Agotado", 0),
        ("stock", "1.200", 1200),
        ("stock", 3.0, 3),
        ("stock", None, 0),
        ("installments", "6 cuotas sin interés", 6),
        ("installments", "sin cuotas", None),
        ("installments", "1", None),
        ("popularity", "87,6", 88),
        ("name", "  <h1>Pava</h1>\n eléctrica&nbsp;1.7L ", "Pava eléctrica 1.7L"),
        ("url", "https://x.example/p?a=1", "https://x.example/p?a=1"),
        ("url", "/relativa/sin/host", None),
        ("currency", "U$S", "USD"),
    ],
)
def test_field_cleaning(field: str, raw: object, expected: object) -> None:
    values = clean_record({"sku": "X", "name": "N", "price": 1, field: raw})
    assert values[field] == expected


def test_every_problem_of_a_row_is_reported_together() -> None:
    with pytest.raises(RowError) as error:
        clean_record({"sku": "X", "price": "gratis", "stock": "muchos"})
    assert error.value.sku == "X"
    assert error.value.reason == "price: 'gratis' no es un precio; stock: 'muchos' no es una cantidad; falta name"


@pytest.mark.parametrize(
    "junk",
    ["x<img src=x onerror=alert(1)>", "<img src=x onerror=window.pwned=1>", "abc 100", "100 zapatos", "consultar"],
)
def test_a_price_cell_with_anything_but_currency_marks_is_rejected(junk: str) -> None:
    from s7.domain.catalog.clean import RowError, parse_money

    with pytest.raises(RowError):
        parse_money(junk)


def test_rejection_reasons_name_the_files_own_columns(any_db: Settings) -> None:
    spanish = (
        "Código;Nombre;Precio;Stock\nA-1;Remera;;3\nA-2;Buzo;consultar;muchos\n;Gorra;100;1\nA-4;;200;1\n"
    ).encode()
    report = run_import(spanish, "productos.csv")
    reasons = {r.row: r.reason for r in report.rejected}
    assert reasons[2] == "falta Precio"
    assert reasons[3] == "Precio: 'consultar' no es un precio; Stock: 'muchos' no es una cantidad"
    assert reasons[4] == "falta Código"
    assert reasons[5] == "falta Nombre"
    # JSON with Spanish keys and a field the file never has: named in the file's language.
    report = run_import([{"codigo": "B-1", "nombre": "Taza"}], "productos.json")
    assert [r.reason for r in report.rejected] == ["falta precio"]
    report = run_import([{"sku": "B-2", "name": "Mug"}], "products.json")
    assert [r.reason for r in report.rejected] == ["falta price"]
