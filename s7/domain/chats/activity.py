"""A chat moved: keep the list's order and preview current and tell the screens.

Its own module so that the send path (`messages`) and the state machine (`conversations`) both
use it without importing each other.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from s7 import realtime
from s7.clock import now
from s7.domain.models import Conversation, Message

_PREVIEW_LABELS = {
    "image": "📷 Foto",
    "audio": "🎤 Audio",
    "video": "🎬 Video",
    "document": "📄 Documento",
    "sticker": "Sticker",
    "location": "📍 Ubicación",
    "contacts": "👤 Contacto",
    "reaction": "Reacción",
    "unsupported": "Mensaje no soportado",
}


def touch(session: Session, conversation: Conversation, message: Message) -> None:
    """Keep the list's ordering and preview current and tell the screens."""
    at = message.created_at or now()
    if conversation.last_message_at is None or at >= conversation.last_message_at:
        conversation.last_message_at = at
        conversation.last_message_preview = preview_of(message)
    # No flush: the row goes out with the turn's next flush (one UPDATE of the chat, not one per step).
    realtime.publish_after_commit(session, "message", conversation_id=conversation.id, message_id=message.id)


def preview_of(message: Message) -> str:
    text = (message.text or "").strip() or _PREVIEW_LABELS.get(message.type, message.type)
    return text.replace("\n", " ")[:200]
