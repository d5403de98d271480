"""/admin/catalog: upload a JSON/CSV catalog (progress bar, per-row report) and browse the products.

The import runs in a worker thread (never on the event loop); it reports progress into a plain
object that a page timer copies to the progress bar, because UI elements may only be touched
from the loop. Catalog text is always shown as text (labels, table cells), never as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import Request
from nicegui import events, ui
from sqlalchemy import func, select

from s7.auth import CurrentUser
from s7.config import get_settings
from s7.db import session_scope
from s7.domain import catalog, users
from s7.domain.models import Product
from s7.limits import too_large_text
from s7.pages.layout import frame, io

TABLE_LIMIT = 200
SEARCH_LIMIT = 50


@dataclass
class ImportProgress:
    """Written by the import thread, read by the page's timer."""

    done: int = 0
    total: int = 0
    running: bool = False

    def update(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


def run_import(
    actor_id: int, data: bytes, filename: str, deactivate_missing: bool, progress: ImportProgress
) -> catalog.ImportReport:
    """One transaction: check the admin, import, commit (a CatalogError writes nothing)."""
    with session_scope() as session:
        users.require_admin(session, actor_id)
        return catalog.import_catalog(
            session, data, filename, deactivate_missing=deactivate_missing, progress=progress.update
        )


def load_products(query: str) -> tuple[list[dict[str, Any]], int]:
    """(rows for the table, products in the catalog). A query goes through THE catalog search."""
    with session_scope() as session:
        total = session.scalar(select(func.count(Product.id))) or 0
        if query.strip():
            hits = catalog.search(session, query, limit=SEARCH_LIMIT)
            return [
                _row(h.id, h.sku, h.name, h.brand, h.category, h.price, h.currency, h.stock, True) for h in hits
            ], total
        products = session.scalars(
            select(Product).order_by(Product.active.desc(), func.lower(Product.name)).limit(TABLE_LIMIT)
        )
        return [
            _row(p.id, p.sku, p.name, p.brand, p.category, p.price, p.currency, p.stock, p.active) for p in products
        ], total


def _row(
    pid: int,
    sku: str,
    name: str,
    brand: str | None,
    category: str | None,
    price: Decimal,
    currency: str,
    stock: int,
    active: bool,
) -> dict[str, Any]:
    return {
        "id": pid,
        "sku": sku,
        "name": name,
        "brand": brand or "",
        "category": category or "",
        "price": format_price(price, currency),
        "stock": stock,
        "active": "Sí" if active else "No",
    }


def format_price(price: Decimal | float | None, currency: str = "ARS") -> str:
    """Argentine format: $ 189.999 · $ 189.999,50 · USD 25."""
    if price is None:
        return ""
    value = Decimal(price).quantize(Decimal("0.01"))
    whole, cents = divmod(abs(value), 1)
    text = f"{int(whole):,}".replace(",", ".")
    if cents:
        text += "," + f"{cents:.2f}"[2:]
    symbol = "$" if currency == "ARS" else currency
    return f"{'-' if value < 0 else ''}{symbol} {text}"


_PRODUCT_COLUMNS = [
    {"name": "sku", "label": "SKU", "field": "sku", "align": "left", "sortable": True},
    {"name": "name", "label": "Producto", "field": "name", "align": "left", "sortable": True},
    {"name": "brand", "label": "Marca", "field": "brand", "align": "left", "sortable": True},
    {"name": "category", "label": "Categoría", "field": "category", "align": "left", "sortable": True},
    {"name": "price", "label": "Precio", "field": "price", "align": "right"},
    {"name": "stock", "label": "Stock", "field": "stock", "align": "right", "sortable": True},
    {"name": "active", "label": "Activo", "field": "active", "align": "center"},
]
_REJECTED_COLUMNS = [
    {"name": "row", "label": "Fila", "field": "row", "align": "right"},
    {"name": "sku", "label": "SKU", "field": "sku", "align": "left"},
    {"name": "reason", "label": "Motivo", "field": "reason", "align": "left"},
]


class CatalogPage:
    def __init__(self, me: CurrentUser) -> None:
        self.me = me
        self.progress = ImportProgress()
        self.report: catalog.ImportReport | None = None
        self.error: str | None = None
        self.query = ""
        self.rows: list[dict[str, Any]] = []
        self.total = 0

    async def build(self) -> None:
        self.rows, self.total = await io(load_products, "")
        with ui.column().classes("w-full max-w-6xl mx-auto p-4 gap-4"):
            ui.label("Catálogo").classes("text-2xl font-bold")
            self._upload_card()
            self.report_view()
            self._products_card()

    # ---- upload -------------------------------------------------------------------------------
    def _upload_card(self) -> None:
        with ui.card().classes("w-full gap-2"):
            ui.label("Importar catálogo").classes("text-lg font-semibold")
            ui.label(
                "Subí un JSON o CSV con sku, name y price (el resto es opcional). Se actualiza por SKU: "
                "las filas con problemas se saltean y te decimos por qué; las buenas se importan igual."
            ).classes("text-sm text-slate-600")
            self.deactivate = ui.checkbox("Desactivar los que faltan (productos que no estén en el archivo)").mark(
                "deactivate-missing"
            )
            max_bytes = get_settings().upload_max_bytes
            too_large = too_large_text(max_bytes)
            self.upload = (
                ui.upload(
                    label="Elegí o arrastrá el archivo (JSON o CSV)",
                    auto_upload=True,
                    max_file_size=max_bytes,  # a hint for the browser; s7.limits enforces it on the server
                    on_upload=self._on_upload,
                    on_rejected=lambda: ui.notify(too_large, type="negative"),
                )
                # The server cut the upload (413 past UPLOAD_MAX_MB) or refused it: say so in Spanish.
                .on("failed", lambda: self._upload_failed(too_large))
                .props('accept=".json,.csv,application/json,text/csv" flat bordered')
                .classes("w-full")
                .mark("catalog-upload")
            )
            with ui.column().classes("w-full gap-1").mark("import-progress") as self.progress_box:
                self.progress_label = ui.label("").classes("text-sm text-slate-600").mark("progress-label")
                self.progress_bar = ui.linear_progress(value=0, show_value=False)
                self.progress_bar.props("rounded size=12px animation-speed=100")
            self.progress_box.set_visibility(False)
            self.timer = ui.timer(0.1, self._show_progress, active=False)

    def _upload_failed(self, too_large: str) -> None:
        ui.notify(f"No se pudo subir el archivo. {too_large}", type="negative", timeout=8000)
        self.upload.reset()

    async def _on_upload(self, event: events.UploadEventArguments) -> None:
        if self.progress.running:
            ui.notify("Esperá a que termine la importación en curso", type="warning")
            return
        filename = event.file.name
        data = await event.file.read()
        self.progress = ImportProgress(running=True)
        self.error, self.report = None, None
        self.report_view.refresh()
        self.progress_box.set_visibility(True)
        self.progress_label.text = f"Leyendo {filename}…"
        self.progress_bar.value = 0
        self.upload.disable()
        self.timer.activate()
        try:
            self.report = await io(run_import, self.me.id, data, filename, bool(self.deactivate.value), self.progress)
        except catalog.CatalogError as exc:
            self.error = f"No pudimos importar {filename}: {exc} No se cambió nada."
        except users.UserError as exc:
            self.error = str(exc)
        finally:
            self.progress.running = False
            self.timer.deactivate()
            self.upload.enable()
            self.upload.reset()
        self._show_progress()
        if self.report is not None:
            self.progress_label.text = f"Listo: {self.report.total} de {self.report.total} filas procesadas"
            self.progress_bar.value = 1
            ui.notify(self.report.summary(), type="positive" if not self.report.rejected else "warning")
        else:
            self.progress_box.set_visibility(False)
        self.report_view.refresh()
        await self._search()

    def _show_progress(self) -> None:
        progress = self.progress
        if progress.total:
            self.progress_bar.value = progress.fraction
            self.progress_label.text = f"Importando… {progress.done} de {progress.total} filas"

    # ---- report -------------------------------------------------------------------------------
    @ui.refreshable_method
    def report_view(self) -> None:
        if self.error:
            with ui.card().classes("w-full bg-red-50").mark("import-error"):
                ui.label(self.error).classes("text-red-800")
            return
        report = self.report
        if report is None:
            return
        with ui.card().classes("w-full gap-2").mark("import-report"):
            ui.label(f"Resultado de {report.filename}").classes("text-lg font-semibold")
            with ui.row().classes("gap-2"):
                for label, count, color in (
                    ("filas", report.total, "blue-grey-6"),
                    ("nuevos", len(report.created), "teal-7"),
                    ("actualizados", len(report.updated), "teal-5"),
                    ("sin cambios", len(report.unchanged), "blue-grey-4"),
                    ("rechazados", len(report.rejected), "red-7" if report.rejected else "blue-grey-4"),
                    ("desactivados", len(report.deactivated), "amber-8" if report.deactivated else "blue-grey-4"),
                ):
                    ui.badge(f"{count} {label}", color=color).classes("text-sm px-2 py-1").mark(f"count-{label}")
            if report.rejected:
                ui.label("Filas rechazadas (corregilas en el archivo y volvé a subirlo):").classes("font-medium")
                ui.table(
                    columns=_REJECTED_COLUMNS,
                    rows=[{"row": r.row, "sku": r.sku or "", "reason": r.reason} for r in report.rejected],
                    row_key="row",
                    pagination=20,
                ).props('flat dense wrap-cells data-testid="rejected-rows"').classes("w-full").mark("rejected-rows")
            if report.duplicates:
                with ui.expansion(f"SKU repetidos: {len(report.duplicates)} (vale la última fila)").classes("w-full"):
                    ui.table(
                        columns=_REJECTED_COLUMNS,
                        rows=[{"row": r.row, "sku": r.sku or "", "reason": r.reason} for r in report.duplicates],
                        row_key="row",
                        pagination=20,
                    ).props("flat dense").classes("w-full")

    # ---- products -----------------------------------------------------------------------------
    def _products_card(self) -> None:
        with ui.card().classes("w-full gap-2"):
            with ui.row().classes("w-full items-center"):
                ui.label("Productos").classes("text-lg font-semibold")
                ui.space()
                self.search_input = (
                    ui.input("Buscar (como lo buscaría un cliente)", on_change=self._search)
                    .props("clearable dense debounce=300")
                    .classes("w-80")
                    .mark("product-search")
                )
            self.products_view()

    async def _search(self) -> None:
        self.query = self.search_input.value or ""
        self.rows, self.total = await io(load_products, self.query)
        self.products_view.refresh()

    @ui.refreshable_method
    def products_view(self) -> None:
        if self.query.strip():
            caption = f"{len(self.rows)} resultados para la búsqueda (en stock primero)"
        elif self.total > len(self.rows):
            caption = f"Mostrando {len(self.rows)} de {self.total} productos: buscá para encontrar el resto"
        else:
            caption = f"{self.total} productos"
        ui.label(caption).classes("text-sm text-slate-500").mark("products-caption")
        table = ui.table(columns=_PRODUCT_COLUMNS, rows=self.rows, row_key="id", pagination=25)
        table.props('flat dense data-testid="products"').classes("w-full").mark("products")
        # The stock cell as a coloured badge: a fixed template; the value is interpolated as text.
        table.add_slot(
            "body-cell-stock",
            "<q-td :props=\"props\"><q-badge :color=\"props.value > 0 ? 'teal-7' : 'red-7'\" "
            ':label="props.value" /></q-td>',
        )


@ui.page("/admin/catalog")
async def admin_catalog_page(request: Request) -> None:
    with frame(request, "Catálogo", admin_only=True) as me:
        if me is None:
            return
        await CatalogPage(me).build()
