"""Login throttling an attacker cannot turn into a lock-out, with no server-side sleeps, and the
sign-in audit the admin reads."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from s7.auth import LoginThrottled, authenticate, hash_password
from s7.clock import now
from s7.db import session_scope
from s7.domain import logins
from s7.domain.models import LoginEvent, LoginFailure, User

PASSWORD = "clave-segura-1"


def _make_user(email: str = "ana@tienda.com", active: bool = True) -> int:
    with session_scope() as session:
        user = User(email=email, name="Ana", role="seller", password_hash=hash_password(PASSWORD), active=active)
        session.add(user)
        session.flush()
        return user.id


def _fail_from(address: str, email: str = "ana@tienda.com", times: int = logins.PAIR_LIMIT) -> None:
    """Failures as the login path records them (without paying argon2 for each)."""
    for _ in range(times):
        with session_scope() as session:
            logins.begin_attempt(session, email, address, now())
            logins.attempt_failed(session, email, address, "bot/1.0", None)


def test_strangers_wrong_guesses_do_not_stop_the_right_password_from_a_clean_address(pg_db) -> None:
    _make_user()
    for i in range(20):  # twenty addresses on the internet, each at its limit for this account
        _fail_from(f"203.0.113.{i}")
    assert authenticate("ana@tienda.com", PASSWORD, "198.51.100.7") is not None  # the store's own address
    try:
        authenticate("ana@tienda.com", PASSWORD, "203.0.113.3")
    except LoginThrottled as exc:
        assert 0 < exc.retry_after <= logins.WINDOW.total_seconds()
    else:
        raise AssertionError("a pair at its limit must wait, even with the right password")


async def test_the_api_answers_429_with_retry_after_to_the_guessing_pair_only(pg_db, user) -> None:
    _make_user()
    client: httpx.AsyncClient = user.http_client
    for _ in range(logins.PAIR_LIMIT):
        bad = await client.post("/api/auth/login", json={"email": "ana@tienda.com", "password": "nope"})
        assert bad.status_code == 401
    throttled = await client.post("/api/auth/login", json={"email": "ana@tienda.com", "password": PASSWORD})
    assert throttled.status_code == 429
    assert 800 < int(throttled.headers["retry-after"]) <= 900
    assert "15 minutos" in throttled.json()["detail"]


def test_one_address_has_a_hard_limit_across_accounts(pg_db) -> None:
    _make_user()
    for i in range(logins.ADDRESS_LIMIT // logins.PAIR_LIMIT):  # many accounts, each under its pair limit
        _fail_from("192.0.2.50", email=f"otro{i}@tienda.com")
    try:
        authenticate("ana@tienda.com", PASSWORD, "192.0.2.50")
    except LoginThrottled:
        pass
    else:
        raise AssertionError("the address reached its hard limit")
    assert authenticate("ana@tienda.com", PASSWORD, "192.0.2.51") is not None


def test_a_burst_of_simultaneous_guesses_gets_no_more_checks_than_the_limit(pg_db) -> None:
    _make_user()

    def guess(_: int) -> str:
        try:
            return "ok" if authenticate("ana@tienda.com", "wrong-one", "203.0.113.99") else "bad"
        except LoginThrottled:
            return "throttled"

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(guess, range(12)))
    assert results.count("bad") == logins.PAIR_LIMIT
    assert results.count("throttled") == 12 - logins.PAIR_LIMIT
    with session_scope() as session:
        assert session.scalar(select(func.count(LoginEvent.id))) == logins.PAIR_LIMIT


def test_successes_and_failures_are_audited_with_address_and_browser(pg_db) -> None:
    user_id = _make_user()
    _make_user("baja@tienda.com", active=False)
    assert authenticate("nadie@tienda.com", "x", "198.51.100.1", "curl/8") is None
    assert authenticate("ana@tienda.com", "mal", "198.51.100.2", "Firefox") is None
    assert authenticate("baja@tienda.com", PASSWORD, "198.51.100.3", "Chrome") is None
    assert authenticate(" ANA@tienda.com", PASSWORD, "198.51.100.4", "Mozilla/5.0 (X11)\nLinux") is not None
    with session_scope() as session:
        recent = logins.recent_logins(session)
    assert [(r.email, r.address, r.outcome) for r in recent] == [
        ("ana@tienda.com", "198.51.100.4", "ok"),
        ("baja@tienda.com", "198.51.100.3", "inactive"),
        ("ana@tienda.com", "198.51.100.2", "wrong_password"),
        ("nadie@tienda.com", "198.51.100.1", "unknown_email"),
    ]
    assert recent[0].user_agent == "Mozilla/5.0 (X11) Linux" and recent[0].user_name == "Ana"
    assert recent[0].label == "Ingresó"
    with session_scope() as session:
        assert session.get(User, user_id).last_login_at is not None
        # a success clears its own pair only
        assert session.scalar(select(func.count()).where(LoginFailure.ip == "198.51.100.4")) == 0
        assert session.scalar(select(func.count()).where(LoginFailure.ip == "198.51.100.2")) == 1


def test_prune_deletes_expired_throttling_rows_and_keeps_the_audit(pg_db) -> None:
    _make_user()
    _fail_from("203.0.113.1", times=2)
    later = now() + logins.WINDOW + timedelta(seconds=1)
    _fail_from("203.0.113.2", times=1)
    with session_scope() as session:
        assert logins.prune_login_throttle(session, now()) == 0
    with session_scope() as session:
        assert logins.prune_login_throttle(session, later) == 3
        assert session.scalar(select(func.count(LoginEvent.id))) == 3
    with session_scope() as session:
        assert session.scalar(select(func.count(LoginFailure.id))) == 0


def test_ipv6_addresses_count_per_64_so_a_subscriber_cannot_rotate_around_the_limit(pg_db) -> None:
    _make_user()
    for i in range(logins.PAIR_LIMIT):
        _fail_from(f"2001:db8:1:2::{i + 1:x}", times=1)  # one home's /64, a new address each time
    try:
        authenticate("ana@tienda.com", PASSWORD, "2001:db8:1:2:ffff::9")
    except LoginThrottled:
        pass
    else:
        raise AssertionError("the /64 is one address for the limits")
    assert authenticate("ana@tienda.com", PASSWORD, "2001:db8:1:3::1") is not None  # the next /64 is not
    with session_scope() as session:
        assert {e.address for e in logins.recent_logins(session)} >= {"2001:db8:1:3::1", "2001:db8:1:2::1"}


def test_the_audit_is_kept_for_its_days_then_pruned(pg_db) -> None:
    _make_user()
    _fail_from("203.0.113.5", times=2)
    with session_scope() as session:
        assert logins.prune_login_audit(session, now() + timedelta(days=logins.AUDIT_DAYS - 1)) == 0
        assert logins.prune_login_audit(session, now() + timedelta(days=logins.AUDIT_DAYS, minutes=1)) == 2
