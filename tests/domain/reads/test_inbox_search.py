"""Inbox search: name, phone fragment or message text; on Postgres through the folded, trigram-indexed
columns the triggers keep (accents and case ignored); SQLite keeps the plain LIKE search."""

from __future__ import annotations

from sqlalchemy import text

from s7.db import session_scope
from s7.domain.chats import conversations
from s7.domain.reads import conversation_list, inbox
from tests.chat_factory import customer_says, make_chat


def _found(query: str) -> set[str]:
    with session_scope() as session:
        return {row.wa_id for row in inbox.list_chats(session, 0, query=query)}


def test_search_by_name_phone_and_text_on_both_databases(any_db) -> None:
    with session_scope() as session:
        make_chat(session, wa_id="5491155550001", name="Carla Gómez", text="¿hacen envios a Rosario?")
        make_chat(session, wa_id="5491166660002", name="Diego", text="hola")
        chat = make_chat(session, wa_id="5493517770003", name="Elena", text="buenas")
        customer_says(session, chat, "quiero la campera negra")
    assert _found("rosario") == {"5491155550001"}
    assert _found("Diego") == {"5491166660002"}
    assert _found("6666") == {"5491166660002"}  # a phone fragment
    assert _found("campera negra") == {"5493517770003"}  # any message of the chat, not only the last
    assert _found("100%_") == set()  # wildcards are literal


def test_postgres_folds_accents_both_ways_and_follows_renames(pg_db) -> None:
    assert conversation_list.indexed_search()
    with session_scope() as session:
        chat = make_chat(session, wa_id="5491155550001", name="Lucía Pérez", text="¿Hacen ENVÍOS?")
        chat_id = chat.id
    assert _found("lucia perez") == {"5491155550001"}
    assert _found("envios") == {"5491155550001"}
    assert _found("Envío") == {"5491155550001"}
    with session_scope() as session:
        conversations.ensure_conversation(session, wa_id="5491155550001", name="Lu Gómez")  # profile renamed
        assert conversations.get(session, chat_id).id == chat_id
    assert _found("gomez") == {"5491155550001"}
    assert _found("perez") == set()


def test_every_plan_gives_the_pages_of_a_full_scan(pg_db, monkeypatch) -> None:
    """The statement picks its branch as it runs: a page out of the newest WINDOW chats, a page
    sorted out of at most PROBE matches, or the full newest-first walk. With the knobs set so
    each one runs, every page (with a chip, and the API's offset and total) is what the plain
    scan returns, newest first."""
    with session_scope() as session:
        for i in range(12):
            chat = make_chat(
                session, wa_id=f"54911555600{i:02d}", name=f"Cliente {i}", text="hola" if i % 3 else "hola, rosario"
            )
            chat.lead = "HOT" if i % 2 == 0 else "NONE"
    queries = ("hola", "rosario", "cliente 1", "5560", "xyzzy")

    def pages() -> dict[str, object]:
        found: dict[str, object] = {}
        with session_scope() as session:
            for q in queries:
                for chip in ("all", "hot"):
                    found[f"{chip}:{q}"] = [
                        row.id for row in inbox.list_chats(session, 0, filter_key=chip, query=q, limit=5)
                    ]
                rows, total = conversation_list.list_conversations(
                    session, 0, conversation_list.ConversationFilter(q=q), limit=3, offset=2
                )
                found[f"api:{q}"] = ([row.conversation.id for row in rows], total)
        return found

    monkeypatch.setattr(conversation_list, "INDEXED", False)
    scanned = pages()
    monkeypatch.setattr(conversation_list, "INDEXED", None)
    assert scanned["all:hola"] and len(scanned["all:rosario"]) == 4 and scanned["all:xyzzy"] == []
    # "hola" is in all 12 chats, "rosario" in 4 (2 of the newest 6): with a window of 6, "hola" has
    # its page there, "rosario" is paged from its matches under PROBE 4 and walked over PROBE 3.
    for window, probe in ((6, 100), (6, 4), (6, 3), (100, 3), (1, 1)):
        monkeypatch.setattr(conversation_list, "WINDOW", window)
        monkeypatch.setattr(conversation_list, "PROBE", probe)
        assert pages() == scanned, (window, probe)


def test_quotes_and_backslashes_are_only_text(any_db) -> None:
    """The pattern is written into the SQL text (so the plan fits the word): quoting must hold."""
    with session_scope() as session:
        make_chat(session, wa_id="5491155550001", name="Dario O'Neill", text="precio\\final 50%")
        make_chat(session, wa_id="5491155550002", name="Otro", text="preciofinal 50")
    assert _found("o'neill") == {"5491155550001"}
    assert _found("precio\\final 50%") == {"5491155550001"}
    assert _found("'; DROP TABLE contacts; --") == set()
    assert _found("o'neill") == {"5491155550001"}


def test_the_search_indexes_keep_their_pending_list_short(pg_db) -> None:
    """Every message rewrites its chat's search text; GIN queues that in a pending list that each
    search reads in full (4 MB by default). Migration 0024 keeps it at 256 kB."""
    with session_scope() as session:
        options = dict(
            session.execute(
                text("SELECT relname, reloptions FROM pg_class WHERE relname LIKE 'ix_conversations_search_%'")
            ).all()
        )
    assert options == {
        "ix_conversations_search_name": ["gin_pending_list_limit=256"],
        "ix_conversations_search_doc": ["gin_pending_list_limit=256"],
    }
