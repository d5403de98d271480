"""The periodic jobs: APScheduler in this process when ENABLE_JOBS (and always in `s7 worker`).

Each replica schedules its own copy of every job (APScheduler cannot share a job store between
processes); what keeps them from doing the work twice is the database:
- each run holds a Postgres advisory lock for its transaction (`try_xact_lock`): while one
  replica sweeps, the others skip that round;
- each effect is claimed by a conditional UPDATE inside that transaction (see
  `s7.domain.chats.followups`), so a replica running right after another finds nothing left to do.
On SQLite (one process by design) the lock is a no-op and `max_instances=1` keeps runs apart.

The job bodies are sync and run in the loop's default thread pool (AsyncIOExecutor does that
for plain functions), never on the event loop; they never touch NiceGUI.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.orm import Session

from s7 import auth
from s7.clock import now
from s7.config import get_settings
from s7.db import session_scope, try_xact_lock
from s7.domain import logins
from s7.domain.chats import assignment, followups, lanes, notify, reminders

log = logging.getLogger(__name__)

JobBody = Callable[[Session, datetime], int]


def _wake_outbox(_session: Session, _at: datetime) -> int:
    """Outbox retries: the sender reschedules failed sends itself (backoff in `next_attempt_at`,
    expired leases given back when it claims); this nudges it so a due retry never waits for a
    poll. A no-op where the sender is not running (its own process picks the rows up)."""
    try:
        from s7.whatsapp import outbox
    except ModuleNotFoundError:
        return 0
    outbox.wake()
    return 0


def _sync_templates(session: Session, at: datetime) -> int:
    """Approved message templates, once a day (the panel's button syncs on demand)."""
    from s7.whatsapp import templates

    return templates.daily_sync(session, at)


JOBS: dict[str, JobBody] = {
    "inactivity_return": followups.return_idle_chats_to_bot,
    "hot_lost_sweep": followups.sweep_unclaimed_hot_leads,
    "after_hours_followup": followups.send_after_hours_followups,
    "outbox_retries": _wake_outbox,
    "login_throttle_prune": logins.prune_login_throttle,
    "login_audit_prune": logins.prune_login_audit,
    "revoked_sessions_prune": auth.prune_revoked_sessions,
    "reminders": reminders.fire_due,
    "auto_reassign": assignment.reassign_unopened,
    "webhook_retention": lanes.prune,
    "templates_sync": _sync_templates,
}

_scheduler: AsyncIOScheduler | None = None


_in_flight = 0
_in_flight_lock = threading.Lock()


def run_job(name: str) -> int:
    """One run of one job: under its cluster-wide lock, in one transaction. Returns the effects
    done (0 also when another replica holds the lock)."""
    global _in_flight
    with _in_flight_lock:
        _in_flight += 1
    try:
        return _run_job(name)
    finally:
        with _in_flight_lock:
            _in_flight -= 1


def _run_job(name: str) -> int:
    body = JOBS[name]
    try:
        with session_scope() as session:
            if not try_xact_lock(session, f"s7.jobs.{name}"):
                return 0
            done = body(session, now())
    except Exception:
        log.exception("job %s failed; it runs again in %s s", name, get_settings().JOBS_INTERVAL_SECONDS)
        return 0
    if done:
        log.info("job %s: %d done (pid %d)", name, done, os.getpid())
    return done


def start(*, force: bool = False) -> None:
    """Schedule every job (call inside the running event loop: app startup, `s7 worker`)."""
    global _scheduler
    settings = get_settings()
    if not (settings.ENABLE_JOBS or force):
        log.info("jobs off in this process (ENABLE_JOBS=false)")
        return
    if _scheduler is not None and _scheduler.running:
        return
    interval = settings.JOBS_INTERVAL_SECONDS
    scheduler = AsyncIOScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": max(int(interval * 2), 1)},
    )
    for name in JOBS:  # first run one interval after start-up, then every interval
        scheduler.add_job(run_job, "interval", seconds=interval, args=(name,), id=name, replace_existing=True)
    scheduler.start()  # AsyncIOScheduler binds to the running loop here
    _scheduler = scheduler
    log.info("jobs on: %s every %s s", ", ".join(JOBS), interval)


async def stop(timeout: float = 10.0) -> None:
    """Stop scheduling, let a run in progress finish in its thread (its transaction commits or
    rolls back whole; cancelling it would only be logged as an error), then let n8n retries go.

    Paused first and shut down only once the runs in hand are over: APScheduler's shutdown
    cancels the futures of runs still going (their threads go on regardless) and logs each as
    an error with a traceback."""
    global _scheduler
    scheduler, _scheduler = _scheduler, None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    if scheduler is not None and scheduler.running:
        scheduler.pause()
        quiet_rounds = 0
        while quiet_rounds < 2 and loop.time() < deadline:  # twice idle: a run just submitted shows
            await asyncio.sleep(0.05)
            quiet_rounds = quiet_rounds + 1 if not _in_flight else 0
        scheduler.shutdown(wait=False)
    while _in_flight and loop.time() < deadline:
        await asyncio.sleep(0.05)
    notify.shutdown()


def running() -> bool:
    return _scheduler is not None and _scheduler.running
