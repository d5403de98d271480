"""The catalog: import (parse, clean, upsert, report) and the one search behind bot, API and panel."""

from s7.domain.catalog.clean import CatalogError
from s7.domain.catalog.importer import ImportReport, RejectedRow, import_catalog, import_path
from s7.domain.catalog.search import (
    SearchHit,
    SearchHits,
    categories,
    invalidate_index,
    products_by_sku,
    search,
)

__all__ = [
    "CatalogError",
    "ImportReport",
    "RejectedRow",
    "SearchHit",
    "SearchHits",
    "categories",
    "import_catalog",
    "import_path",
    "invalidate_index",
    "products_by_sku",
    "search",
]
