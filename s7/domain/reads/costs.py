""" "¿Cuánto nos costó WhatsApp esta semana y por venta?": sums of the charges fixed from status
webhooks (`billing.costs`), per day, chat, seller, hot lead, ad and sale. Nothing is inferred from
dates or message counts: a message without a priced status costs nothing here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from s7.config import get_settings
from s7.domain.models import AdReferral, AuditEvent, Contact, Conversation, MessageCharge, Outcome, User


@dataclass(frozen=True)
class Line:
    label: str
    amount: Decimal
    messages: int
    key: str | int | None = None


@dataclass
class CostReport:
    start: datetime
    end: datetime
    currency: str | None = None
    total: Decimal = Decimal(0)
    billed: int = 0
    free: int = 0
    by_category: list[Line] = field(default_factory=list)
    by_day: list[Line] = field(default_factory=list)
    by_chat: list[Line] = field(default_factory=list)
    by_seller: list[Line] = field(default_factory=list)
    by_ad: list[Line] = field(default_factory=list)
    hot_leads: int = 0
    sales: int = 0
    other_currencies: list[str] = field(default_factory=list)

    @property
    def per_hot_lead(self) -> Decimal | None:
        return _per(self.total, self.hot_leads)

    @property
    def per_sale(self) -> Decimal | None:
        return _per(self.total, self.sales)


def _per(total: Decimal, count: int) -> Decimal | None:
    return (total / count).quantize(Decimal("0.0001")) if count else None


def report(session: Session, start: datetime, end: datetime, *, top: int = 10) -> CostReport:
    """WhatsApp's cost of [start, end), from the charges fixed in that span."""
    result = CostReport(start, end)
    rows = session.execute(
        select(
            MessageCharge.amount,
            MessageCharge.currency,
            MessageCharge.billable,
            MessageCharge.category,
            MessageCharge.charged_at,
            MessageCharge.conversation_id,
            Conversation.assigned_to,
            Contact.name,
            Contact.wa_id,
            Contact.username,
        )
        .join(Conversation, Conversation.id == MessageCharge.conversation_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(MessageCharge.charged_at >= start, MessageCharge.charged_at < end)
    ).all()
    currencies = defaultdict(Decimal)
    for row in rows:
        if row.billable and row.currency:
            currencies[row.currency] += row.amount
    result.currency = max(currencies, key=lambda c: currencies[c]) if currencies else None
    result.other_currencies = sorted(c for c in currencies if c != result.currency)
    tz = get_settings().timezone
    category, day, chat, seller = (defaultdict(lambda: [Decimal(0), 0]) for _ in range(4))
    chat_names: dict[int, str] = {}
    for row in rows:
        if not row.billable:
            result.free += 1
            continue
        if row.currency != result.currency:
            continue  # a rate saved in another currency is listed apart, never added up
        result.billed += 1
        result.total += row.amount
        for bucket, key in (
            (category, row.category or "?"),
            (day, row.charged_at.astimezone(tz).date().isoformat()),
            (chat, row.conversation_id),
            (seller, row.assigned_to),
        ):
            bucket[key][0] += row.amount
            bucket[key][1] += 1
        chat_names[row.conversation_id] = row.name or (f"+{row.wa_id}" if row.wa_id else f"@{row.username}")
    result.by_category = [Line(k, v[0], v[1], k) for k, v in sorted(category.items())]
    result.by_day = [Line(k, v[0], v[1], k) for k, v in sorted(day.items())]
    result.by_chat = sorted(
        (Line(chat_names[k], v[0], v[1], k) for k, v in chat.items()), key=lambda line: -line.amount
    )[:top]
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_([k for k in seller if k]))).all())
    result.by_seller = sorted(
        (Line(names.get(k, "Sin asignar") if k else "Sin asignar", v[0], v[1], k) for k, v in seller.items()),
        key=lambda line: -line.amount,
    )
    result.by_ad = _by_ad(session, chat)
    # Hot leads as the dashboard counts them: chats that turned HOT in the span (an audit fact that
    # survives the episode being closed, unlike the chat's current lead).
    turned_hot = session.execute(
        select(AuditEvent.conversation_id, AuditEvent.detail).where(
            AuditEvent.action == "lead", AuditEvent.created_at >= start, AuditEvent.created_at < end
        )
    ).all()
    result.hot_leads = len({cid for cid, detail in turned_hot if (detail or {}).get("lead") == "HOT"})
    # Sales (issue #17's outcomes): cost per sale = the span's WhatsApp cost / the span's sales.
    result.sales = (
        session.scalar(
            select(func.count(Outcome.id)).where(
                Outcome.result == "won", Outcome.created_at >= start, Outcome.created_at < end
            )
        )
        or 0
    )
    return result


def _by_ad(session: Session, chat: dict[int, list]) -> list[Line]:
    """Each chat's cost goes to the ad that first brought it (or "sin anuncio")."""
    if not chat:
        return []
    first = (
        select(AdReferral.conversation_id, func.min(AdReferral.id).label("first_id"))
        .where(AdReferral.conversation_id.in_(list(chat)))
        .group_by(AdReferral.conversation_id)
        .subquery()
    )
    ads = {
        conversation_id: (headline or source_id or source_url or "anuncio sin título")
        for conversation_id, headline, source_id, source_url in session.execute(
            select(AdReferral.conversation_id, AdReferral.headline, AdReferral.source_id, AdReferral.source_url).join(
                first, first.c.first_id == AdReferral.id
            )
        )
    }
    totals: dict[str, list] = defaultdict(lambda: [Decimal(0), 0, 0])
    for conversation_id, (amount, count) in chat.items():
        label = ads.get(conversation_id, "Sin anuncio")
        totals[label][0] += amount
        totals[label][1] += count
    return sorted((Line(k, v[0], v[1], k) for k, v in totals.items()), key=lambda line: -line.amount)


def conversation_cost(session: Session, conversation_id: int) -> tuple[Decimal, str | None, int]:
    """A chat's running cost for the admin: (amount, currency, billed messages)."""
    rows = session.execute(
        select(MessageCharge.currency, func.sum(MessageCharge.amount), func.count(MessageCharge.id))
        .where(MessageCharge.conversation_id == conversation_id, MessageCharge.billable.is_(True))
        .group_by(MessageCharge.currency)
    ).all()
    if not rows:
        return Decimal(0), None, 0
    currency, amount, count = max(rows, key=lambda r: r[1] or 0)
    return Decimal(amount or 0), currency, int(count)
