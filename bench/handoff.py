"""The handoff's hot paths on a store-sized Postgres: the API's chat list, a takeover, the sweep.

    .venv/bin/python -m bench.handoff [--chats 5000] [--messages 10]

A throwaway database with `--chats` conversations of `--messages` messages each (bulk-inserted),
then, in this process through the domain functions the API and jobs call:
- list: one page of 50 as GET /api/conversations builds it (unread per viewer, total count), for
  the usual filters and searches. Goal p95 ≤ 100 ms.
- takeover: one seller takes a chat and releases it, each its own transaction. Goal p95 ≤ 20 ms.
- sweep: 400 HOT chats nobody took → HOT_LOST + the bot's message each. Goal ≤ 20 ms per chat, so
  a full batch (200) takes ≤ 4 s, far inside the default 30 s between runs.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import timedelta

from sqlalchemy import insert, select

from bench.results import quantile, report
from s7.clock import now
from s7.config import reset_settings
from s7.db import migrate, reset_engine, session_scope
from s7.domain.chats import conversations, followups
from s7.domain.models import Contact, Conversation, Message, User
from s7.domain.reads import conversation_list
from tests.chat_factory import make_user
from tests.conftest import create_pg_database, drop_pg_database, make_settings

NAMES = ["Carla", "Diego", "Elena", "Fede", "Gabi", "Hugo", "Iris", "Juan", "Kari", "Lola"]
TEXTS = ["hola", "¿tienen zapatillas nike?", "¿en cuotas?", "me lo llevo", "¿hacen envíos?", "gracias"]


def populate(chats: int, per_chat: int, seller_ids: list[int]) -> None:
    rng = random.Random(7)
    at = now() - timedelta(hours=2)
    with session_scope() as session:
        session.execute(
            insert(Contact),
            [{"wa_id": f"549110{i:07d}", "name": f"{rng.choice(NAMES)} {i}", "created_at": at} for i in range(chats)],
        )
        contact_ids = session.scalars(select(Contact.id).order_by(Contact.id)).all()
        session.execute(
            insert(Conversation),
            [
                {
                    "contact_id": cid,
                    "mode": rng.choice(["BOT_ON", "BOT_ON", "HUMAN_TAKEOVER"]),
                    "lead": rng.choice(["NONE", "NONE", "WARM", "HOT", "HOT_LOST"]),
                    "intent_score": 0,
                    "assigned_to": rng.choice([None, *seller_ids]),
                    "bot_state": {},
                    "last_customer_at": at,
                    "last_message_at": at + timedelta(seconds=i),
                    "created_at": at,
                    "updated_at": at,
                    "last_human_at": at,
                }
                for i, cid in enumerate(contact_ids)
            ],
        )
        conversation_ids = session.scalars(select(Conversation.id)).all()
        rows = [
            {
                "conversation_id": cid,
                "direction": "in" if j % 2 == 0 else "out",
                "author": "customer" if j % 2 == 0 else "bot",
                "type": "text",
                "text": rng.choice(TEXTS),
                "options": [],
                "status": "received" if j % 2 == 0 else "sent",
                "created_at": at,
                "edited": False,
                "revoked": False,
            }
            for cid in conversation_ids
            for j in range(per_chat)
        ]
        for start in range(0, len(rows), 10_000):
            session.execute(insert(Message), rows[start : start + 10_000])


def time_ms(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def run(chats: int, per_chat: int) -> None:
    url = create_pg_database("s7_bench_handoff")
    reset_settings(make_settings(DATABASE_URL=url))
    reset_engine()
    try:
        migrate()
        with session_scope() as session:
            sellers = [make_user(session, f"Vendedor {i}") for i in range(3)]
            seller_ids = [s.id for s in sellers]
        started = time.perf_counter()
        populate(chats, per_chat, seller_ids)
        print(f"{chats} chats × {per_chat} messages loaded in {time.perf_counter() - started:.1f} s")

        F = conversation_list.ConversationFilter  # noqa: N806
        cases = {
            "all": F(),
            "lead=HOT": F(leads=("HOT",)),
            "mine": F(assigned_to=seller_ids[0]),
            "q=name": F(q="carla 12"),
            "q=phone": F(q="+54 9 11 000 12"),
            "q=text": F(q="envíos"),
            "unread": F(unread_only=True),
        }
        all_list: list[float] = []
        for label, wanted in cases.items():
            samples = []
            for _ in range(15):
                with session_scope() as session:
                    samples.append(
                        time_ms(
                            lambda s=session, w=wanted: conversation_list.list_conversations(
                                s, seller_ids[0], w, limit=50
                            )
                        )
                    )
            all_list += samples
            print(f"list {label:10s} p50 {quantile(samples, 0.5):6.1f} ms  p95 {quantile(samples, 0.95):6.1f} ms")
        report(
            "handoff list page p95",
            quantile(all_list, 0.95),
            "ms",
            goal="≤ 100 ms",
            ok=quantile(all_list, 0.95) <= 100,
            note=f"{chats} chats, {chats * per_chat} messages",
        )

        with session_scope() as session:
            free = session.scalars(select(Conversation.id).where(Conversation.mode == "BOT_ON").limit(100)).all()
        cycle: list[float] = []
        for chat_id in free:

            def take_and_release(chat_id: int = chat_id) -> None:
                with session_scope() as session:
                    conversations.takeover(session, chat_id, session.get(User, seller_ids[1]))
                with session_scope() as session:
                    conversations.release_to_bot(session, chat_id, actor_user=session.get(User, seller_ids[1]))

            cycle.append(time_ms(take_and_release) / 2)
        report("takeover transaction p95", quantile(cycle, 0.95), "ms", goal="≤ 20 ms", ok=quantile(cycle, 0.95) <= 20)

        with session_scope() as session:
            hot = session.scalars(select(Conversation).where(Conversation.mode == "BOT_ON").limit(400)).all()
            for chat in hot:
                chat.lead, chat.last_customer_at = "HOT", now()
                chat.awaiting_human_since = now() - timedelta(minutes=11)
        swept = 0
        started = time.perf_counter()
        while True:
            with session_scope() as session:
                done = followups.sweep_unclaimed_hot_leads(session, now())
            if not done:
                break
            swept += done
        per_chat_ms = (time.perf_counter() - started) * 1000 / max(swept, 1)
        report(
            "HOT_LOST sweep per chat",
            per_chat_ms,
            "ms",
            goal="≤ 20 ms",
            ok=per_chat_ms <= 20,
            note=f"{swept} chats, message + audit + claim each",
        )
    finally:
        reset_engine()
        reset_settings(None)
        drop_pg_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=5000)
    parser.add_argument("--messages", type=int, default=10)
    args = parser.parse_args()
    run(args.chats, args.messages)


if __name__ == "__main__":
    main()
