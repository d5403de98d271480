"""The product card: ONE function for the bot's product detail and for a seller sharing a product.

A product with an `image_url` goes out as an interactive message whose header is the photo
(price, installments, the truth about stock and the reply buttons in the body), so shoppers see
what they are buying. When Meta cannot use the photo (131053 "media upload error", 131052), the
same card is sent as text with the same buttons, in the same outbox row (the Graph client does
that when Meta refuses at once) or as a new queued message through the same send gate (when Meta
reports it later in a status webhook, see `resend_as_text`).
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from s7.domain.bot import replies
from s7.domain.catalog.search import SearchHit
from s7.domain.chats import messages
from s7.domain.models import Conversation, Message, Product

CARD_KIND = "card"
MEDIA_ERROR_CODES = frozenset({131052, 131053})
_CODE = re.compile(r"^\((\d+)\)")


class UnknownProduct(messages.InvalidMessage):
    """No active product with that SKU."""


def queue_card(
    session: Session,
    conversation: Conversation,
    reply: replies.Reply,
    *,
    author: str,
    user_id: int | None = None,
) -> Message:
    """Queue a product reply: with its photo as the header when it has one and fits WhatsApp's
    card (reply buttons, ≤ 1024 characters), else as plain text and buttons."""
    image = reply.image_url or ""
    fits = 1 <= len(reply.options) <= messages.BUTTONS_MAX and len(reply.text) <= messages.INTERACTIVE_BODY_MAX
    if not image.startswith("https://") or not fits or reply.as_list:
        return messages.queue_outbound(
            session,
            conversation,
            author=author,
            text=reply.text,
            options=reply.options or None,
            as_list=reply.as_list,
            user_id=user_id,
        )
    message = messages.new_outbound(
        session, conversation, author=author, kind=CARD_KIND, text=reply.text, options=reply.options, user_id=user_id
    )
    payload = {"to": conversation.contact.wa_id, "text": reply.text, "options": reply.options, "image_url": image}
    messages.send(session, conversation, message, payload)
    return message


def queue_product_card(
    session: Session, conversation: Conversation, sku: str, *, author: str, user_id: int | None = None
) -> Message:
    """A product's card by SKU, exactly as the bot shows it (sellers: `{"product_sku"}`)."""
    from sqlalchemy import select

    product = session.scalar(select(Product).where(Product.sku == sku.strip(), Product.active.is_(True)))
    if product is None:
        raise UnknownProduct(f"No hay un producto activo con SKU «{sku.strip()[:120]}»")
    return queue_card(
        session, conversation, replies.detail(SearchHit.from_product(product, 100)), author=author, user_id=user_id
    )


def resend_as_text(session: Session, message: Message, error: str | None) -> Message | None:
    """A card Meta accepted and then failed because of its photo: the same text and buttons, as a
    new message of the same author through the same send path (and gate). None otherwise."""
    match = _CODE.match(error or "")
    if message.type != CARD_KIND or match is None or int(match.group(1)) not in MEDIA_ERROR_CODES:
        return None
    conversation = session.get(Conversation, message.conversation_id)
    if conversation is None:
        return None
    try:
        return messages.queue_outbound(
            session,
            conversation,
            author=message.author,
            text=message.text or "",
            options=list(message.options or []) or None,
            user_id=message.author_user_id,
        )
    except (messages.WindowClosed, messages.InvalidMessage):
        return None
