"""Stored webhook events → the domain, one writer per chat (rule 9), off the request path.

Two steps, both batched:

1. **Split.** New `WebhookEvent`s are parsed (once, here at the edge) and each update becomes an
   `InboundItem` in its customer's *lane* (`InboundChat`), in arrival order. One splitter at a time
   (an advisory lock on Postgres), so item ids follow arrival order across replicas.
2. **Apply.** A worker leases up to `APPLY_LANES` due lanes (FOR UPDATE SKIP LOCKED: any number
   of workers on any number of replicas, never two on one lane), counts an attempt on each lane's
   head in that committed transaction, then applies every lane's items in order in ONE
   transaction, holding the lane rows locked, each item in a savepoint and each a single call into
   `s7.domain.chats.inbound`. Different chats proceed in parallel; one chat never does.

Failures end: an item that raises is retried after a delay with the rest of its lane behind it;
after `MAX_ATTEMPTS` it is parked (`failed`, with its error; a customer message is still shown in
the chat, marked) and the lane moves on. A batch that fails as a whole (a deadlock victim, a lost
connection) is retried lane by lane, item by item, each attempt counted in its own transaction,
so no event can loop forever or stop other customers. Admins see parked items (`reads.health`).
Statuses travel in lanes of their own: a tick waiting for its wamid never delays a customer.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from s7.clock import now
from s7.config import get_settings
from s7.db import is_postgres, lock_key, session_scope
from s7.domain.chats import consent, identity, inbound, lanes, messages
from s7.domain.chats.inbound import Deferred, Incoming
from s7.domain.models import Contact, InboundChat, InboundItem, WebhookEvent
from s7.whatsapp import updates as up
from s7.whatsapp import webhook
from s7.whatsapp.contents import describe, extra_of, referral_of
from s7.whatsapp.wakeup import BackgroundLoop
from s7.whatsapp.webhook import WEBHOOK_CHANNEL, on_event_stored

log = logging.getLogger(__name__)

# Delay before attempt n+1 (index n-1); the last attempt settles whatever is left.
RETRY_DELAYS = (timedelta(seconds=2), timedelta(seconds=5), timedelta(seconds=15), timedelta(minutes=1))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
SPLIT_BATCH = 500
# Lanes per apply transaction. A bot reply reaches the sender only when its batch commits, so a
# batch is kept to ~100 ms of work: at 80 new customers/s, 8 lanes gave reply p95 0.8 s where
# 32 gave 2.9 s (bench.reply_latency), with the same drain rate.
APPLY_LANES = 8
LEASE = timedelta(seconds=60)  # informative: who has had a lane since when (health page)
# Per process, Postgres only: while one worker waits on a round trip the other applies. More
# workers add no CPU (one GIL) and stretch every batch they interleave with.
PARALLEL_WORKERS = 2
POLL_SECONDS = 5.0
GIL_SWITCH_SECONDS = 0.001
ACK_PRIORITY_MAX_WAITS = 50  # ≤ ~50 ms per batch: processing slows under load, never stops
BURST_ACKS_PER_SECOND = 150.0
BURST_MAX_PAUSE_SECONDS = 2.0
BURST_SAMPLE_SECONDS = 0.01
_SPLIT_LOCK = lock_key("s7.processor.split")
SYSTEM_LANE = "sys"


# ---- the loop -------------------------------------------------------------------------------------
def process_pending(limit: int = 1000) -> int:
    """Split what arrived and apply due lanes until nothing is due (or `limit` items were
    applied). Returns how many items were applied or parked."""
    handled = 0
    while handled < limit:
        split = split_new_events()
        applied = apply_due_lanes()
        handled += applied
        if not split and not applied:
            break
        _let_acks_through()
    return handled


def _let_acks_through() -> None:
    """Between batches, step aside (bounded) while webhooks are being answered: the ack is what
    Meta times out on, and the work we would do next is safe in the table. In one process: while
    a webhook is in flight here. As the web process's child: while it is receiving a burst
    (≥ `BURST_ACKS_PER_SECOND`; a steady 80/s is no burst), at most `BURST_MAX_PAUSE_SECONDS`
    per batch, so processing slows during a burst but never stops."""
    for _ in range(ACK_PRIORITY_MAX_WAITS):
        if not webhook.busy():
            break
        time.sleep(0.001)
    deadline = time.monotonic() + BURST_MAX_PAUSE_SECONDS
    while webhook.ack_rate() >= BURST_ACKS_PER_SECOND and time.monotonic() < deadline:
        time.sleep(BURST_SAMPLE_SECONDS)


# ---- 1. split: events → items in their customer's lane ----------------------------------------------
def split_new_events(limit: int = SPLIT_BATCH) -> int:
    """Parse pending events into lane items (arrival order kept). Returns events handled."""
    with session_scope() as session:
        if is_postgres(session):
            # One splitter at a time keeps item ids in arrival order; a second one waits the few
            # milliseconds a split takes, then finds the events already split.
            session.execute(select(func.pg_advisory_xact_lock(_SPLIT_LOCK)))
        events = session.scalars(
            select(WebhookEvent).where(WebhookEvent.state == "pending").order_by(WebhookEvent.id).limit(limit)
        ).all()
        if not events:
            return 0
        at = now()
        items: list[dict[str, Any]] = []
        for event in events:
            event.processed_at = at
            updates, problems = parse_body(event.body)
            # A part the parser could not read is parked with the event (admins see it, with
            # the raw body); every readable part goes on to its chat regardless.
            event.state, event.error = ("failed", "; ".join(problems)[:4000]) if problems else ("done", None)
            for position, update in enumerate(updates):
                if _for_our_number(update):
                    items.append(
                        {
                            "event_id": event.id,
                            "position": position,
                            "chat_key": lane_of(update),
                            "kind": type(update).__name__,
                            "state": "pending",
                            "attempts": 0,
                            "created_at": at,
                        }
                    )
        _resolve_lanes(session, items)
        if items:
            session.execute(InboundItem.__table__.insert(), items)
            lanes.mark_due(session, {item["chat_key"] for item in items}, at)
        return len(events)


def parse_body(body: str) -> tuple[list[up.Update], list[str]]:
    """Typed updates of a stored body, and what could not be read. Never raises: a change the
    parser chokes on costs that change only, not the other customers of the same body. The same
    body always gives the same list (items point into it by position)."""
    try:
        document = json.loads(body)
    except ValueError as exc:  # the webhook checked it; only a hand-edited row gets here
        return [], [f"unreadable body: {exc}"]
    try:
        return up.parse(document), []
    except Exception as exc:
        whole = _short(exc)
        log.warning("webhook body not parsed whole (%s); reading it change by change", whole)
    updates: list[up.Update] = []
    problems: list[str] = []
    entries = document.get("entry") if isinstance(document, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            single = {"object": document.get("object"), "entry": [{"id": entry.get("id"), "changes": [change]}]}
            try:
                updates.extend(up.parse(single))
            except Exception as exc:
                field = change.get("field") if isinstance(change, dict) else None
                problems.append(f"unreadable {field or 'change'}: {_short(exc)}")
    if not updates and not problems:
        problems.append(f"unreadable body: {whole}")
    return updates, problems


def lane_of(update: up.Update) -> str:
    """The unit of order: one lane per customer (phone first, else the business-scoped id)."""
    if isinstance(update, up.StatusUpdate):
        # Ticks only move forward whatever their order, so each message's ticks are a lane of
        # their own: one waiting for its wamid never holds another, nor any customer.
        return f"st:{update.wamid}"
    if isinstance(update, up.CustomerMessage | up.BusinessEcho | up.HistoryMessage | up.ContactSync):
        return _customer_lane(getattr(update, "wa_id", None), getattr(update, "user_id", None))
    if isinstance(update, up.MarketingPreference):
        return _customer_lane(update.wa_id, update.user_id)
    if isinstance(update, up.UserIdChange):
        return _customer_lane(update.wa_id, update.previous)
    return SYSTEM_LANE


def _customer_lane(wa_id: str | None, user_id: str | None) -> str:
    if wa_id:
        return f"wa:{wa_id}"
    if user_id:
        return f"u:{user_id}"
    return SYSTEM_LANE


def _resolve_lanes(session: Session, items: list[dict[str, Any]]) -> None:
    """A customer known by phone who writes with only their business-scoped id stays in the
    phone's lane: one writer per person, not per identifier (rule 10)."""
    by_user = {item["chat_key"][2:] for item in items if item["chat_key"].startswith("u:")}
    if not by_user:
        return
    phones = dict(
        session.execute(
            select(Contact.user_id, Contact.wa_id).where(Contact.user_id.in_(by_user), Contact.wa_id.is_not(None))
        ).all()
    )
    for item in items:
        key = item["chat_key"]
        if key.startswith("u:") and phones.get(key[2:]):
            item["chat_key"] = f"wa:{phones[key[2:]]}"


