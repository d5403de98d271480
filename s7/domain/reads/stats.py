"""Dashboard figures: is the team winning the leads the bot finds?

Read from what the product already records: messages (who wrote when) and the audit trail
(takeovers, releases, lead changes, hand-off requests). Periods are local days in TIMEZONE:
"today" since local midnight, "week" the last seven local days including today.

Definitions (also shown on the dashboard):
- conversations: chats in which the customer wrote during the period (new: first contact in it).
- hot leads: chats that turned HOT in the period (a seller recovering a HOT_LOST one is not new).
- taken / lost / waiting: what happened first to each of those hot leads: a human took it
  (takeover, or a human already held the chat), it went HOT_LOST, or neither yet.
- HOT_LOST: chats flagged HOT_LOST during the period.
- first human response: from the customer message that needed a human (the first one since the
  chat was last with the bot, or the hand-off moment when the bot asked for a person) to the first
  seller or Business-app reply; one per hand-off. The median is over replies made in the period.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from s7.clock import now
from s7.config import get_settings
from s7.domain.models import AuditEvent, Conversation, Message, User
from s7.domain.reads.sales import SalesStats, sales_stats

Period = Literal["today", "week"]
HUMAN_AUTHORS = ("seller", "business_app")
BUSINESS_APP = -1  # "seller" id for replies typed on the WhatsApp Business app
BUSINESS_APP_NAME = "App de WhatsApp Business"
_WEEKDAYS = ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")


@dataclass
class SellerStats:
    user_id: int
    name: str
    active: bool = True
    takeovers: int = 0
    leads_taken: int = 0
    messages: int = 0
    response_seconds: list[float] = field(default_factory=list)

    @property
    def median_response_seconds(self) -> float | None:
        return statistics.median(self.response_seconds) if self.response_seconds else None


@dataclass
class Bucket:
    """One bar of the time series: an hour (today) or a day (week)."""

    label: str
    start: datetime
    conversations: int = 0
    hot_leads: int = 0
    hot_lost: int = 0


@dataclass
class DashboardStats:
    period: Period
    start: datetime
    end: datetime
    conversations: int = 0
    new_conversations: int = 0
    hot_leads: int = 0
    taken: int = 0
    lost: int = 0
    waiting: int = 0
    hot_lost: int = 0
    response_seconds: list[float] = field(default_factory=list)
    sellers: list[SellerStats] = field(default_factory=list)
    series: list[Bucket] = field(default_factory=list)
    sales: SalesStats = field(default_factory=SalesStats)

    @property
    def median_response_seconds(self) -> float | None:
        return statistics.median(self.response_seconds) if self.response_seconds else None

    def to_dict(self) -> dict[str, object]:
        return {
            "period": self.period,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "conversations": self.conversations,
            "new_conversations": self.new_conversations,
            "hot_leads": self.hot_leads,
            "taken": self.taken,
            "lost": self.lost,
            "waiting": self.waiting,
            "hot_lost": self.hot_lost,
            "median_first_response_seconds": self.median_response_seconds,
            "responses": len(self.response_seconds),
            "sellers": [
                {
                    "user_id": s.user_id,
                    "name": s.name,
                    "takeovers": s.takeovers,
                    "leads_taken": s.leads_taken,
                    "messages": s.messages,
                    "median_first_response_seconds": s.median_response_seconds,
                }
                for s in self.sellers
            ],
            "series": [
                {"label": b.label, "conversations": b.conversations, "hot_leads": b.hot_leads, "hot_lost": b.hot_lost}
                for b in self.series
            ],
            "sales": self.sales.to_dict(),
        }


# ---- periods --------------------------------------------------------------------------------------


def period_bounds(period: Period, at: datetime | None = None, tz: ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """[start, end) in UTC for a local period ending now."""
    tz = tz or get_settings().timezone
    end = at or now()
    local_midnight = end.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    days = 0 if period == "today" else 6
    start = _local_days_back(local_midnight, days)
    return start.astimezone(end.tzinfo), end


def _local_days_back(local_midnight: datetime, days: int) -> datetime:
    """Midnight `days` local days earlier (rebuilt from the date, so a DST change is no hour off)."""
    date = (local_midnight - timedelta(days=days)).date()
    return datetime(date.year, date.month, date.day, tzinfo=local_midnight.tzinfo)


def _buckets(period: Period, start: datetime, end: datetime, tz: ZoneInfo) -> list[Bucket]:
    local_start = start.astimezone(tz)
    buckets: list[Bucket] = []
    if period == "today":
        hours = end.astimezone(tz).hour + 1
        for hour in range(hours):
            at = local_start.replace(hour=hour)
            buckets.append(Bucket(f"{hour:02d} h", at))
        return buckets
    for day in range(7):
        at = _local_days_back(local_start, -day)
        buckets.append(Bucket(f"{_WEEKDAYS[at.weekday()]} {at.day}/{at.month}", at))
    return buckets


def _bucket_index(buckets: list[Bucket], at: datetime) -> int | None:
    index = None
    for i, bucket in enumerate(buckets):
        if at >= bucket.start:
            index = i
    return index


# ---- the figures ----------------------------------------------------------------------------------


def dashboard(session: Session, period: Period = "today", *, at: datetime | None = None) -> DashboardStats:
    """Every figure of the dashboard for one period."""
    tz = get_settings().timezone
    start, end = period_bounds(period, at, tz)
    stats = DashboardStats(period, start, end, series=_buckets(period, start, end, tz))
    sellers = _sellers(session)
    _count_conversations(session, stats)
    _count_leads(session, stats, sellers)
    _response_times(session, stats, sellers)
    _seller_activity(session, stats, sellers)
    stats.sales = sales_stats(session, start, end)
    stats.sellers = sorted(
        (s for s in sellers.values() if s.active or s.messages or s.takeovers or s.leads_taken),
        key=lambda s: (-s.leads_taken, -s.takeovers, -s.messages, s.name.lower()),
    )
    return stats


def _sellers(session: Session) -> dict[int, SellerStats]:
    people = {u.id: SellerStats(u.id, u.name, u.active) for u in session.scalars(select(User).order_by(User.name))}
    people[BUSINESS_APP] = SellerStats(BUSINESS_APP, BUSINESS_APP_NAME, active=False)
    return people


def _count_conversations(session: Session, stats: DashboardStats) -> None:
    rows = session.execute(
        select(Message.conversation_id, Message.created_at)
        .where(Message.direction == "in", Message.created_at >= stats.start, Message.created_at < stats.end)
        .order_by(Message.created_at)
    ).all()
    first_in_period: dict[int, datetime] = {}
    for conversation_id, created_at in rows:
        first_in_period.setdefault(conversation_id, created_at)
    stats.conversations = len(first_in_period)
    for at in first_in_period.values():
        index = _bucket_index(stats.series, at)
        if index is not None:
            stats.series[index].conversations += 1
    stats.new_conversations = len(
        session.scalars(
            select(Conversation.id).where(Conversation.created_at >= stats.start, Conversation.created_at < stats.end)
        ).all()
    )


def _lead_events(session: Session, conversation_ids: list[int] | None, since: datetime | None) -> list[AuditEvent]:
    statement = select(AuditEvent).where(
        AuditEvent.conversation_id.is_not(None),
        AuditEvent.action.in_(("lead", "takeover", "release", "handoff_requested")),
    )
    if conversation_ids is not None:
        statement = statement.where(AuditEvent.conversation_id.in_(conversation_ids))
    if since is not None:
        statement = statement.where(AuditEvent.created_at >= since)
    return list(session.scalars(statement.order_by(AuditEvent.created_at, AuditEvent.id)))


def _is_turned_hot(event: AuditEvent) -> bool:
    detail = event.detail or {}
    return event.action == "lead" and detail.get("lead") == "HOT" and detail.get("previous") != "HOT_LOST"


def _is_lost(event: AuditEvent) -> bool:
    return event.action == "lead" and (event.detail or {}).get("lead") == "HOT_LOST"


def _in_period(stats: DashboardStats, at: datetime) -> bool:
    return stats.start <= at < stats.end


def _count_leads(session: Session, stats: DashboardStats, sellers: dict[int, SellerStats]) -> None:
    marked = _lead_events(session, None, stats.start)
    hot_ids = {e.conversation_id for e in marked if _is_turned_hot(e) and _in_period(stats, e.created_at)}
    lost_ids: set[int] = set()
    for event in marked:
        if _is_lost(event) and _in_period(stats, event.created_at) and event.conversation_id not in lost_ids:
            lost_ids.add(event.conversation_id)  # type: ignore[arg-type]
            _add_to_bucket(stats, event.created_at, "hot_lost")
    stats.hot_lost = len(lost_ids)
    if not hot_ids:
        return
    by_conversation: dict[int, list[AuditEvent]] = defaultdict(list)
    for event in _lead_events(session, sorted(hot_ids), None):  # whole history: who held it before
        by_conversation[event.conversation_id].append(event)  # type: ignore[index]
    for events in by_conversation.values():
        outcome, taker, hot_at = _hot_lead_outcome(events, stats)
        if hot_at is None:
            continue
        stats.hot_leads += 1
        _add_to_bucket(stats, hot_at, "hot_leads")
        if outcome == "taken":
            stats.taken += 1
            if taker is not None and taker in sellers:
                sellers[taker].leads_taken += 1
        elif outcome == "lost":
            stats.lost += 1
        else:
            stats.waiting += 1


def _hot_lead_outcome(events: list[AuditEvent], stats: DashboardStats) -> tuple[str, int | None, datetime | None]:
    """(taken|lost|waiting, who took it, when it turned HOT) for the chat's HOT moment in the period."""
    holder: int | None = None  # who holds the chat as the events unfold
    hot_at: datetime | None = None
    for event in events:
        if hot_at is None:
            if event.action == "takeover":
                holder = _person(event)
            elif event.action == "release":
                holder = None
            elif _is_turned_hot(event) and _in_period(stats, event.created_at):
                hot_at = event.created_at
                if holder is not None:
                    return "taken", holder, hot_at
            continue
        if event.action == "takeover":
            return "taken", _person(event), hot_at
        if _is_lost(event):
            return "lost", None, hot_at
    return "waiting", None, hot_at


