"""Business hours (BUSINESS_HOURS in TIMEZONE): is the store open, and when does it open next."""

from __future__ import annotations

from datetime import datetime, timedelta

from s7.clock import now
from s7.config import get_settings


def is_open(at: datetime | None = None) -> bool:
    settings = get_settings()
    local = (at or now()).astimezone(settings.timezone)
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in settings.business_hours.get(local.weekday(), []))


def next_opening(at: datetime | None = None) -> datetime | None:
    """The next moment the store opens after `at` (None when no hours are configured)."""
    settings = get_settings()
    zone = settings.timezone
    local = (at or now()).astimezone(zone)
    schedule = settings.business_hours
    for day_offset in range(8):
        day = (local + timedelta(days=day_offset)).date()
        for start, _end in sorted(schedule.get(day.weekday(), [])):
            opening = datetime(day.year, day.month, day.day, start // 60, start % 60, tzinfo=zone)
            if opening > local:
                return opening
    return None
