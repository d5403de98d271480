"""What the open chat's header says about the customer beyond its state: who they are for
WhatsApp (phone, @username), the ad that brought them, consent, a seller's block, and what
WhatsApp has cost in this chat (shown to admins only)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from s7.domain.chats import ads
from s7.domain.models import Conversation
from s7.domain.reads.costs import conversation_cost


@dataclass(frozen=True)
class ContactFacts:
    phone: str | None
    username: str | None
    bsuid: str | None
    ad_label: str | None  # 'Vino del anuncio «…»'
    ad_url: str | None  # only http(s) links
    opted_out: bool
    blocked: bool
    cost: Decimal
    cost_currency: str | None
    billed_messages: int


def facts(session: Session, conversation: Conversation) -> ContactFacts:
    contact = conversation.contact
    referral = ads.latest_referral(session, conversation.id)
    amount, currency, billed = conversation_cost(session, conversation.id)
    url = referral.source_url if referral is not None else None
    return ContactFacts(
        phone=contact.wa_id,
        username=contact.username,
        bsuid=contact.bsuid,
        ad_label=ads.ad_label(referral) if referral is not None else None,
        ad_url=url if url and url.startswith(("https://", "http://")) else None,
        opted_out=contact.marketing_opt_out_at is not None,
        blocked=contact.blocked_at is not None,
        cost=amount,
        cost_currency=currency,
        billed_messages=billed,
    )


def money(amount: Decimal, currency: str | None) -> str:
    """0.088 USD → 'US$ 0,088' (three decimals: WhatsApp's prices are cents and fractions)."""
    symbol = {"USD": "US$", "ARS": "$"}.get(currency or "", currency or "")
    text = f"{amount:,.3f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return f"{symbol} {text}".strip()