def _person(event: AuditEvent) -> int:
    return event.actor_user_id if event.actor_user_id is not None else BUSINESS_APP


def _add_to_bucket(stats: DashboardStats, at: datetime, name: str) -> None:
    index = _bucket_index(stats.series, at)
    if index is not None:
        bucket = stats.series[index]
        setattr(bucket, name, getattr(bucket, name) + 1)


def _response_times(session: Session, stats: DashboardStats, sellers: dict[int, SellerStats]) -> None:
    replied = session.scalars(
        select(Message.conversation_id)
        .where(
            Message.author.in_(HUMAN_AUTHORS),
            Message.created_at >= stats.start,
            Message.created_at < stats.end,
        )
        .distinct()
    ).all()
    if not replied:
        return
    messages = session.execute(
        select(Message.conversation_id, Message.created_at, Message.direction, Message.author, Message.author_user_id)
        .where(Message.conversation_id.in_(replied))
        .order_by(Message.created_at, Message.id)
    ).all()
    events = _lead_events(session, list(replied), None)
    timeline: dict[int, list[tuple[datetime, int, str, int | None]]] = defaultdict(list)
    for cid, at, direction, author, user_id in messages:
        kind = "customer" if direction == "in" else ("human" if author in HUMAN_AUTHORS else "bot")
        who = (user_id if user_id is not None else BUSINESS_APP) if kind == "human" else None
        timeline[cid].append((at, 1, kind, who))
    for event in events:
        if event.action == "release":
            timeline[event.conversation_id].append((event.created_at, 0, "release", None))  # type: ignore[index]
        elif _is_turned_hot(event) or event.action == "handoff_requested":
            timeline[event.conversation_id].append((event.created_at, 2, "handoff", None))  # type: ignore[index]
    for entries in timeline.values():
        for reply_at, seconds, who in first_responses(sorted(entries, key=lambda e: (e[0], e[1]))):
            if _in_period(stats, reply_at):
                stats.response_seconds.append(seconds)
                if who in sellers:
                    sellers[who].response_seconds.append(seconds)