def _for_our_number(update: up.Update) -> bool:
    """Ignore traffic for another number of the same WABA (several numbers, one app)."""
    ours = get_settings().WHATSAPP_PHONE_NUMBER_ID
    theirs = update.envelope.phone_number_id
    return not (ours and theirs and ours != theirs)


# ---- 2. apply: lanes → the domain ----------------------------------------------------------------
def apply_due_lanes(max_lanes: int | None = None) -> int:
    """Lease due lanes and apply their items. Returns how many items ended (done or parked)."""
    token = uuid.uuid4().hex
    keys = _lease(token, max_lanes or APPLY_LANES)
    if not keys:
        return 0
    for attempt in range(3):
        try:
            return _apply_batch(token, keys)
        except DBAPIError as exc:
            # A deadlock victim or serialization failure: the whole batch is retried, never
            # half-applied. Anything else (or a third failure) falls back to one item at a time.
            if not _retryable(exc) or attempt == 2:
                log.warning("inbound batch failed (%s); applying its lanes item by item", _short(exc))
                break
            log.info("inbound batch retried after %s", _short(exc))
        except Exception as exc:
            log.warning("inbound batch failed (%s); applying its lanes item by item", _short(exc), exc_info=True)
            break
    return sum(_apply_lane_carefully(token, key) for key in keys)


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01")  # serialization_failure, deadlock_detected


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}" if str(exc) else type(exc).__name__


