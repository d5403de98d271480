"""Quick replies in the panel: managed on their page, inserted with `/` in the composer."""

from __future__ import annotations

from nicegui.testing import User
from sqlalchemy import select

from s7.db import session_scope
from s7.domain.models import Message, QuickReply
from tests.pages.inbox_helpers import customer_says, eventually, make_user, sign_in
from tests.pages.page_helpers import clean_realtime_bus  # noqa: F401 - autouse fixture


async def test_a_seller_saves_a_reply_and_inserts_it_with_slash(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    chat, _ = customer_says("5491100000401", "¿hacen envíos?", name="Juan Pérez")
    await sign_in(user, "Vendedor Uno")
    await user.open("/quick-replies")
    user.find(marker="new-quick-reply").click()
    user.find(marker="qr-shortcut").type("envios")
    user.find(marker="qr-text").type(
        "Hola {nombre}! Soy {vendedor}. El {producto} sale {precio}. Envíos a todo el país."
    )
    user.find(marker="qr-save").click()
    await user.should_see("/envios")
    with session_scope() as session:
        assert session.scalar(select(QuickReply.owner_user_id)) is not None

    await user.open(f"/?chat={chat}")
    user.find(marker="composer").type("/env")
    await user.should_see(marker="quick-envios")
    user.find(marker="quick-envios").click()
    filled = "Hola Juan! Soy Vendedor. Envíos a todo el país."
    with user:
        await eventually(lambda: user.find(marker="composer").elements.pop().value == filled)
    user.find(marker="send").click()
    with session_scope() as session:
        await eventually(lambda: session.scalar(select(Message.text).where(Message.author == "seller")) == filled)
