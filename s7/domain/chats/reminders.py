"""Follow-up reminders: "recordame mañana 10:00" puts the chat back on top of the seller's list then.

A reminder fires once (the `reminders` job claims it with a conditional UPDATE, so replicas never
fire it twice): the chat's `attention_at` moves to the due time, which the chat list sorts by as
if a message had arrived, and the seller gets an alert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from s7 import realtime
from s7.clock import now
from s7.config import get_settings
from s7.domain.chats.audit import actor_of, audit, changed
from s7.domain.chats.conversations import ConversationError, get
from s7.domain.models import Conversation, Reminder, User

NOTE_MAX = 200
HORIZON = timedelta(days=90)
BATCH = 200
_WEEKDAYS = {"lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5, "domingo": 6}
_TIME = re.compile(r"^(?:a las\s+)?(\d{1,2})(?:[:.h](\d{2}))?\s*(?:h|hs)?$")
_IN = re.compile(r"^en\s+(\d{1,3}|un|una|media)\s*(minutos?|min|horas?|hs?|dias?)$")
_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?(?:\s+(.*))?$")


@dataclass(frozen=True)
class PendingReminder:
    id: int
    due_at: datetime
    note: str | None
    user_id: int


class BadWhen(ConversationError):
    """The seller's "cuándo" could not be read; the message shows what works."""

    def __init__(self) -> None:
        super().__init__(
            "No entendí cuándo. Probá «mañana 10:00», «hoy 18:30», «en 2 horas», «viernes 9» o «25/12 10:00»."
        )


def parse_when(text: str, at: datetime | None = None) -> datetime:
    """Spanish (Argentina) "when" → an aware UTC datetime in the future, read in TIMEZONE.

    «mañana 10:00», «hoy 18:30», «en 2 horas», «en 30 min», «viernes 9», «25/12 10:00», «10:00»
    (today, or tomorrow if that time has passed). A day without a time means 9:00.
    """
    at = at or now()
    zone = get_settings().timezone
    local = at.astimezone(zone)
    words = _normal(text)
    if not words:
        raise BadWhen()
    relative = _IN.match(words)
    if relative:
        amount = {"un": 1, "una": 1, "media": 0.5}.get(relative[1])
        count = float(amount if amount is not None else int(relative[1]))
        unit = relative[2]
        delta = (
            timedelta(minutes=count)
            if unit.startswith("min")
            else timedelta(days=count)
            if unit.startswith("dia")
            else timedelta(hours=count)
        )
        return _checked(at + delta, at)
    day, rest = _day_part(words, local)
    hour, minute = _time_part(rest) if rest else ((9, 0) if day is not None else (None, None))
    if hour is None or minute is None:
        raise BadWhen()
    if day is None:  # only a time: today, or tomorrow when it already passed
        day = local.date()
        if (hour, minute) <= (local.hour, local.minute):
            day += timedelta(days=1)
    when = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    return _checked(when.astimezone(at.tzinfo), at)


def _normal(text: str) -> str:
    """Lower case, no accents, no filler words ("recordame", "el", "a las"), single spaces."""
    lowered = (text or "").lower().translate(str.maketrans("áéíóúüñ", "aeiouun"))
    lowered = re.sub(r"\b(recordame|recordar|a las|a la|el|la|las|del|de)\b", " ", lowered)
    return " ".join(lowered.replace(",", " ").split())


def _day_part(words: str, local: datetime):  # type: ignore[no-untyped-def]
    first, _, rest = words.partition(" ")
    if first == "hoy":
        return local.date(), rest
    if first == "manana":
        return local.date() + timedelta(days=1), rest
    if first == "pasado" and rest.startswith("manana"):
        return local.date() + timedelta(days=2), rest.removeprefix("manana").strip()
    if first in _WEEKDAYS:
        ahead = (_WEEKDAYS[first] - local.weekday()) % 7 or 7
        return local.date() + timedelta(days=ahead), rest
    match = _DATE.match(words)
    if match:
        day, month = int(match[1]), int(match[2])
        year = int(match[3]) if match[3] else local.year
        year += 2000 if year < 100 else 0
        try:
            date = datetime(year, month, day).date()
        except ValueError:
            raise BadWhen() from None
        if not match[3] and date < local.date():
            date = date.replace(year=year + 1)
        return date, (match[4] or "").strip()
    return None, words


def _time_part(text: str) -> tuple[int | None, int | None]:
    match = _TIME.match(text.strip())
    if not match:
        return None, None
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour > 23 or minute > 59:
        return None, None
    return hour, minute


def _checked(when: datetime, at: datetime) -> datetime:
    if when <= at:
        raise ConversationError("Esa hora ya pasó: elegí un momento futuro.")
    if when - at > HORIZON:
        raise ConversationError("Un recordatorio puede ser como mucho a 90 días.")
    return when


# ---- scheduling and firing ------------------------------------------------------------------------------


def schedule(session: Session, conversation_id: int, user: User, due_at: datetime, note: str | None = None) -> Reminder:
    conversation = get(session, conversation_id)
    note = " ".join((note or "").split()) or None
    if note and len(note) > NOTE_MAX:
        raise ConversationError(f"La nota del recordatorio tiene como máximo {NOTE_MAX} caracteres")
    _checked(due_at, now())
    reminder = Reminder(conversation_id=conversation.id, user_id=user.id, due_at=due_at, note=note)
    session.add(reminder)
    session.flush()
    audit(session, conversation, "reminder_set", actor=actor_of(user), user=user, due_at=due_at.isoformat(), note=note)
    changed(session, conversation)
    return reminder


def pending(session: Session, conversation_id: int) -> list[PendingReminder]:
    rows = session.scalars(
        select(Reminder)
        .where(Reminder.conversation_id == conversation_id, Reminder.fired_at.is_(None))
        .order_by(Reminder.due_at)
    )
    return [PendingReminder(r.id, r.due_at, r.note, r.user_id) for r in rows]


def fire_due(session: Session, at: datetime) -> int:
    """The job: every reminder whose time came moves its chat to the top and alerts its seller."""
    due = session.scalars(
        select(Reminder.id)
        .where(Reminder.fired_at.is_(None), Reminder.due_at <= at)
        .order_by(Reminder.due_at)
        .limit(BATCH)
    ).all()
    fired = 0
    for reminder_id in due:
        claimed = session.execute(
            update(Reminder)
            .where(Reminder.id == reminder_id, Reminder.fired_at.is_(None))
            .values(fired_at=at)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            continue
        reminder = session.get(Reminder, reminder_id)
        assert reminder is not None
        session.refresh(reminder)
        conversation = session.get(Conversation, reminder.conversation_id)
        if conversation is None:
            continue
        conversation.attention_at = reminder.due_at
        session.flush()
        audit(session, conversation, "reminder", actor="system", reminder_id=reminder.id, for_user=reminder.user_id)
        realtime.publish_after_commit(
            session, "alert", conversation_id=conversation.id, reason="reminder", for_user=reminder.user_id
        )
        changed(session, conversation)
        fired += 1
    return fired
