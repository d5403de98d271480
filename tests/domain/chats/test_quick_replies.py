"""Quick replies: team-wide and personal, found by `/` + search, variables filled or left out."""

from __future__ import annotations

from decimal import Decimal

import pytest

from s7.db import session_scope
from s7.domain.chats import quick_replies
from s7.domain.chats.quick_replies import QuickReplyError, fill
from s7.domain.models import Product
from tests.chat_factory import make_chat, make_user

GREETING = "¡Hola {nombre}! Soy {vendedor}. El {producto} sale {precio} en 6 cuotas. Te paso el alias: tienda.mp"


def test_variables_are_filled() -> None:
    values = {"nombre": "Juan", "vendedor": "Ana", "producto": "Air Max 90", "precio": "$ 189.999"}
    assert fill(GREETING, values) == (
        "¡Hola Juan! Soy Ana. El Air Max 90 sale $ 189.999 en 6 cuotas. Te paso el alias: tienda.mp"
    )


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        (GREETING, {"vendedor": "Ana"}, "¡Hola! Soy Ana. Te paso el alias: tienda.mp"),
        ("Hola {nombre}, ¿cómo estás?", {}, "Hola, ¿cómo estás?"),
        ("Precios:\n{producto}: {precio}\nSaludos, {vendedor}", {"vendedor": "Ana"}, "Precios:\nSaludos, Ana"),
        ("{producto} a {precio}", {}, ""),
    ],
)
def test_variables_with_nothing_to_fill_are_left_out_never_raw(text: str, values: dict, expected: str) -> None:
    filled = fill(text, values)
    assert filled == expected
    assert "{" not in filled and "}" not in filled


def test_the_product_under_discussion_fills_producto_and_precio(pg_db) -> None:
    with session_scope() as session:
        ana = make_user(session, "Ana Gómez")
        session.add(Product(sku="AM90", name="Nike Air Max 90", price=Decimal("189999.50"), stock=3))
        chat = make_chat(session, name="Juan Pérez")
        assert quick_replies.context_for(session, chat.id, ana) == {"vendedor": "Ana", "nombre": "Juan"}
        chat.bot_state = {"focus": "AM90"}
        session.flush()
        values = quick_replies.context_for(session, chat.id, ana)
        assert values["producto"] == "Nike Air Max 90" and values["precio"] == "$ 189.999,50"


def test_team_and_personal_replies_found_by_shortcut_then_text(pg_db) -> None:
    with session_scope() as session:
        ana, beto, jefa = make_user(session, "Ana"), make_user(session, "Beto"), make_user(session, "Jefa", "admin")
        quick_replies.save(session, jefa, "/envios", "Hacemos envíos a todo el país", team=True)
        quick_replies.save(session, jefa, "alias", "El alias es tienda.mp", team=True)
        quick_replies.save(session, ana, "envios", "Te lo mando por Andreani, {nombre}")
        quick_replies.save(session, beto, "horario", "Abrimos de 9 a 19")
        with pytest.raises(QuickReplyError):
            quick_replies.save(session, ana, "equipo", "x", team=True)  # only admins write team replies
        with pytest.raises(QuickReplyError):
            quick_replies.save(session, ana, "envios", "otra")  # her shortcut is taken
        with pytest.raises(QuickReplyError):
            quick_replies.save(session, ana, "saludo", "Hola {cliente}")  # would print raw
        with pytest.raises(QuickReplyError):
            quick_replies.save(session, ana, "con espacio", "x")
        mine = quick_replies.available(session, ana.id)
        assert [(r.shortcut, r.personal) for r in mine] == [("alias", False), ("envios", True)]
        assert [r.shortcut for r in quick_replies.available(session, beto.id, "/env")] == ["envios"]
        assert quick_replies.available(session, beto.id, "env")[0].personal is False
        assert [r.shortcut for r in quick_replies.available(session, beto.id, "pais")] == ["envios"]  # text
        team_reply = quick_replies.available(session, beto.id, "alias")[0]
        with pytest.raises(QuickReplyError):
            quick_replies.delete(session, beto, team_reply.id)
        quick_replies.delete(session, jefa, team_reply.id)
        assert quick_replies.available(session, beto.id, "alias") == []
