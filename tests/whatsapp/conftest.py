"""Helpers for the WhatsApp edge tests: Meta-shaped fixtures, a signed POST, the webhook app."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from s7.config import Settings
from s7.db import session_scope
from s7.domain import bot
from s7.domain.models import Conversation, Message
from s7.whatsapp import signature, webhook
from s7.whatsapp.graph import GraphClient
from s7.whatsapp.outbox import RateLimiter, Sender
from tests.fakes.graph_server import FakeGraph

FIXTURES = Path(__file__).parent / "fixtures"
CUSTOMER = "5491155550001"
TOKEN = "test-token"


def fixture_bytes(name: str) -> bytes:
    """The fixture file exactly as stored (already \\u-escaped, like Meta's bodies)."""
    return (FIXTURES / f"{name}.json").read_bytes()


def load(name: str) -> dict[str, Any]:
    return json.loads(fixture_bytes(name))


def encode(body: dict[str, Any]) -> bytes:
    """Serialise like Meta: ASCII with \\u escapes."""
    return json.dumps(body, ensure_ascii=True).encode("ascii")


def fixture_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.json"))


def signed_headers(settings: Settings, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-hub-signature-256": signature.sign(settings.META_APP_SECRET, body),
    }


def webhook_app() -> FastAPI:
    app = FastAPI()
    app.include_router(webhook.router)
    return app


@pytest.fixture
async def client(any_db: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=webhook_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


class BotCalls:
    """Stands in for the bot: records each turn it is given (the bot has its own tests)."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str | None, str | None]] = []
        self.behaviour: Callable[[Any, Conversation, Message], None] | None = None

    def __call__(self, session: Any, conversation: Conversation, message: Message) -> None:
        self.calls.append((conversation.id, message.wa_message_id, message.text))
        if self.behaviour is not None:
            self.behaviour(session, conversation, message)

    @property
    def wamids(self) -> list[str | None]:
        return [c[1] for c in self.calls]


@pytest.fixture
def bot_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[BotCalls]:
    calls = BotCalls()
    monkeypatch.setattr(bot, "respond", calls)
    yield calls


def messages_of(wa_id: str = CUSTOMER) -> list[Message]:
    from sqlalchemy import select

    from s7.domain.models import Contact

    with session_scope() as session:
        return list(
            session.scalars(
                select(Message)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .join(Contact, Contact.id == Conversation.contact_id)
                .where(Contact.wa_id == wa_id)
                .order_by(Message.id)
            )
        )


def conversation_of(wa_id: str = CUSTOMER) -> Conversation | None:
    from sqlalchemy import select

    from s7.domain.models import Contact

    with session_scope() as session:
        return session.scalar(
            select(Conversation).join(Contact, Contact.id == Conversation.contact_id).where(Contact.wa_id == wa_id)
        )


# ---- the fake Graph API and a sender on virtual time -----------------------------------------
@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def sender(graph: FakeGraph) -> AsyncIterator[Sender]:
    client = GraphClient(graph.messages_url, TOKEN, timeout=0.5)
    yield Sender(client, limiter=virtual_time_limiter(), rng=random.Random(7))
    await client.aclose()


def virtual_time_limiter(rate: float = 1000) -> RateLimiter:
    """A limiter whose waits pass instantly (throttle pauses must not slow the suite)."""
    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    return RateLimiter(rate, clock=lambda: clock[0], sleep=sleep)
