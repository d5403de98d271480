"""Find any chat fast: the inbox search at 50k chats / 500k messages on Postgres, indexed vs ILIKE.

    .venv/bin/python -m bench.inbox_search [--chats 50000] [--messages 10] [--runs 5]

A throwaway database of `--chats` conversations with `--messages` messages each (bulk-loaded with
the search triggers off, then the migration's own backfill), then one page of 50 as the panel's
chat list reads it (`inbox.list_chats`, the same filter as GET /api/conversations) for a mix of
names, phone fragments (≥ 4 digits) and words of ≥ 3 letters, common ones included, timed twice
in the same run: through the trigram-indexed folded columns (migrations 0018, 0024) and through
the old ILIKE over names and every message. Prints p50/p95 per query and per class of query
(common word, name, phone, no match) and the overall p95. Goal: indexed p95 ≤ 20 ms.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select, text

from bench.results import quantile, report
from s7.clock import now
from s7.config import reset_settings
from s7.db import get_engine, migrate, reset_engine, session_scope
from s7.domain.models import Contact, Conversation, Message
from s7.domain.reads import conversation_list, inbox
from tests.conftest import create_pg_database, drop_pg_database, make_settings

FIRST = [
    "Carla",
    "Diego",
    "Elena",
    "Federico",
    "Gabriela",
    "Hugo",
    "Iris",
    "Juan",
    "Karina",
    "Lucía",
    "Martín",
    "Noelia",
]
LAST = ["Pérez", "Gómez", "Rodríguez", "Fernández", "López", "Díaz", "Martínez", "Sosa", "Romero", "Álvarez"]
TEXTS = [
    "hola",
    "hola, ¿tienen zapatillas nike?",
    "¿en cuotas sin interés?",
    "me lo llevo",
    "¿hacen envíos a Córdoba?",
    "gracias!",
    "¿qué talles tienen de las Air Max?",
    "paso a buscarlo mañana",
    "¿cuánto sale el envío a Rosario?",
    "te transfiero ahora",
    "¿tienen la campera negra en M?",
    "buenas tardes",
]
# (query, class): the per-class figures say which kind of search is slow.
QUERIES = [
    ("hola", "common word"),  # in most chats
    ("gracias", "common word"),
    ("envío", "common word"),  # accents folded: matches "envío" and "envio"
    ("cuotas", "common word"),
    ("campera negra", "common word"),
    ("rosario", "common word"),
    ("zapatillas", "common word"),
    ("Pérez", "name"),  # one chat in ten
    ("lucia gomez", "name"),  # one in 120
    ("martin sosa 12", "name"),  # a handful
    ("5491100123", "phone"),  # every phone starts 54911: the shared prefix, nothing after it
    ("0045", "phone"),  # ~1300 phones and names
    ("77712", "phone"),  # none
    ("xyzzy", "no match"),
]
CLASSES = ["common word", "name", "phone", "no match"]
LIVE_MESSAGES = 3000  # arrive through the triggers after the load: the indexes as they live


def _migration_backfill() -> str:
    path = Path(__file__).resolve().parents[1] / "migrations" / "versions" / "20261130_0018_inbox_search.py"
    spec = importlib.util.spec_from_file_location("m0018", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BACKFILL


def populate(chats: int, per_chat: int) -> None:
    rng = random.Random(17)
    at = now() - timedelta(days=2)
    with session_scope() as session:
        for trigger in ("messages DISABLE TRIGGER s7_messages_search", "contacts DISABLE TRIGGER s7_contacts_search"):
            session.execute(text(f"ALTER TABLE {trigger}"))
        session.execute(text("ALTER TABLE conversations DISABLE TRIGGER s7_conversations_search"))
        for start in range(0, chats, 10_000):
            session.execute(
                insert(Contact),
                [
                    {"wa_id": f"54911{i:08d}", "name": f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}", "created_at": at}
                    for i in range(start, min(chats, start + 10_000))
                ],
            )
        contact_ids = session.scalars(select(Contact.id).order_by(Contact.id)).all()
        for start in range(0, len(contact_ids), 10_000):
            session.execute(
                insert(Conversation),
                [
                    {
                        "contact_id": cid,
                        "mode": "BOT_ON",
                        "lead": "NONE",
                        "intent_score": 0,
                        "bot_state": {},
                        "last_customer_at": at,
                        "last_message_at": at + timedelta(seconds=i),
                        "created_at": at,
                        "updated_at": at,
                    }
                    for i, cid in enumerate(contact_ids[start : start + 10_000], start=start)
                ],
            )
        conversation_ids = session.scalars(select(Conversation.id)).all()
        batch: list[dict] = []
        for cid in conversation_ids:
            for j in range(per_chat):
                batch.append(
                    {
                        "conversation_id": cid,
                        "direction": "in" if j % 2 == 0 else "out",
                        "author": "customer" if j % 2 == 0 else "bot",
                        "type": "text",
                        "text": rng.choice(TEXTS) if j % 2 == 0 else "¡Claro! Te paso opciones.",
                        "options": [],
                        "status": "received" if j % 2 == 0 else "sent",
                        "created_at": at,
                        "edited": False,
                        "revoked": False,
                    }
                )
            if len(batch) >= 20_000:
                session.execute(insert(Message), batch)
                batch = []
        if batch:
            session.execute(insert(Message), batch)
        session.execute(text(_migration_backfill()))
        for table in ("messages", "contacts", "conversations"):
            session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER ALL"))
    # What autovacuum does after a bulk load, then some live traffic through the triggers, so the
    # GIN indexes carry the pending list they have in use (searches read it in full).
    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    with session_scope() as session:
        session.execute(
            insert(Message),
            [
                {
                    "conversation_id": rng.choice(conversation_ids),
                    "direction": "in",
                    "author": "customer",
                    "type": "text",
                    "text": rng.choice(TEXTS),
                    "options": [],
                    "status": "received",
                    "created_at": now(),
                    "edited": False,
                    "revoked": False,
                }
                for _ in range(LIVE_MESSAGES)
            ],
        )


def pending_pages() -> int:
    """Pages in the search indexes' GIN pending lists (each search reads them all)."""
    with session_scope() as session:
        session.execute(text("CREATE EXTENSION IF NOT EXISTS pgstattuple"))
        return sum(
            session.scalar(text(f"SELECT pending_pages FROM pgstatginindex('{index}'::regclass)")) or 0
            for index in ("ix_conversations_search_name", "ix_conversations_search_doc")
        )


