"""Opening hours in TIMEZONE: is the store open, and when does it open next.

The store profile is the one source (its hours, closed days and vacation mode); until an admin
saves hours there, BUSINESS_HOURS is the default. Every job and reply reads them from here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from s7.clock import now
from s7.config import get_settings

_LOOKAHEAD_DAYS = 62  # a vacation of a month or two still finds the next opening


def is_open(at: datetime | None = None, session: Session | None = None) -> bool:
    from s7.domain.store import profile as store_profile

    profile = store_profile.current(session)
    local = (at or now()).astimezone(get_settings().timezone)
    if profile.closed_on(local.date()):
        return False
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in profile.schedule.get(local.weekday(), []))


def next_opening(at: datetime | None = None, session: Session | None = None) -> datetime | None:
    """The next moment the store opens after `at` (None when no hours are configured)."""
    from s7.domain.store import profile as store_profile

    profile = store_profile.current(session)
    zone = get_settings().timezone
    local = (at or now()).astimezone(zone)
    schedule = profile.schedule
    for day_offset in range(_LOOKAHEAD_DAYS):
        day = (local + timedelta(days=day_offset)).date()
        if profile.closed_on(day):
            continue
        for start, _end in sorted(schedule.get(day.weekday(), [])):
            opening = datetime(day.year, day.month, day.day, start // 60, start % 60, tzinfo=zone)
            if opening > local:
                return opening
    return None