def _lease(token: str, max_lanes: int) -> list[str]:
    """Take due lanes nobody holds; count an attempt on each lane's head, committed now (so an
    item that kills its worker still runs out of attempts).

    "Nobody holds" is the row lock, not the lease time: a worker applying a lane keeps its row
    locked (`_held_lanes`), and a worker that died lost its lock with its connection, so its lanes
    are free again at once. Two workers that lease the same lane in the instant between one's
    lease and its lock cannot both apply it: only the latest token is honoured.
    """
    at = now()
    with session_scope() as session:
        statement = (
            select(InboundChat.chat_key)
            .where(InboundChat.due_at <= at)
            .order_by(InboundChat.due_at, InboundChat.chat_key)
            .limit(max_lanes)
        )
        if is_postgres(session):
            statement = statement.with_for_update(skip_locked=True)
        keys = list(session.scalars(statement))
        if not keys:
            return []
        session.execute(
            update(InboundChat)
            .where(InboundChat.chat_key.in_(keys))
            .values(leased_by=token, leased_until=at + LEASE)
            .execution_options(synchronize_session=False)
        )
        heads = (
            select(func.min(InboundItem.id))
            .where(InboundItem.chat_key.in_(keys), InboundItem.state == "pending")
            .group_by(InboundItem.chat_key)
        )
        session.execute(
            update(InboundItem)
            .where(InboundItem.id.in_(heads))
            .values(attempts=InboundItem.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return keys


def _held_lanes(session: Session, token: str, keys: list[str]) -> list[str]:
    """Lock our leased lane rows (in key order: no deadlock between workers) for the whole
    apply; a lane whose lease expired and went to another worker is skipped."""
    statement = select(InboundChat.chat_key).where(InboundChat.chat_key.in_(keys), InboundChat.leased_by == token)
    if is_postgres(session):
        statement = statement.order_by(InboundChat.chat_key).with_for_update()
    return list(session.scalars(statement))


@dataclass
class _Item:
    """An item as the apply loop needs it (plain values: results are written back in bulk)."""

    id: int
    event_id: int
    position: int
    chat_key: str
    kind: str
    attempts: int
    state: str = "pending"
    error: str | None = None


def _pending_items(session: Session, keys: list[str]) -> dict[str, list[_Item]]:
    found: dict[str, list[_Item]] = {key: [] for key in keys}
    rows = session.execute(
        select(
            InboundItem.id,
            InboundItem.event_id,
            InboundItem.position,
            InboundItem.chat_key,
            InboundItem.kind,
            InboundItem.attempts,
        )
        .where(InboundItem.chat_key.in_(keys), InboundItem.state == "pending")
        .order_by(InboundItem.id)
    )
    for row in rows:
        found[row.chat_key].append(_Item(*row))
    return found


def _apply_batch(token: str, keys: list[str]) -> int:
    careful: list[str] = []
    with session_scope() as session:
        held = _held_lanes(session, token, keys)
        pending = _pending_items(session, held)
        reader = _UpdateReader(session, [item for items in pending.values() for item in items])
        results: list[_Item] = []
        released: dict[str, datetime | None] = {}
        for key in held:
            items = pending[key]
            if items and items[0].attempts > 1:
                careful.append(key)  # failed before: after this batch, item by item (see below)
                continue
            released[key] = _run_lane(session, reader, items, results)
        ended = sum(1 for item in results if item.state != "pending")
        _write_results(session, results)
        _release_lanes(session, released)
    # Lanes whose head failed before get the careful path: each item in its own transactions.
    for key in careful:
        ended += _apply_lane_carefully(token, key)
    return ended


def _run_lane(session: Session, reader: _UpdateReader, items: list[_Item], results: list[_Item]) -> datetime | None:
    """Apply one lane's items in order inside the caller's transaction. Stops at the first item
    that must wait or failed (the rest of the lane keeps its order behind it). Returns when the
    lane is due again (None: nothing left)."""
    for position, item in enumerate(items):
        if position > 0:
            item.attempts += 1
        retry_at = _apply_item(session, reader, item)
        results.append(item)
        if retry_at is not None:
            return retry_at
    return None


def _apply_item(session: Session, reader: _UpdateReader, item: _Item) -> datetime | None:
    """Apply one item in a savepoint. None when it ended (done or parked); else when to retry."""
    final = item.attempts >= MAX_ATTEMPTS
    at = now()
    try:
        update_ = reader.read(item)
        with session.begin_nested():
            note = dispatch(session, update_, final=final)
    except Deferred as wait:
        item.error = str(wait)[:4000]
        if not final:
            return at + _delay(item.attempts)
        item.state = "done"  # settled as it stands after the last attempt
        return None
    except Exception as exc:
        # A warning with its traceback: it will be retried. Parking it (below) is the error.
        log.warning("inbound item %s (%s) failed, attempt %d", item.id, item.kind, item.attempts, exc_info=True)
        item.error = _short(exc)[:4000]
        if not final:
            return at + _delay(item.attempts)
        _park(session, reader, item)
        return None
    item.state, item.error = "done", note
    return None


def _write_results(session: Session, results: list[_Item]) -> None:
    """One executemany for every item this batch touched."""
    if not results:
        return
    at = now()
    session.execute(
        update(InboundItem),
        [
            {"id": item.id, "state": item.state, "error": item.error, "attempts": item.attempts, "processed_at": at}
            for item in results
        ],
    )


def _delay(attempts: int) -> timedelta:
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


def _park(session: Session, reader: _UpdateReader, item: _Item) -> None:
    """Out of attempts: park the item with its error; a customer message still shows in its
    chat, marked, so nobody's words disappear."""
    item.state = "failed"
    log.error("inbound item %s (%s) parked after %d attempts: %s", item.id, item.kind, item.attempts, item.error)
    try:
        update_ = reader.read(item)
    except Exception:
        return
    if isinstance(update_, up.CustomerMessage) and not isinstance(update_.content, up.Reaction | up.Edit | up.Revoke):
        try:
            with session.begin_nested():
                inbound.record_parked(session, _incoming(update_), error=item.error or "")
        except Exception:
            log.exception("could not show parked item %s in its chat", item.id)


def _release_lanes(session: Session, due: dict[str, datetime | None]) -> None:
    """Hand the lanes back: due again at their retry time, or idle (nothing left that we saw;
    the splitter's upsert waits for our lock and marks a lane due again if it added more)."""
    if not due:
        return
    session.execute(
        update(InboundChat),
        [{"chat_key": key, "due_at": at, "leased_by": None, "leased_until": None} for key, at in due.items()],
    )


def _apply_lane_carefully(token: str, key: str) -> int:
    """The slow, exact path: each item's attempt counted and committed on its own, then the item
    applied in its own transaction. Used for lanes whose head failed before and after a batch
    that failed as a whole."""
    ended = 0
    first = True
    while True:
        with session_scope() as session:
            if not _held_lanes(session, token, [key]):
                return ended
            items = _pending_items(session, [key])[key]
            if not items:
                _release_lanes(session, {key: None})
                return ended
            head = items[0]
            if not first or head.attempts == 0:  # the lease counted the first one already
                head.attempts += 1
                session.execute(update(InboundItem).where(InboundItem.id == head.id).values(attempts=head.attempts))
            first = False
        with session_scope() as session:
            if not _held_lanes(session, token, [key]):
                return ended
            reader = _UpdateReader(session, [head])
            retry_at = _apply_item(session, reader, head)
            _write_results(session, [head])
            if retry_at is not None:
                _release_lanes(session, {key: retry_at})
                return ended
            ended += 1


class _UpdateReader:
    """Re-reads each item's update from its event's body, parsing each body once per batch."""

    def __init__(self, session: Session, items: list[_Item]) -> None:
        ids = {item.event_id for item in items}
        self._bodies = (
            dict(session.execute(select(WebhookEvent.id, WebhookEvent.body).where(WebhookEvent.id.in_(ids))).all())
            if ids
            else {}
        )
        self._parsed: dict[int, list[up.Update]] = {}

    def read(self, item: _Item) -> up.Update:
        parsed = self._parsed.get(item.event_id)
        if parsed is None:
            body = self._bodies.get(item.event_id)
            if body is None:
                raise LookupError(f"the body of webhook event {item.event_id} is gone")
            parsed = self._parsed[item.event_id] = parse_body(body)[0]
        return parsed[item.position]


# ---- one update → one domain call -----------------------------------------------------------------
def dispatch(session: Session, update: up.Update, *, final: bool) -> str | None:
    """Parse → dispatch: each kind of update is one call into `s7.domain.chats.inbound` (or the
    message store for reactions, edits and deletions). Returns a note worth keeping, if any."""
    if isinstance(update, up.CustomerMessage | up.BusinessEcho | up.HistoryMessage) and _edits_existing(
        session, update.content
    ):
        return None
    if isinstance(update, up.CustomerMessage):
        if isinstance(update.content, up.System):
            inbound.receive_system_notice(session, _incoming(update))
        else:
            notes: list[str] = []
            inbound.receive_customer_message(session, _incoming(update), notes=notes)
            return "; ".join(notes) or None
    elif isinstance(update, up.BusinessEcho):
        inbound.receive_business_echo(session, _incoming(update), final=final)
    elif isinstance(update, up.HistoryMessage):
        status = _HISTORY_STATUS.get((update.status or "").upper(), "sent") if update.from_business else None
        inbound.receive_history_message(session, _incoming(update), from_business=update.from_business, status=status)
    elif isinstance(update, up.StatusUpdate):
        return inbound.receive_status(
            session,
            wamid=update.wamid,
            status=update.status,
            at=update.timestamp,
            error="; ".join(e.describe() for e in update.errors) or None,
            our_message_id=_our_message_id(update.callback_data),
            final=final,
            pricing=None if update.pricing is None else asdict(update.pricing),
            recipient=None if update.recipient_type == "group" else (update.recipient_id, update.recipient_user_id),
        )
    elif isinstance(update, up.ContactSync):
        if update.action == "add" and update.wa_id and update.full_name:
            inbound.receive_contact_name(session, wa_id=update.wa_id, full_name=update.full_name)
    elif isinstance(update, up.MarketingPreference):
        consent.apply_preference(
            session, phone=update.wa_id, bsuid=update.user_id, value=update.value, at=update.timestamp,
            detail=update.detail,
        )  # fmt: skip
    elif isinstance(update, up.UserIdChange):
        identity.apply_user_id_change(session, update.previous, update.current, phone=update.wa_id, at=update.timestamp)
    elif isinstance(update, up.AccountUpdate):
        log.warning("WhatsApp account update: %s", update.event or update.raw)
    elif isinstance(update, up.WebhookError):
        log.warning("WhatsApp reported an error in a %s webhook: %s", update.envelope.field, update.error.describe())
    else:
        log.warning("kept an unknown webhook update (%s): %.500s", update.reason, json.dumps(update.raw, default=str))
    return None


def _incoming(update: up.CustomerMessage | up.BusinessEcho | up.HistoryMessage) -> Incoming:
    kind, text, options, media = describe(update.content)
    return Incoming(
        wamid=update.wamid,
        wa_id=update.wa_id,
        type=kind,
        text=text,
        options=options,
        media=media,
        timestamp=update.timestamp,
        user_id=getattr(update, "user_id", None),
        name=getattr(update, "name", None),
        context_wamid=getattr(update, "context_wamid", None),
        referral=referral_of(update.referral) if getattr(update, "referral", None) else None,
        username=getattr(update, "username", None),
        extra=extra_of(update) if isinstance(update, up.CustomerMessage) else None,
    )


def _our_message_id(callback_data: str | None) -> int | None:
    """Our sends carry `biz_opaque_callback_data = s7:<message id>`."""
    data = callback_data or ""
    return int(data[3:]) if data.startswith("s7:") and data[3:].isdigit() and len(data) < 24 else None


_HISTORY_STATUS = {
    "PENDING": "queued",
    "SENT": "sent",
    "DELIVERED": "delivered",
    "READ": "read",
    "PLAYED": "read",
    "ERROR": "failed",
}


def _edits_existing(session: Session, content: up.Content) -> bool:
    """Reactions, edits and deletions change an earlier message instead of adding one."""
    if isinstance(content, up.Reaction):
        if messages.set_reaction(session, content.target_wamid, content.emoji) is None:
            log.info("reaction to unknown message %s ignored", content.target_wamid)
        return True
    if isinstance(content, up.Edit):
        _kind, text, _options, media = describe(content.content)
        if messages.apply_edit(session, content.original_wamid, text=text, media=media) is None:
            log.info("edit of unknown message %s ignored", content.original_wamid)
        return True
    if isinstance(content, up.Revoke):
        if messages.apply_revoke(session, content.original_wamid) is None:
            log.info("deletion of unknown message %s ignored", content.original_wamid)
        return True
    return False


# ---- running in the app --------------------------------------------------------------------
async def _work() -> int:
    """Drain with a couple of workers on Postgres (while one waits on a round trip the other
    applies; SKIP LOCKED keeps them on different lanes). SQLite has one writer: one worker."""
    workers = 1 if get_settings().is_sqlite else PARALLEL_WORKERS
    if workers == 1:
        return await asyncio.to_thread(process_pending)
    counts = await asyncio.gather(*(asyncio.to_thread(process_pending) for _ in range(workers)))
    return sum(counts)


_loop = BackgroundLoop("webhook-processor", _work, poll_seconds=POLL_SECONDS, channel=WEBHOOK_CHANNEL)
_unsubscribe: Any = None


def start() -> None:
    """Start processing in this process (app startup, `s7 worker`); call it on the running event
    loop. Woken right after each stored webhook, by NOTIFY from other processes on Postgres,
    and every few seconds regardless."""
    global _unsubscribe
    if _unsubscribe is None:
        _unsubscribe = on_event_stored(_loop.wake)
    # The bot's turn is CPU-bound Python in a worker thread; with the default 5 ms GIL switch
    # interval each hand-back to the event loop can cost an ack 5 ms, several times per request.
    sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_SECONDS))
    # Bot turns allocate many short-lived objects; a full collection then walks the whole
    # long-lived heap (framework, caches) and stalls every ack for it. Frozen objects are skipped.
    gc.freeze()
    _loop.start()


async def stop() -> None:
    """Finish the event in hand and stop (app shutdown). Unprocessed events stay pending."""
    global _unsubscribe
    if _unsubscribe is not None:
        _unsubscribe()
        _unsubscribe = None
    await _loop.stop()


def wake() -> None:
    _loop.wake()
