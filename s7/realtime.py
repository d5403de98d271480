"""The realtime bus: domain state changes → every NiceGUI client that shows them.

`publish_after_commit(session, kind, **data)` queues an event on the session; it is delivered
only if and when the transaction commits (a rolled-back change never reaches a screen).
Delivery is in-process to subscribers on the NiceGUI event loop; on Postgres the event is
also sent with NOTIFY so the other replicas deliver it to their own clients (see `pg_bridge`).
Events carry ids, never customer text: subscribers re-read what they show from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

CHANNEL = "s7_events"
ORIGIN = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"  # this process; the bridge skips its own NOTIFYs


@dataclass(frozen=True)
class Event:
    kind: str  # message | status | conversation | note | alert | user
    data: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


Subscriber = Callable[[Event], Any]

_subscribers: list[Subscriber] = []
_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def bind_loop(loop: asyncio.AbstractEventLoop | None) -> None:
    """The loop subscribers live on (NiceGUI's); events from worker threads hop onto it."""
    global _loop
    _loop = loop


def subscribe(callback: Subscriber) -> Callable[[], None]:
    """Register a callback; returns the function that removes it."""
    with _lock:
        _subscribers.append(callback)

    def unsubscribe() -> None:
        with _lock:
            if callback in _subscribers:
                _subscribers.remove(callback)

    return unsubscribe


def reset() -> None:
    """Forget every subscriber (app shutdown): tabs of a stopped app must not receive events,
    and a test harness that restarts the app in-process must start from an empty bus."""
    with _lock:
        _subscribers.clear()


def subscriber_count() -> int:
    return len(_subscribers)


def deliver_local(event: Event) -> None:
    """Hand an event to this process's subscribers, on the subscribers' loop."""
    loop = _loop
    if loop is None or loop.is_closed():
        _dispatch(event)
        return
    run_on_loop(loop, _dispatch, event)


def run_on_loop(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> None:
    """Call `fn(*args)` on `loop`: right away when we are on it, else handed over thread-safely."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        fn(*args)
    else:
        loop.call_soon_threadsafe(fn, *args)


def _dispatch(event: Event) -> None:
    with _lock:
        callbacks = list(_subscribers)
    for callback in callbacks:
        try:
            result = callback(event)
            if asyncio.iscoroutine(result):
                asyncio.ensure_future(result)
        except Exception:  # one broken tab must not stop the others
            log.exception("realtime subscriber failed for %s", event.kind)


def publish(kind: str, **data: Any) -> None:
    """Deliver now (no transaction involved): local subscribers + other replicas."""
    event = Event(kind, data)
    deliver_local(event)
    _notify_other_replicas(event)


def publish_after_commit(session: Session, kind: str, **data: Any) -> None:
    """Queue an event that is published only when `session` commits.

    On Postgres (bridge on) the NOTIFY for the other replicas is issued inside the transaction:
    Postgres delivers it at commit, drops it on rollback, and merges identical payloads.
    """
    event = Event(kind, data)
    call_after_commit(session, lambda: deliver_local(event), key=("event", kind, _key(data)))
    if _bridge_enabled and session.get_bind().dialect.name == "postgresql":
        payload = _notify_payload(event)
        if payload is not None:
            # connection(), not session.execute(): publishing must not autoflush the caller's work.
            session.connection().execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": payload})


# ---- "after commit" callbacks that survive savepoints -------------------------------------------
# Each callback remembers the (sub)transaction it was queued in. A rolled-back savepoint drops only
# what was queued inside it; the outer commit runs the rest; an outer rollback drops everything.

_PENDING_KEY = "s7_after_commit"


def call_after_commit(session: Session, callback: Callable[[], None], *, key: Any = None) -> None:
    """Run `callback` (in the committing thread) once `session`'s transaction commits.
    Callbacks with the same non-None `key` queued in one transaction run once."""
    pending: list[tuple[Any, Any, Callable[[], None]]] | None = session.info.get(_PENDING_KEY)
    if pending is None:
        pending = session.info[_PENDING_KEY] = []
        sa_event.listen(session, "after_commit", _run_pending)
        sa_event.listen(session, "after_soft_rollback", _drop_rolled_back)
    if key is not None and any(k == key for _, k, _ in pending):
        return
    if session.get_transaction() is None:
        session.connection()  # begin now, so the callback belongs to a transaction that can roll back
    transaction = session.get_nested_transaction() or session.get_transaction()
    pending.append((transaction, key, callback))


def _run_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # SQLAlchemy also fires after_commit when a savepoint is released: not a commit yet
    pending = session.info.get(_PENDING_KEY) or []
    callbacks = [callback for _, _, callback in pending]
    pending.clear()
    for callback in callbacks:
        try:
            callback()
        except Exception:  # the data is committed; a failed side effect must not look like a failed commit
            log.exception("after-commit callback failed")


def _drop_rolled_back(session: Session, previous_transaction: Any) -> None:
    pending = session.info.get(_PENDING_KEY)
    if pending:
        pending[:] = [entry for entry in pending if not _inside(entry[0], previous_transaction)]


def _inside(transaction: Any, ancestor: Any) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _key(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, default=str)


# ---- cross-replica bridge (Postgres LISTEN/NOTIFY) ----------------------------------------------

_bridge_enabled = False


def enable_bridge(enabled: bool) -> None:
    global _bridge_enabled
    _bridge_enabled = enabled


def _notify_payload(event: Event) -> str | None:
    payload = json.dumps({"o": ORIGIN, "k": event.kind, "d": event.data}, default=str)
    if len(payload) > 7900:  # NOTIFY payloads must stay under 8000 bytes; events carry ids only
        log.warning("realtime event %s too large for NOTIFY; other replicas will miss it", event.kind)
        return None
    return payload


def _notify_other_replicas(event: Event) -> None:
    """NOTIFY outside any transaction (`publish`): its own short connection."""
    if not _bridge_enabled:
        return
    payload = _notify_payload(event)
    if payload is None:
        return
    try:
        from s7.db import get_engine

        with get_engine().begin() as conn:
            conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": payload})
    except Exception:  # the local delivery already happened; a lost cross-replica blink is logged
        log.warning("could not NOTIFY other replicas of %s", event.kind, exc_info=True)


def decode_notification(payload: str) -> Event | None:
    """A NOTIFY payload from another replica → Event (None for our own or garbage)."""
    try:
        body = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("o") == ORIGIN:
        return None
    return Event(str(body.get("k")), dict(body.get("d") or {}))


async def pg_bridge(conninfo: str, stop: asyncio.Event, *, ready: asyncio.Event | None = None) -> None:
    """LISTEN on the events channel and deliver other replicas' events locally; reconnects.

    `ready` is set once the LISTEN is in place (tests wait for it before publishing).
    """
    import psycopg

    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                if ready is not None:
                    ready.set()
                # Something may have happened while we were disconnected: tell pages to re-read.
                deliver_local(Event("resync"))
                while not stop.is_set():
                    # A bounded wait, so `stop` is noticed within a second even when all is quiet.
                    async for notification in conn.notifies(timeout=1.0):
                        event = decode_notification(notification.payload)
                        if event is not None:
                            deliver_local(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("realtime bridge lost its connection; retrying in 2 s", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=2)
