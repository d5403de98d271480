"""Catalog import: parse, clean, upsert by sku, report. One service behind `s7 import-catalog`,
`POST /api/catalog/import` and the admin upload page. Cleaning rules live in `clean`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from s7.clock import now
from s7.domain.catalog.clean import CatalogError, RowError, clean_record, column_labels, read_records
from s7.domain.catalog.search import invalidate_index
from s7.domain.models import Product

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
_WRITE_CHUNK = 2000
_COMPARED = (
    "name",
    "brand",
    "category",
    "price",
    "currency",
    "stock",
    "popularity",
    "installments",
    "description",
    "attributes",
    "image_url",
    "url",
)
_DEFAULTS: dict[str, Any] = {
    "brand": None,
    "category": None,
    "currency": "ARS",
    "stock": 0,
    "popularity": 0,
    "installments": None,
    "description": None,
    "attributes": {},
    "image_url": None,
    "url": None,
}


# ---- import -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RejectedRow:
    row: int  # JSON: position in the list (1 = first product); CSV: the spreadsheet line (header = 1)
    sku: str | None
    reason: str


@dataclass
class ImportReport:
    filename: str
    total: int = 0
    created: list[str] = field(default_factory=list)  # SKUs
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    # Earlier rows of a SKU that appears again further down: the last row wins, these were skipped.
    duplicates: list[RejectedRow] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """For the API: counts, plus every rejected row with its number and reason."""
        return {
            "filename": self.filename,
            "total": self.total,
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "deactivated": len(self.deactivated),
            "rejected_count": len(self.rejected),
            "rejected": [asdict(r) for r in self.rejected],
            "duplicates": [asdict(r) for r in self.duplicates],
            "seconds": round(self.seconds, 3),
        }

    def summary(self) -> str:
        """One line for the CLI and logs."""
        parts = [
            f"{len(self.created)} nuevos",
            f"{len(self.updated)} actualizados",
            f"{len(self.unchanged)} sin cambios",
            f"{len(self.rejected)} rechazados",
        ]
        if self.deactivated:
            parts.append(f"{len(self.deactivated)} desactivados")
        return f"{self.filename}: {self.total} filas, " + ", ".join(parts) + f" ({self.seconds:.1f} s)"


def import_catalog(
    session: Session,
    data: bytes,
    filename: str,
    *,
    deactivate_missing: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Upsert a catalog file by SKU in the caller's transaction; report what happened per row.

    Raises CatalogError (and writes nothing) when the file is not a catalog at all. Rows that
    fail cleaning are reported and skipped; the good ones are still imported. With
    `deactivate_missing`, active products absent from the file are marked inactive (never
    deleted: past conversations still point at them). `progress(done, total)` is called as
    rows are handled, total being the number of rows in the file.
    """
    started = time.perf_counter()
    records = read_records(data, filename)
    report = ImportReport(filename=filename, total=len(records))
    notify = progress or (lambda done, total: None)
    notify(0, report.total)

    cleaned: dict[str, tuple[int, dict[str, Any]]] = {}
    labels = column_labels(records)
    for row, raw in records:
        try:
            values = clean_record(raw, labels)
        except RowError as exc:
            report.rejected.append(RejectedRow(row, exc.sku, exc.reason))
            continue
        sku = values["sku"]
        if sku in cleaned:
            report.duplicates.append(RejectedRow(cleaned[sku][0], sku, f"SKU repetido: vale la fila {row}"))
        cleaned[sku] = (row, values)

    existing = _current_products(session)
    stamp = now()
    writes: list[dict[str, Any]] = []
    for sku, (_, values) in cleaned.items():
        current = existing.get(sku)
        if current is None:
            writes.append({**_DEFAULTS, **values, "active": True, "created_at": stamp, "updated_at": stamp})
            report.created.append(sku)
            continue
        merged = {**current, **values}
        if all(_same(current[f], merged[f]) for f in _COMPARED) and current["active"]:
            report.unchanged.append(sku)
            continue
        # Every row of one batched statement needs the same keys; ON CONFLICT keeps the old created_at.
        merged.update(active=True, created_at=stamp, updated_at=stamp)
        merged.pop("id")
        writes.append(merged)
        report.updated.append(sku)

    done = len(report.rejected) + len(report.duplicates) + len(report.unchanged)
    notify(done, report.total)
    for start in range(0, len(writes), _WRITE_CHUNK):
        chunk = writes[start : start + _WRITE_CHUNK]
        _upsert(session, chunk)
        done += len(chunk)
        notify(done, report.total)

    if deactivate_missing:
        keep = cleaned.keys() | {r.sku for r in report.rejected if r.sku}
        missing = [(sku, p["id"]) for sku, p in existing.items() if p["active"] and sku not in keep]
        for start in range(0, len(missing), _WRITE_CHUNK):
            ids = [product_id for _, product_id in missing[start : start + _WRITE_CHUNK]]
            session.execute(
                update(Product)
                .where(Product.id.in_(ids))
                .values(active=False, updated_at=stamp)
                .execution_options(synchronize_session=False)
            )
        report.deactivated = [sku for sku, _ in missing]

    if writes or report.deactivated:
        session.flush()
        invalidate_index()
        # Another thread may rebuild from the old rows before this commits: drop that too.
        event.listen(session, "after_commit", lambda _s: invalidate_index(), once=True)
    notify(report.total, report.total)
    report.seconds = time.perf_counter() - started
    log.info("catalog import %s", report.summary())
    return report


def import_path(session: Session, path: str | Path, **options: Any) -> ImportReport:
    """The CLI's entry: read a file and import it (same options as `import_catalog`)."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise CatalogError(f"No puedo leer {file}: {exc.strerror or exc}") from None
    return import_catalog(session, data, file.name, **options)


def _current_products(session: Session) -> dict[str, dict[str, Any]]:
    columns = [Product.id, Product.sku, Product.active, *(getattr(Product, f) for f in _COMPARED)]
    result = session.execute(select(*columns))
    return {row.sku: dict(row._mapping) for row in result}


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return old is not None and new is not None and Decimal(old).quantize(Decimal("0.01")) == new
    return bool(old == new)


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    """INSERT .. ON CONFLICT (sku) DO UPDATE: batched multi-row statements, not a query per row."""
    table = Product.__table__
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table)
    updatable = [c.name for c in table.columns if c.name not in ("id", "sku", "created_at")]
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.sku], set_={name: statement.excluded[name] for name in updatable}
    )
    session.execute(statement, rows)
