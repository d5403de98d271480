"""Users and chats for the handoff tests, made through the real domain paths (no shortcuts in
the tables the tests check)."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy.orm import Session

from s7.auth import hash_password
from s7.clock import now
from s7.domain.chats import conversations, messages
from s7.domain.models import Conversation, Message, User

_wamids = itertools.count(1)
_HASH = hash_password("clave-segura-1")  # argon2 is slow on purpose: hash once per run
PASSWORD = "clave-segura-1"


def make_user(session: Session, name: str, role: str = "seller", email: str | None = None) -> User:
    user = User(email=email or f"{name.lower().replace(' ', '')}@tienda.com", name=name, role=role, password_hash=_HASH)
    session.add(user)
    session.flush()
    return user


def make_chat(
    session: Session, wa_id: str = "5491155550001", name: str = "Cliente", text: str = "hola"
) -> Conversation:
    """A chat whose customer just wrote (the 24 h window is open)."""
    conversation = conversations.ensure_conversation(session, wa_id=wa_id, name=name)
    customer_says(session, conversation, text)
    return conversation


def customer_says(session: Session, conversation: Conversation, text: str, at: datetime | None = None) -> Message:
    message = messages.record_inbound(
        session,
        conversation,
        wa_message_id=f"wamid.TEST{next(_wamids):08d}",
        type="text",
        text=text,
        created_at=at or now(),
    )
    assert message is not None
    conversations.on_customer_message(session, conversation, message)
    return message
