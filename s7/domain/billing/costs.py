"""What WhatsApp costs the store, from real status data, never from dates.

Meta bills per delivered message (per-message pricing since 2025-07-01; service messages inside
the 24-hour window too since 2026-10-01, per third-party sources). Every status webhook says so in
`pricing {billable, category, type}`. Each outbound message is charged ONCE, on the first status
that carries its pricing, at the rate in force at that moment: editing the rate table later adds
a new rate and leaves past charges as they were. `billable: false` (free customer service, the
72-hour free entry point after an ad) costs nothing but is kept, so the dashboard can count it.

Rates vary by country and change: they are the admin's configuration. The defaults below are
EXAMPLES (a third-party, unverified reading of Argentina's 2026 prices in US dollars), not
authoritative prices; the dashboard says so until an admin saves their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from s7 import realtime
from s7.clock import now
from s7.db import is_postgres
from s7.domain.models import PRICING_CATEGORIES, Message, MessageCharge, User, WhatsAppRate

EXAMPLE_CURRENCY = "USD"
EXAMPLE_RATES = {  # examples only, see the module docstring
    "service": Decimal("0.026"),
    "utility": Decimal("0.026"),
    "marketing": Decimal("0.062"),
    "authentication": Decimal("0.026"),
}
# Meta's narrower categories are billed like their parent.
CATEGORY_ALIASES = {"marketing_lite": "marketing", "authentication_international": "authentication"}
CATEGORY_LABELS = {
    "service": "Servicio (respuestas en la ventana de 24 h)",
    "utility": "Utilidad (avisos, seguimiento)",
    "marketing": "Marketing",
    "authentication": "Autenticación",
}
MAX_RATE = Decimal("1000")


class RateError(ValueError):
    """A rate the admin typed that cannot be a price."""


@dataclass(frozen=True)
class Rate:
    category: str
    amount: Decimal
    currency: str
    valid_from: datetime | None  # None: the documented example, never saved by an admin

    @property
    def is_example(self) -> bool:
        return self.valid_from is None


# ---- the rate table ------------------------------------------------------------------------------
def rate_at(session: Session, category: str, at: datetime) -> Rate:
    """The rate in force for `category` at `at` (the admin's latest saved before it, else the example)."""
    row = session.scalar(
        select(WhatsAppRate)
        .where(WhatsAppRate.category == category, WhatsAppRate.valid_from <= at)
        .order_by(WhatsAppRate.valid_from.desc(), WhatsAppRate.id.desc())
        .limit(1)
    )
    if row is not None:
        return Rate(row.category, row.amount, row.currency, row.valid_from)
    return Rate(category, EXAMPLE_RATES.get(category, Decimal(0)), EXAMPLE_CURRENCY, None)


def current_rates(session: Session, at: datetime | None = None) -> list[Rate]:
    at = at or now()
    return [rate_at(session, category, at) for category in PRICING_CATEGORIES]


def set_rate(session: Session, category: str, amount: str | Decimal, currency: str, *, user: User) -> Rate:
    """The admin's price from now on. Past charges keep theirs."""
    if user.role != "admin":
        raise PermissionError("Solo un administrador puede cambiar las tarifas")
    if category not in PRICING_CATEGORIES:
        raise RateError(f"Categoría desconocida: {category}")
    try:
        value = Decimal(str(amount).replace(",", ".").strip())
    except InvalidOperation as exc:
        raise RateError("La tarifa tiene que ser un número, por ejemplo 0,026") from exc
    if not value.is_finite() or value < 0 or value > MAX_RATE:
        raise RateError(f"La tarifa tiene que estar entre 0 y {MAX_RATE}")
    code = (currency or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise RateError("La moneda es un código de tres letras, por ejemplo USD o ARS")
    row = WhatsAppRate(category=category, amount=value.quantize(Decimal("0.000001")), currency=code,
                       valid_from=now(), created_by=user.id)  # fmt: skip
    session.add(row)
    session.flush()
    return Rate(row.category, row.amount, row.currency, row.valid_from)


# ---- charging ------------------------------------------------------------------------------------
def charge(
    session: Session,
    message: Message,
    *,
    billable: bool | None,
    category: str | None,
    pricing_type: str | None,
    pricing_model: str | None,
    at: datetime | None,
) -> MessageCharge | None:
    """Fix what `message` costs from a status that carried pricing. Once per message: a retried or
    later status (sent → delivered → read all repeat the pricing) changes nothing — except that a
    message first seen as free and later reported billable is charged then, still once."""
    if billable is None or message.direction != "out":
        return None
    at = at or now()
    category = CATEGORY_ALIASES.get(category or "", category)
    rate = rate_at(session, category, at) if billable and category else None
    fields = {
        "message_id": message.id,
        "conversation_id": message.conversation_id,
        "billable": bool(billable),
        "category": category,
        "pricing_type": pricing_type,
        "pricing_model": pricing_model,
        "amount": rate.amount if rate else Decimal(0),
        "currency": rate.currency if rate else None,
        "charged_at": at,
    }
    insert = pg_insert if is_postgres(session) else sqlite_insert
    statement = insert(MessageCharge).values(**fields).on_conflict_do_nothing(index_elements=["message_id"])
    created = session.scalars(statement.returning(MessageCharge)).first()
    if created is None:
        existing = session.scalar(select(MessageCharge).where(MessageCharge.message_id == message.id))
        if existing is None or existing.billable or not billable:
            return None
        for key, value in fields.items():
            setattr(existing, key, value)
        created = existing
        session.flush()
    realtime.publish_after_commit(session, "conversation", conversation_id=message.conversation_id)
    return created