def first_responses(
    entries: list[tuple[datetime, int, str, int | None]],
) -> list[tuple[datetime, float, int | None]]:
    """Walk one chat's timeline (customer / bot / human messages, releases, hand-offs) and return
    (reply time, seconds waited, who replied) for each first human reply after a hand-off."""
    human_holds = False
    waiting_since: datetime | None = None
    results: list[tuple[datetime, float, int | None]] = []
    for at, _order, kind, who in entries:
        if kind == "release":
            human_holds, waiting_since = False, None
        elif kind == "customer":
            if not human_holds and waiting_since is None:
                waiting_since = at
        elif kind == "handoff":
            if not human_holds:
                waiting_since = at  # the bot answered until here: the wait for a person starts now
        elif kind == "human":
            if not human_holds and waiting_since is not None:
                results.append((at, max(0.0, (at - waiting_since).total_seconds()), who))
            human_holds, waiting_since = True, None
    return results


def _seller_activity(session: Session, stats: DashboardStats, sellers: dict[int, SellerStats]) -> None:
    for (user_id,) in session.execute(
        select(Message.author_user_id).where(
            Message.author.in_(HUMAN_AUTHORS), Message.created_at >= stats.start, Message.created_at < stats.end
        )
    ):
        who = user_id if user_id is not None else BUSINESS_APP
        if who in sellers:
            sellers[who].messages += 1
    for (user_id,) in session.execute(
        select(AuditEvent.actor_user_id).where(
            AuditEvent.action == "takeover", AuditEvent.created_at >= stats.start, AuditEvent.created_at < stats.end
        )
    ):
        who = user_id if user_id is not None else BUSINESS_APP
        if who in sellers:
            sellers[who].takeovers += 1
