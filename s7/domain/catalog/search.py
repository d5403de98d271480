"""THE catalog search (ranking in `index`): the bot, the search API and the panel all call `search`."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from s7.domain.catalog.index import IndexedProduct, SearchIndex, load_settings, with_vocabulary
from s7.domain.models import Product
from s7.domain.text_es import fold

log = logging.getLogger(__name__)


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
    def from_product(cls, product: Product | Row[Any], score: int) -> SearchHit:
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
    dropped: list[str] = []  # the customer's words no product has ("puma" when no Puma is sold)
    matched: list[str] = []  # the customer's words the closest product has
    unknown_head: str | None = None  # the thing asked for, when nothing like it is sold
    for_other: list[str] = []  # what it is for, naming a kind of product the closest one is not for


def search(session: Session, query: str, *, limit: int = 3, in_stock_only: bool = False) -> SearchHits:
    """THE catalog search: bot, API and panel all call this."""
    for attempt in range(2):
        index = _index_for(session)
        ranking = index.rank(query, limit=limit, in_stock_only=in_stock_only)
        wanted = list(ranking.matches)
        if ranking.best is not None:
            wanted.append(ranking.best)
        # Plain rows, not ORM objects: always what the table says now (an import's bulk
        # statements bypass the session's identity map), and a fraction of the cost per turn.
        statement = select(*_HIT_COLUMNS).where(Product.id.in_({m.product_id for m in wanted}))
        rows = {p.id: p for p in session.execute(statement)}
        if all((p := rows.get(m.product_id)) is not None and p.sku == m.sku and p.active for m in wanted):
            hits = SearchHits(
                SearchHit.from_product(rows[m.product_id], round(m.quality * 100)) for m in ranking.matches
            )
            if ranking.best is not None:
                hits.best = SearchHit.from_product(rows[ranking.best.product_id], round(ranking.best.quality * 100))
            hits.dropped, hits.matched, hits.unknown_head = ranking.dropped, ranking.matched, ranking.unknown_head
            hits.for_other = ranking.for_other
            return hits
        # The index is older than the table (another replica imported, or tests reset it).
        if attempt == 0:
            invalidate_index()
    return SearchHits()


def categories(session: Session, limit: int = 6) -> list[str]:
    """What the store sells (in-stock categories, most listings first), folded to lower case."""
    seen: dict[str, str] = {}
    for label in _index_for(session).categories:
        seen.setdefault(" ".join(fold(label)), label)
    return list(seen.values())[:limit]


def products_by_sku(session: Session, skus: list[str]) -> dict[str, SearchHit]:
    """Current data of active products (the bot re-reads what it offered before quoting it)."""
    if not skus:
        return {}
    rows = session.execute(select(*_HIT_COLUMNS).where(Product.sku.in_(skus), Product.active.is_(True)))
    return {p.sku: SearchHit.from_product(p, 100) for p in rows}


# What a hit carries (`SearchHit.from_product` reads these off a Product or a row alike).
_HIT_COLUMNS = (
    Product.id,
    Product.sku,
    Product.active,
    Product.name,
    Product.brand,
    Product.category,
    Product.price,
    Product.currency,
    Product.stock,
    Product.installments,
    Product.popularity,
    Product.attributes,
    Product.description,
    Product.image_url,
    Product.url,
)


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
    from s7.domain.store import profile  # local: the store profile imports catalog to invalidate it

    row = session.execute(
        select(func.count(), func.max(Product.id), func.max(Product.updated_at)).where(Product.active.is_(True))
    ).one()
    return (*row, profile.updated_at(session))  # the store's own search words are part of the index


def warm(session: Session) -> None:
    """Build the index now, so a process that will search soon pays for it up front. The first
    real search still checks that it is current (a catalog imported meanwhile by another process
    must not wait `_RECHECK_SECONDS` to be seen)."""
    _index_for(session)
    cached = _indexes.get(str(session.get_bind().url))
    if cached is not None:
        cached.checked_at = float("-inf")


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
    from s7.domain.store import profile

    settings = with_vocabulary(load_settings(), profile.load(session).vocabulary())
    index = SearchIndex((IndexedProduct(*row) for row in rows), settings)
    log.info("search index: %d products in %.2f s", len(index), time.perf_counter() - started)
    return index
