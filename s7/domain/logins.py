"""Sign-in attempts: throttling that never hands a stranger a lock, and the audit the admin reads.

Two limits, both counting *failures only* over WINDOW, stored in `login_failures` so every
replica sees the same counts:

- per (account, address): PAIR_LIMIT failures and that pair must wait until the oldest of them
  leaves the window (HTTP 429 with `Retry-After`). Nobody else is affected: the right password
  for the same account from an address without recent failures passes at once, so guessing
  from the internet cannot lock a seller out.
- per address: ADDRESS_LIMIT failures, whatever the accounts, and that address waits. 50 in
  15 minutes is generous for a store's Wi-Fi or a carrier NAT (ten sellers mistyping five times
  each) while it caps one address at 200 guesses an hour across all accounts.

An IPv6 client counts as its /64 (`throttle_key`): one subscriber gets a whole /64.

Nothing sleeps on the server (a sleeping request would hold a worker an attacker can exhaust):
a throttled attempt is answered at once and never reaches the password check. Each attempt is
counted *before* its password is checked (`begin_attempt`, under a per-address lock), so a
burst of simultaneous guesses gets no more checks than the limits allow; a success removes its
provisional row and that pair's failures.

Successes and failures also go to `login_events` (user, address, user agent), a separate
audit the admin reads; `prune_login_throttle` deletes throttling rows once they are out of the
window and never touches the audit, which `prune_login_audit` keeps for AUDIT_DAYS.
A throttled attempt is logged but not audited: the limits already bound how many failures
one address can add to the audit.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from s7.db import is_postgres, lock_key
from s7.domain.models import LoginEvent, LoginFailure, LoginOutcome, User

WINDOW = timedelta(minutes=15)
PAIR_LIMIT = 5
ADDRESS_LIMIT = 50
EMAIL_MAX = 254
ADDRESS_MAX = 64
USER_AGENT_MAX = 300
AUDIT_DAYS = 90

OUTCOME_LABELS = {
    LoginOutcome.OK: "Ingresó",
    LoginOutcome.WRONG_PASSWORD: "Contraseña incorrecta",
    LoginOutcome.UNKNOWN_EMAIL: "Email desconocido",
    LoginOutcome.INACTIVE: "Usuario desactivado",
}


def throttle_key(address: str) -> str:
    """What the limits count per: the address, or its /64 for IPv6 (one home or phone gets a
    whole /64, so per-address limits on single IPv6 addresses would be no limit at all)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:ADDRESS_MAX]
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


class Throttled(Exception):
    """Too many recent failures for this (account, address) or this address."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def begin_attempt(session: Session, email: str, address: str, at: datetime) -> None:
    """Refuse a throttled attempt (raises Throttled), else count it as a failure until it
    succeeds (`attempt_succeeded` removes it).

    The count and the insert happen under a per-address lock (advisory on Postgres; the caller
    holds a process lock on SQLite), so simultaneous guesses cannot all see the same count."""
    email, address = email[:EMAIL_MAX], throttle_key(address)
    if is_postgres(session):
        session.execute(select(func.pg_advisory_xact_lock(lock_key(f"s7.login.{address}"))))
    since = at - WINDOW
    _refuse_if_over(session, at, PAIR_LIMIT, LoginFailure.ip == address, LoginFailure.email == email, since=since)
    _refuse_if_over(session, at, ADDRESS_LIMIT, LoginFailure.ip == address, since=since)
    row = LoginFailure(email=email, ip=address, created_at=at)
    session.add(row)
    session.flush()


def _refuse_if_over(session: Session, at: datetime, limit: int, *where: object, since: datetime) -> None:
    recent = session.scalars(
        select(LoginFailure.created_at)
        .where(*where, LoginFailure.created_at >= since)  # type: ignore[arg-type]
        .order_by(LoginFailure.created_at.desc())
        .limit(limit)
    ).all()
    if len(recent) >= limit:
        # Under the limit again when the oldest of the last `limit` failures leaves the window.
        free_at = recent[-1] + WINDOW
        raise Throttled(max(1, math.ceil((free_at - at).total_seconds())))


def attempt_succeeded(session: Session, email: str, address: str, user_agent: str, user: User) -> None:
    """The right password: this pair starts clean, its provisional row included (failures from
    other addresses stay counted)."""
    session.execute(
        delete(LoginFailure).where(LoginFailure.email == email[:EMAIL_MAX], LoginFailure.ip == throttle_key(address))
    )
    _audit(session, email, address, user_agent, LoginOutcome.OK, user.id)


def attempt_failed(session: Session, email: str, address: str, user_agent: str, user: User | None) -> None:
    """The provisional failure row stays; the audit says why it failed."""
    if user is None:
        outcome = LoginOutcome.UNKNOWN_EMAIL
    elif not user.active:
        outcome = LoginOutcome.INACTIVE
    else:
        outcome = LoginOutcome.WRONG_PASSWORD
    _audit(session, email, address, user_agent, outcome, user.id if user else None)


def _audit(session: Session, email: str, address: str, user_agent: str, outcome: str, user_id: int | None) -> None:
    session.add(
        LoginEvent(
            user_id=user_id,
            email=email[:EMAIL_MAX],
            address=address[:ADDRESS_MAX],
            user_agent=" ".join((user_agent or "").split())[:USER_AGENT_MAX],
            outcome=outcome,
        )
    )


def prune_login_audit(session: Session, now: datetime) -> int:
    """The sign-in audit keeps AUDIT_DAYS: long enough to look back on an incident, bounded so a
    flood of failures (each one audited) cannot grow the table for ever."""
    result = session.execute(delete(LoginEvent).where(LoginEvent.created_at < now - timedelta(days=AUDIT_DAYS)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def prune_login_throttle(session: Session, now: datetime) -> int:
    """Delete throttling rows that no longer count (older than WINDOW). The audit is untouched."""
    result = session.execute(delete(LoginFailure).where(LoginFailure.created_at < now - WINDOW))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class LoginView:
    """One audited sign-in attempt, as the admin panel shows it."""

    at: datetime
    email: str
    user_name: str | None
    address: str
    user_agent: str
    outcome: str

    @property
    def label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome)


def recent_logins(session: Session, limit: int = 30) -> list[LoginView]:
    """The newest sign-in attempts, successes and failures alike."""
    rows = session.execute(
        select(LoginEvent, User.name)
        .outerjoin(User, User.id == LoginEvent.user_id)
        .order_by(LoginEvent.created_at.desc(), LoginEvent.id.desc())
        .limit(limit)
    ).all()
    return [LoginView(e.created_at, e.email, name, e.address, e.user_agent, e.outcome) for e, name in rows]
