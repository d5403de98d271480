"""Sales figures for the dashboard, from the outcomes sellers record (s7.domain.chats.outcomes).

Definitions (also shown on the dashboard):
- sales / revenue: outcomes "vendido" recorded in the period, and the sum of their amounts.
- conversion of hot leads: of the episodes that had a hot lead and were closed in the period
  (vendido, perdido or sin resultado), the share that ended in a sale; per seller (who recorded
  the outcome) and per source (bot: the bot found the lead; ad: the customer came from an ad;
  organic: neither).
- time to sale: from the moment the lead turned hot (or the episode started, if it never did) to
  the sale; the median over the period's sales.
- reasons lost: how many "perdido" outcomes named each reason.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from s7.domain.chats.outcomes import SOURCES
from s7.domain.models import Outcome, User


@dataclass
class Conversion:
    key: str
    label: str
    hot_closed: int = 0
    hot_won: int = 0
    sales: int = 0
    revenue: Decimal = Decimal("0")

    @property
    def rate(self) -> float | None:
        return self.hot_won / self.hot_closed if self.hot_closed else None


@dataclass
class SalesStats:
    sales: int = 0
    revenue: Decimal = Decimal("0")
    hot_closed: int = 0
    hot_won: int = 0
    lost: int = 0
    no_result: int = 0
    seconds_to_sale: list[float] = field(default_factory=list)
    sellers: list[Conversion] = field(default_factory=list)
    sources: list[Conversion] = field(default_factory=list)
    reasons: list[tuple[str, int]] = field(default_factory=list)

    @property
    def conversion(self) -> float | None:
        return self.hot_won / self.hot_closed if self.hot_closed else None

    @property
    def median_seconds_to_sale(self) -> float | None:
        return statistics.median(self.seconds_to_sale) if self.seconds_to_sale else None

    def to_dict(self) -> dict[str, object]:
        def rows(items: list[Conversion]) -> list[dict[str, object]]:
            return [
                {
                    "key": c.key,
                    "label": c.label,
                    "hot_closed": c.hot_closed,
                    "hot_won": c.hot_won,
                    "conversion": c.rate,
                    "sales": c.sales,
                    "revenue": str(c.revenue),
                }
                for c in items
            ]

        return {
            "sales": self.sales,
            "revenue": str(self.revenue),
            "hot_closed": self.hot_closed,
            "hot_won": self.hot_won,
            "conversion": self.conversion,
            "lost": self.lost,
            "no_result": self.no_result,
            "median_seconds_to_sale": self.median_seconds_to_sale,
            "sellers": rows(self.sellers),
            "sources": rows(self.sources),
            "reasons_lost": [{"reason": r, "count": n} for r, n in self.reasons],
        }


def sales_stats(session: Session, start: datetime, end: datetime) -> SalesStats:
    stats = SalesStats()
    names = dict(session.execute(select(User.id, User.name)).all())
    sellers: dict[int | None, Conversion] = {}
    sources = {key: Conversion(key, label) for key, label in SOURCES.items()}
    reasons: Counter[str] = Counter()
    outcomes = session.scalars(
        select(Outcome).where(Outcome.created_at >= start, Outcome.created_at < end).order_by(Outcome.id)
    )
    for outcome in outcomes:
        seller = sellers.setdefault(
            outcome.user_id, Conversion(str(outcome.user_id or ""), names.get(outcome.user_id, "—"))
        )
        groups = (seller, sources.setdefault(outcome.source, Conversion(outcome.source, outcome.source)))
        won = outcome.result == "won"
        if won:
            amount = outcome.amount or Decimal("0")
            stats.sales += 1
            stats.revenue += amount
            started = outcome.hot_at or outcome.episode_started_at
            stats.seconds_to_sale.append(max(0.0, (outcome.created_at - started).total_seconds()))
            for group in groups:
                group.sales += 1
                group.revenue += amount
        elif outcome.result == "lost":
            stats.lost += 1
            reasons[outcome.reason or "—"] += 1
        else:
            stats.no_result += 1
        if outcome.was_hot:
            stats.hot_closed += 1
            stats.hot_won += won
            for group in groups:
                group.hot_closed += 1
                group.hot_won += won
    stats.sellers = sorted(sellers.values(), key=lambda c: (-c.revenue, -c.sales, c.label.lower()))
    stats.sources = list(sources.values())
    stats.reasons = reasons.most_common()
    return stats