def time_queries(viewer_id: int, runs: int) -> dict[str, list[float]]:
    """Milliseconds per query, `runs` times each, as the panel reads a page (its own session)."""
    with session_scope() as session:  # a warm connection for both ways alike
        inbox.list_chats(session, viewer_id, limit=50)
    samples: dict[str, list[float]] = {}
    for query, _ in QUERIES:
        mine = samples.setdefault(query, [])
        for _ in range(runs):
            with session_scope() as session:
                started = time.perf_counter()
                inbox.list_chats(session, viewer_id, query=query, limit=50)
                mine.append((time.perf_counter() - started) * 1000)
    return samples


def _by_class(samples: dict[str, list[float]]) -> dict[str, list[float]]:
    grouped: dict[str, list[float]] = {kind: [] for kind in CLASSES}
    for query, kind in QUERIES:
        grouped[kind] += samples[query]
    return grouped


def run(chats: int, per_chat: int, runs: int) -> None:
    url = create_pg_database("s7_bench_search")
    reset_settings(make_settings(DATABASE_URL=url))
    reset_engine()
    try:
        migrate()
        started = time.perf_counter()
        populate(chats, per_chat)
        took = time.perf_counter() - started
        print(f"{chats} chats × {per_chat} messages (+{LIVE_MESSAGES} live) loaded in {took:.1f} s")
        print(f"GIN pending lists: {pending_pages()} pages")
        with session_scope() as session:
            found = inbox.list_chats(session, 0, query="envio", limit=50)
            assert found, "the indexed search finds nothing: the backfill or the triggers are broken"
        conversation_list.INDEXED = True
        indexed = time_queries(0, runs)
        conversation_list.INDEXED = False
        scanned = time_queries(0, max(1, runs // 2))
        conversation_list.INDEXED = None
        print(f"{'query':<16} {'class':<12} {'indexed p50':>12} {'p95':>8} {'ILIKE p50':>11}")
        for query, kind in QUERIES:
            mine, old = indexed[query], scanned[query]
            print(
                f"{query:<16} {kind:<12} {quantile(mine, 0.5):>9.1f} ms {quantile(mine, 0.95):>5.1f} ms"
                f" {quantile(old, 0.5):>8.1f} ms"
            )
        print(f"{'class':<16} {'indexed p50':>12} {'p95':>8} {'ILIKE p50':>11} {'p95':>8}")
        new_by, old_by = _by_class(indexed), _by_class(scanned)
        for kind in CLASSES:
            mine, old = new_by[kind], old_by[kind]
            print(
                f"{kind:<16} {quantile(mine, 0.5):>9.1f} ms {quantile(mine, 0.95):>5.1f} ms"
                f" {quantile(old, 0.5):>8.1f} ms {quantile(old, 0.95):>5.1f} ms"
            )
        every = [ms for values in indexed.values() for ms in values]
        every_old = [ms for values in scanned.values() for ms in values]
        p95, old = quantile(every, 0.95), quantile(every_old, 0.95)
        report(
            f"inbox search page p95 at {chats // 1000}k chats",
            p95,
            "ms",
            goal="≤ 20 ms",
            ok=p95 <= 20,
            baseline=f"ILIKE today: {old:.0f} ms p95 ({old / p95:.0f}× slower)",
            note=f"{chats * per_chat} messages, {len(QUERIES)} queries × {runs}, p50 {quantile(every, 0.5):.1f} ms",
        )
    finally:
        conversation_list.INDEXED = None
        reset_engine()
        reset_settings(None)
        drop_pg_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=50_000)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    run(args.chats, args.messages, args.runs)


if __name__ == "__main__":
    main()
