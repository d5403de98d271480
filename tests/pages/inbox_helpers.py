"""Building inbox states through the real domain functions, and signing in simulated users."""

from __future__ import annotations

import itertools
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select

from s7.auth import hash_password
from s7.clock import now
from s7.db import session_scope
from s7.domain.chats import conversations, messages
from s7.domain.models import Conversation, Message, OutboxItem, User

PASSWORD = "pw-inbox-123"
_wamids = itertools.count(1)


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per run


def make_user(name: str, role: str = "seller") -> int:
    email = name.lower().replace(" ", "") + "@inbox.test"
    with session_scope() as session:
        user = User(email=email, name=name, role=role, password_hash=_password_hash(), active=True)
        session.add(user)
        session.flush()
        return user.id


async def sign_in(user: Any, name: str) -> None:
    """Log a simulated user in through the real form endpoint (cookie on its http client)."""
    email = name.lower().replace(" ", "") + "@inbox.test"
    response = await user.http_client.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 303 and "error" not in response.headers["location"], response.headers


def customer_says(
    wa_id: str,
    text: str | None,
    *,
    name: str | None = None,
    at: datetime | None = None,
    type: str = "text",
    media: dict[str, Any] | None = None,
    options: list[dict[str, str]] | None = None,
) -> tuple[int, int]:
    """What the processor does for a customer message. Returns (conversation id, message id)."""
    with session_scope() as session:
        conversation = conversations.ensure_conversation(session, wa_id=wa_id, name=name)
        message = messages.record_inbound(
            session,
            conversation,
            wa_message_id=f"wamid.test.{next(_wamids)}",
            type=type,
            text=text,
            media=media,
            options=options,
            created_at=at or now(),
        )
        assert message is not None
        conversations.on_customer_message(session, conversation, message)
        return conversation.id, message.id


def bot_says(conversation_id: int, text: str, options: list[dict[str, str]] | None = None) -> int:
    with session_scope() as session:
        conversation = conversations.get(session, conversation_id)
        return messages.queue_outbound(session, conversation, author="bot", text=text, options=options).id


def take(conversation_id: int, user_id: int) -> None:
    with session_scope() as session:
        conversations.takeover(session, conversation_id, session.get(User, user_id))


def set_conversation(conversation_id: int, **values: Any) -> None:
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id)
        for key, value in values.items():
            setattr(conversation, key, value)


def conversation(conversation_id: int) -> Conversation:
    with session_scope() as session:
        found = session.get(Conversation, conversation_id)
        session.expunge(found)
        return found


def outbound_messages(conversation_id: int) -> list[Message]:
    with session_scope() as session:
        found = list(
            session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.direction == "out")
                .order_by(Message.id)
            )
        )
        session.expunge_all()
        return found


def read_receipts(conversation_id: int) -> list[dict[str, Any]]:
    with session_scope() as session:
        return [
            item.payload
            for item in session.scalars(
                select(OutboxItem).where(OutboxItem.conversation_id == conversation_id, OutboxItem.kind == "read")
            )
        ]


def list_order(user: Any) -> list[int]:
    """Conversation ids in the chat list, top to bottom, as the page displays them."""
    from nicegui import ElementFilter

    with user:
        column = next(iter(ElementFilter(marker="chat-list", local_scope=False)))
        return [
            int(marker.removeprefix("chat-"))
            for child in column.default_slot.children
            for marker in child._markers  # noqa: SLF001 - markers are how tests find elements
            if marker.startswith("chat-") and marker.removeprefix("chat-").isdigit()
        ]


def unread_badge(user: Any, conversation_id: int) -> str:
    """The unread count shown on a chat's row ('' when the badge is hidden)."""
    from nicegui import ElementFilter

    with user:
        row = next(iter(ElementFilter(marker=f"chat-{conversation_id}", local_scope=False)))
        badges = list(ElementFilter(marker="unread", only_visible=True, local_scope=False).within(instance=row))
    return badges[0].text if badges else ""


async def eventually(check: Any, timeout: float = 3.0) -> None:
    """Wait until `check()` is true: live updates land a moment after the event."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {check}")
        await asyncio.sleep(0.05)


async def two_sellers_on(create_user: Any, path: str) -> tuple[Any, Any]:
    """'Vendedor Uno' and 'Vendedora Dos' (created here), each signed in its own tab on `path`."""
    tabs = []
    for name in ("Vendedor Uno", "Vendedora Dos"):
        make_user(name)
        tab = create_user()
        await sign_in(tab, name)
        tabs.append(tab)
    for tab in tabs:
        await tab.open(path)
    return tabs[0], tabs[1]
