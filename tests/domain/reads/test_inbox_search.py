"""Inbox search: name, phone fragment or message text; on Postgres through the folded, trigram-indexed
columns the triggers keep (accents and case ignored); SQLite keeps the plain LIKE search."""

from __future__ import annotations

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


def test_a_common_word_and_a_rare_one_give_the_same_pages_as_a_full_scan(pg_db, monkeypatch) -> None:
    """The probe picks a plan (ids of a rare word, newest-first walk for a common one); both must
    return exactly what the plain scan returns, newest first."""
    with session_scope() as session:
        for i in range(12):
            make_chat(
                session, wa_id=f"54911555600{i:02d}", name=f"Cliente {i}", text="hola" if i % 3 else "hola, rosario"
            )
    monkeypatch.setattr(conversation_list, "PROBE", 3)  # "hola" (12 chats) is common, "rosario" (4) is rare

    def page(query: str) -> list[int]:
        with session_scope() as session:
            return [row.id for row in inbox.list_chats(session, 0, query=query, limit=5)]

    indexed = {q: page(q) for q in ("hola", "rosario")}
    monkeypatch.setattr(conversation_list, "INDEXED", False)
    assert indexed == {q: page(q) for q in ("hola", "rosario")}
    assert len(indexed["hola"]) == 5 and len(indexed["rosario"]) == 4
