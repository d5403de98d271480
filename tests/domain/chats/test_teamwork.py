"""Teamwork: @mentions in notes alert the mentioned seller; a chat passed to a colleague with a note."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from s7 import realtime
from s7.db import session_scope
from s7.domain.chats import conversations, teamwork
from s7.domain.chats.conversations import ConversationError, HeldByOther
from s7.domain.models import AuditEvent, Note
from tests.chat_factory import make_chat, make_user


@pytest.fixture
def alerts():  # type: ignore[no-untyped-def]
    events: list[realtime.Event] = []
    realtime.reset()
    realtime.subscribe(events.append)
    yield lambda: [(e.get("reason"), e.get("for_user")) for e in events if e.kind == "alert"]
    realtime.reset()


def test_a_mention_alerts_only_the_mentioned_seller(pg_db, alerts) -> None:
    with session_scope() as session:
        ana, beto = make_user(session, "Ana Gómez"), make_user(session, "Beto Ruiz")
        make_user(session, "Ana Paz")  # a second Ana: "@ana" is ambiguous
        chat = make_chat(session)
        teamwork.add_note(session, chat.id, ana, "@beto fijate el talle. @AnaGomez ya lo vio. @ana? @nadie")
        ids = (ana.id, beto.id)
    assert alerts() == [("mention", ids[1])]  # not the author, not the ambiguous "@ana", nobody else
    with session_scope() as session:
        assert session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "mention")) == {
            "note_id": 1,
            "mentioned": ids[1],
        }


def test_mentions_by_email_name_and_accents(pg_db) -> None:
    with session_scope() as session:
        make_user(session, "José Núñez", email="jnunez@tienda.com")
        assert [u.name for u in teamwork.mentioned(session, "hola @jose")] == ["José Núñez"]
        assert [u.name for u in teamwork.mentioned(session, "hola @JoseNunez")] == ["José Núñez"]
        assert [u.name for u in teamwork.mentioned(session, "hola @jnunez")] == ["José Núñez"]
        assert teamwork.mentioned(session, "mail: jose@tienda.com") == []  # an email is not a mention


def test_transfer_passes_a_held_chat_with_a_note_and_alerts_the_colleague(pg_db, alerts) -> None:
    with session_scope() as session:
        ana, beto, caro = make_user(session, "Ana"), make_user(session, "Beto"), make_user(session, "Caro")
        chat = make_chat(session)
        conversations.takeover(session, chat.id, ana)
        with pytest.raises(HeldByOther):
            teamwork.transfer(session, chat.id, caro, beto.id, "me lo quedo")  # not hers to pass
        with pytest.raises(ConversationError):
            teamwork.transfer(session, chat.id, ana, ana.id)
        teamwork.transfer(session, chat.id, ana, beto.id, "quiere retirar el sábado")
        conversation = conversations.get(session, chat.id)
        assert conversation.assigned_to == beto.id and conversation.mode == "HUMAN_TAKEOVER"
        assert not conversations.held_by_other(conversation, beto.id)  # Beto can write now
        note = session.scalar(select(Note.text).order_by(Note.id.desc()).limit(1))
        assert note == "↪️ Le pasé el chat a Beto: quiere retirar el sábado"
        beto_id = beto.id
    assert ("transfer", beto_id) in alerts()
