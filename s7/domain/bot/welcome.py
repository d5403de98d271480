"""The bot's welcome when a customer opens the chat for the first time (`request_welcome`):
sent once per chat, only while the bot speaks there, never after the chat already has traffic."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from s7.domain.bot.replies import say
from s7.domain.chats import conversations, messages
from s7.domain.models import Conversation, Message

log = logging.getLogger(__name__)


def welcome_once(session: Session, conversation: Conversation) -> Message | None:
    """Queue the greeting unless this chat was already welcomed or already talked to."""
    state = dict(conversation.bot_state or {})
    if state.get("welcomed") or not conversations.bot_may_speak(session, conversation):
        return None
    state["welcomed"] = True
    conversation.bot_state = state  # a new dict: JSON columns track assignment, not mutation
    spoken = session.scalar(
        select(Message.id).where(Message.conversation_id == conversation.id, Message.direction == "out").limit(1)
    )
    if spoken is not None:
        return None
    try:
        return messages.queue_outbound(session, conversation, author="bot", text=say("greeting"))
    except messages.WindowClosed:
        log.info("no welcome for conversation %s: 24-hour window closed", conversation.id)
        return None
