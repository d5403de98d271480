"""Click-to-WhatsApp ads: which ad brought a chat. Shown on the chat ("vino del anuncio …") and
kept for the dashboard (leads, sales and WhatsApp cost per ad)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from s7.domain.chats.audit import changed
from s7.domain.models import AdReferral, Conversation, Message


def record_referral(
    session: Session, conversation: Conversation, message: Message, referral: dict[str, Any]
) -> AdReferral:
    """The customer's message came from an ad: keep it (an audit `ad_referral` marks the episode's
    lead source as "ad" for outcomes)."""
    row = AdReferral(
        conversation_id=conversation.id,
        message_id=message.id,
        source_id=_cut(referral.get("source_id"), 64),
        source_type=_cut(referral.get("source_type"), 16),
        source_url=_cut(referral.get("source_url"), 1000),
        headline=_cut(referral.get("headline"), 300),
        body=referral.get("body"),
        media_url=_cut(referral.get("media_url"), 1000),
        ctwa_clid=_cut(referral.get("ctwa_clid"), 512),
        created_at=message.created_at,
    )
    session.add(row)
    session.flush()
    from s7.domain.chats import outcomes  # local: outcomes reads chats' modules at import

    outcomes.note_ad_referral(session, conversation, referral)
    changed(session, conversation)
    return row


def latest_referral(session: Session, conversation_id: int) -> AdReferral | None:
    return session.scalar(
        select(AdReferral).where(AdReferral.conversation_id == conversation_id).order_by(AdReferral.id.desc()).limit(1)
    )


def ad_label(referral: AdReferral) -> str:
    """'Vino del anuncio "Air Max 90 en 6 cuotas"' (or the ad's id / link when it has no headline)."""
    name = referral.headline or referral.source_id or referral.source_url or "sin título"
    where = "Vino de la publicación" if referral.source_type == "post" else "Vino del anuncio"
    return f"{where} «{name}»"


def _cut(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if value not in (None, "") else None
