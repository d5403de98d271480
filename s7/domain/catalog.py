"""The catalog: import (parse, clean, upsert, report) and search (ranking). One service behind
`s7 import-catalog`, `POST /api/catalog/import`, the admin upload page, the bot, the search API
and the panel.

Cleaning rules live in `catalog_clean`, the ranking machinery in `catalog_index`; this module
owns the database side and the public API.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from s7.clock import now
from s7.domain.catalog_clean import CatalogError, RowError, clean_record, read_records
from s7.domain.catalog_index import IndexedProduct, SearchIndex
from s7.domain.models import Product

__all__ = [
    "CatalogError",
    "ImportReport",
    "RejectedRow",
    "SearchHit",
    "SearchHits",
    "import_catalog",
    "import_path",
    "invalidate_index",
    "products_by_sku",
    "search",
]

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
    for row, raw in records:
        try:
            values = clean_record(raw)
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


# ---- search -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchHit:
    id: int
    sku: str
    name: str
    brand: str | None
    category: str | None
    price: Decimal
    currency: str
    stock: int
    installments: int | None
    popularity: int
    attributes: dict[str, Any]
    description: str | None
    image_url: str | None
    url: str | None
    score: int  # 0..100: how much of the query this product matches

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @classmethod
    def from_product(cls, product: Product, score: int) -> SearchHit:
        return cls(
            id=product.id,
            sku=product.sku,
            name=product.name,
            brand=product.brand,
            category=product.category,
            price=product.price,
            currency=product.currency,
            stock=product.stock,
            installments=product.installments,
            popularity=product.popularity,
            attributes=dict(product.attributes or {}),
            description=product.description,
            image_url=product.image_url,
            url=product.url,
            score=score,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["price"] = float(self.price)
        data["in_stock"] = self.in_stock
        return data


class SearchHits(list[SearchHit]):
    """Ranked hits (in stock first, then match, then popularity), plus `best`: the closest match
    by quality alone, so a caller can tell "the one you asked for is out of stock"."""

    best: SearchHit | None = None


def search(session: Session, query: str, *, limit: int = 3, in_stock_only: bool = False) -> SearchHits:
    """THE catalog search: bot, API and panel all call this."""
    for attempt in range(2):
        index = _index_for(session)
        ranking = index.rank(query, limit=limit, in_stock_only=in_stock_only)
        wanted = list(ranking.matches)
        if ranking.best is not None:
            wanted.append(ranking.best)
        # populate_existing: an import's bulk statements bypass the session's identity map, and
        # stale objects there would quote yesterday's price or stock.
        statement = select(Product).where(Product.id.in_({m.product_id for m in wanted}))
        rows = {p.id: p for p in session.scalars(statement.execution_options(populate_existing=True))}
        if all((p := rows.get(m.product_id)) is not None and p.sku == m.sku and p.active for m in wanted):
            hits = SearchHits(
                SearchHit.from_product(rows[m.product_id], round(m.quality * 100)) for m in ranking.matches
            )
            if ranking.best is not None:
                hits.best = SearchHit.from_product(rows[ranking.best.product_id], round(ranking.best.quality * 100))
            return hits
        # The index is older than the table (another replica imported, or tests reset it).
        if attempt == 0:
            invalidate_index()
    return SearchHits()


def products_by_sku(session: Session, skus: list[str]) -> dict[str, SearchHit]:
    """Current data of active products (the bot re-reads what it offered before quoting it)."""
    if not skus:
        return {}
    statement = select(Product).where(Product.sku.in_(skus), Product.active.is_(True))
    rows = session.scalars(statement.execution_options(populate_existing=True))
    return {p.sku: SearchHit.from_product(p, 100) for p in rows}


# ---- the in-memory index, per database ----------------------------------------------------------
_RECHECK_SECONDS = 30.0  # bounds how stale another replica's import can leave this process
_indexes: dict[str, _CachedIndex] = {}
_indexes_lock = threading.Lock()


@dataclass
class _CachedIndex:
    index: SearchIndex
    fingerprint: tuple[Any, ...]
    checked_at: float


def invalidate_index() -> None:
    """Forget every built index; the next search rebuilds from the database."""
    with _indexes_lock:
        _indexes.clear()


def _fingerprint(session: Session) -> tuple[Any, ...]:
    row = session.execute(
        select(func.count(), func.max(Product.id), func.max(Product.updated_at)).where(Product.active.is_(True))
    ).one()
    return tuple(row)


def _index_for(session: Session) -> SearchIndex:
    key = str(session.get_bind().url)
    cached = _indexes.get(key)
    if cached is not None:
        if time.monotonic() - cached.checked_at < _RECHECK_SECONDS:
            return cached.index
        if _fingerprint(session) == cached.fingerprint:
            cached.checked_at = time.monotonic()
            return cached.index
    with _indexes_lock:
        cached = _indexes.get(key)
        if cached is not None and time.monotonic() - cached.checked_at < _RECHECK_SECONDS:
            return cached.index
        fingerprint = _fingerprint(session)
        index = _build_index(session)
        _indexes[key] = _CachedIndex(index, fingerprint, time.monotonic())
        return index


def _build_index(session: Session) -> SearchIndex:
    started = time.perf_counter()
    rows = session.execute(
        select(
            Product.id,
            Product.sku,
            Product.name,
            Product.brand,
            Product.category,
            Product.attributes,
            Product.stock,
            Product.popularity,
        ).where(Product.active.is_(True))
    )
    index = SearchIndex(IndexedProduct(*row) for row in rows)
    log.info("search index: %d products in %.2f s", len(index), time.perf_counter() - started)
    return index
