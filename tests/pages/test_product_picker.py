"""Product cards from the composer (user simulation): the bot's search, the bot's card, as the seller."""

from __future__ import annotations

from nicegui.testing import User
from sqlalchemy import select

from s7.db import session_scope
from s7.domain import catalog
from s7.domain.chats import quick_replies
from s7.domain.models import Conversation, Message
from s7.domain.models import User as UserRow
from tests.pages.inbox_helpers import customer_says, eventually, make_user, sign_in
from tests.pages.page_helpers import clean_realtime_bus  # noqa: F401 - autouse fixture


def _sent() -> list[tuple[str, str, str]]:
    with session_scope() as session:
        rows = session.scalars(select(Message).where(Message.author == "seller").order_by(Message.id))
        return [(m.type, m.text or "", str(len(m.options or []))) for m in rows]


async def test_a_seller_finds_a_product_and_sends_its_card(pg_db, user: User) -> None:
    with session_scope() as session:
        catalog.import_path(session, "catalog/demo.json")
    seller = make_user("Vendedor Uno")
    chat, _ = customer_says("5491100000801", "¿tienen las air max blancas?", name="Sofía")
    await sign_in(user, "Vendedor Uno")
    await user.open(f"/?chat={chat}")
    user.find(marker="product-open").click()
    await user.should_see("Mandar un producto")
    user.find(marker="product-search").type("air max 90 blancas")
    await user.should_see(marker="product-ZAP-NK-AM90-BL", retries=30)
    user.find(marker="product-ZAP-NK-AM90-BL").click()
    await eventually(lambda: bool(_sent()))
    kind, text, buttons = _sent()[0]
    assert kind == "card" and "249.999" in text and buttons == "3"
    with session_scope() as session:
        conversation = session.get(Conversation, chat)
        assert conversation.mode == "HUMAN_TAKEOVER" and conversation.assigned_to == seller
        assert conversation.bot_state["focus"] == "ZAP-NK-AM90-BL"
        values = quick_replies.context_for(session, chat, session.get(UserRow, seller))
    assert values["precio"].startswith("$ 249.999")  # quick replies now speak of this product
