"""Catalog benchmark: import and search a generated 50k-product catalog.

    .venv/bin/python -m bench.search            # throwaway SQLite file
    .venv/bin/python -m bench.search --postgres # throwaway database on S7_TEST_PG_URL's server

Prints import time (target ≤ 20 s), search p50/p95 through `catalog.search` (target p95 ≤ 10 ms,
database read of the hits included) and, measured in the same run over the same names, bare
rapidfuzz `process.extract(query, names, limit=3)` for scale. Exits 1 when a target is missed.
It never touches the configured DATABASE_URL.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from rapidfuzz import process

from bench.catalog_gen import generate_products
from bench.results import report as bench_report
from s7.config import Settings, reset_settings
from s7.db import migrate, reset_engine, session_scope
from s7.domain import catalog

IMPORT_TARGET_S = 20.0
SEARCH_P95_TARGET_MS = 10.0
QUERIES = [
    "zapatillas nike", "zapatiyas adidas negras", "air max 90", "zapas puma talle 42", "new balance 574",
    "celu samsung", "samsumg galaxy a55 256gb", "iphone 15 pro", "motorola g54", "redmi note 13",
    "play 5", "ps5 digital", "xbox series s", "nintendo switch oled", "joystick dualsense",
    "auriculares jbl", "auris bluetooth", "notebook lenovo 16gb", "notebok i7", "smart tv 55",
    "tele samsung 50", "buzo", "hoodie negro", "remera adidas blanca", "campera de jean",
    "jean levis 501", "mochila jansport", "freidora de aire", "heladera no frost", "cafetera atma",
    "parlante", "reloj", "zapatillas", "negro", "heladera samsung", "qwerty",
]  # fmt: skip


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def run(count: int, rounds: int) -> bool:
    products = generate_products(count)
    data = json.dumps({"products": products}, ensure_ascii=False).encode()
    print(f"catalog: {count} products, {len(data) / 1e6:.1f} MB of JSON")

    started = time.perf_counter()
    with session_scope() as session:
        report = catalog.import_catalog(session, data, "bench.json")
    import_s = time.perf_counter() - started
    print(f"import (all new):        {import_s:6.2f} s   {report.summary()}")

    for product in products[::10]:  # a price list update: 10 % of the rows change
        product["price"] = round(product["price"] * 1.07, 2)
    changed = json.dumps({"products": products}, ensure_ascii=False).encode()
    started = time.perf_counter()
    with session_scope() as session:
        report = catalog.import_catalog(session, changed, "bench.json")
    reimport_s = time.perf_counter() - started
    print(f"re-import (10% changed): {reimport_s:6.2f} s   {report.summary()}")

    with session_scope() as session:
        started = time.perf_counter()
        catalog.search(session, "zapatillas")  # builds the in-memory index
        print(f"index build (first search after an import): {time.perf_counter() - started:.2f} s")
        ours = [ms for _ in range(rounds) for q in QUERIES for ms in timed(lambda q=q: catalog.search(session, q), 1)]

    names = [p["name"] for p in products]
    bare = [
        ms for _ in range(max(1, rounds // 10)) for q in QUERIES
        for ms in timed(lambda q=q: process.extract(q, names, limit=3), 1)
    ]  # fmt: skip

    p50, p95 = percentile(ours, 0.50), percentile(ours, 0.95)
    bare50, bare95 = percentile(bare, 0.50), percentile(bare, 0.95)
    print(f"search  catalog.search:           p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  ({len(ours)} queries)")
    print(f"search  rapidfuzz process.extract: p50 {bare50:6.2f} ms  p95 {bare95:6.2f} ms  ({len(bare)} queries)")
    print(f"ratio (rapidfuzz / ours):          p50 {bare50 / p50:6.1f}x    p95 {bare95 / p95:6.1f}x")
    print(f"mean catalog.search {statistics.fmean(ours):.2f} ms, max {max(ours):.2f} ms")

    bench_report(
        f"search p95 at {count // 1000}k products",
        p95,
        "ms",
        goal=f"≤ {SEARCH_P95_TARGET_MS:.0f}",
        ok=p95 <= SEARCH_P95_TARGET_MS,
        baseline=f"bare rapidfuzz p95 {bare95:.0f} ms ({bare95 / p95:.0f}x)",
    )
    bench_report(
        f"catalog import of {count // 1000}k products",
        import_s,
        "s",
        goal=f"≤ {IMPORT_TARGET_S:.0f}",
        ok=import_s <= IMPORT_TARGET_S,
        note=f"re-import 10% changed {reimport_s:.1f} s",
    )
    ok = import_s <= IMPORT_TARGET_S and p95 <= SEARCH_P95_TARGET_MS
    verdict = "OK" if ok else "MISSED"
    print(f"targets: import ≤ {IMPORT_TARGET_S:.0f} s, search p95 ≤ {SEARCH_P95_TARGET_MS:.0f} ms → {verdict}")
    return ok


def _settings(url: str) -> Settings:
    return Settings(_env_file=None, DATABASE_URL=url, ENABLE_JOBS=False)  # type: ignore[call-arg]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=20, help="passes over the query list")
    parser.add_argument("--postgres", action="store_true", help="use a throwaway Postgres database")
    args = parser.parse_args(argv)

    drop: Callable[[], None] = lambda: None  # noqa: E731
    if args.postgres:
        import psycopg

        admin = os.environ.get("S7_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        name = f"s7_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"{admin.rsplit('/', 1)[0]}/{name}"

        def drop() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='s7-bench-')) / 'bench.db'}"
    print(f"database: {'Postgres (throwaway)' if args.postgres else 'SQLite (throwaway file)'}")
    reset_settings(_settings(url))
    reset_engine()
    try:
        migrate()
        ok = run(args.products, args.rounds)
    finally:
        reset_engine()
        drop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
