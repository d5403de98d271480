"""The durable sender: outbox rows → Graph API (or the sandbox), in order, within rate limits.

- Strict order per chat: a row is claimed only when no earlier row of its conversation is still
  pending or sending, so item N+1 never leaves before N is sent or has definitively failed.
- Claimed with FOR UPDATE SKIP LOCKED and leased (state `sending`, lease in `next_attempt_at`):
  several senders share the work, and a sender that dies mid-send gives its rows back when the
  lease expires (that send may then go out twice: at-least-once is the price of not losing it).
- Retries with exponential backoff and jitter on network errors, timeouts, 5xx, 429/130429/4,
  131000 and the per-customer pair limit 131056; permanent refusals (131047, 131026, 100…)
  fail the message at once with Meta's reason, which sellers see on the message.
- A token bucket keeps this process under WHATSAPP_MESSAGES_PER_SECOND (80 by default; set 20
  for a coexistence number); a throttling answer pauses it for everyone.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from s7.clock import now
from s7.config import get_settings
from s7.db import is_postgres, session_scope, skip_locked
from s7.domain.chats import gate, messages
from s7.domain.models import Message, OutboxItem
from s7.whatsapp.graph import MESSAGE_KINDS, GraphClient, SendError, SendResult, Transport
from s7.whatsapp.wakeup import Service

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10  # ≈ 15 minutes of backoff before a message is declared failed
RECEIPT_MAX_ATTEMPTS = 3  # read receipts / typing are worthless late; they must not block replies long
BASE_DELAY = 1.0
MAX_DELAY = 300.0
TYPING_TTL = timedelta(seconds=20)  # WhatsApp hides the indicator after 25 s anyway
BATCH = 32
CONCURRENCY = 16
POLL_SECONDS = 1.0
REFILL_CHUNK = 4  # tokens a sender waits for when the shared bucket is empty
THROTTLE_PAUSE = 2.0  # seconds every send waits after Meta says the number is over its rate
STOP_GRACE_SECONDS = 10.0  # at shutdown, rounds still on the wire after this are cut


@dataclass(frozen=True)
class Claimed:
    id: int
    conversation_id: int
    message_id: int | None
    kind: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


class RateLimiter:
    """Token bucket (real time: throughput is about wall-clock seconds, not the domain clock)."""

    def __init__(
        self,
        rate_per_second: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = rate_per_second
        self.capacity = burst if burst is not None else max(1.0, rate_per_second)
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def expect(self, sends: int) -> None:
        """A round is about to make `sends` sends (the shared bucket takes them in one go)."""

    def pause(self, seconds: float) -> None:
        """Meta said the number is over its throughput: nobody sends for a while."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                current = self._clock()
                if current < self._paused_until:
                    await self._sleep(self._paused_until - current)
                    continue
                self._tokens = min(self.capacity, self._tokens + (current - self._last) * self.rate)
                self._last = current
                if self._tokens >= 1 - 1e-9:  # tolerance: float refills may land a hair under 1
                    self._tokens = max(0.0, self._tokens - 1)
                    return
                await self._sleep((1 - self._tokens) / self.rate)


class SharedRateLimiter(RateLimiter):
    """The same bucket, kept in Postgres (`send_rate`) so that every replica draws from one:
    Meta's throughput limit belongs to the phone number, so two replicas together must stay
    under WHATSAPP_MESSAGES_PER_SECOND. Tokens are taken from the shared row a round at a time
    (`expect`: one short statement for the sends a round is about to make, the row locked only
    for that statement) and spent locally; Meta's throttling answers still pause this process."""

    def __init__(self, rate_per_second: float, **kwargs: Any) -> None:
        super().__init__(rate_per_second, **kwargs)
        self._reserve = 0  # tokens already taken from the shared bucket, not yet spent
        self._wanted = 1  # how many the sends in hand will need (a hint; at least 1)

    def expect(self, sends: int) -> None:
        self._wanted = max(1, sends)

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                current = self._clock()
                if current < self._paused_until:
                    await self._sleep(self._paused_until - current)
                    continue
                if self._reserve > 0:
                    self._reserve -= 1
                    self._wanted = max(1, self._wanted - 1)
                    return
                granted, wait = await asyncio.to_thread(_take_shared_tokens, self.rate, self.capacity, self._wanted)
                self._reserve += granted
                if not granted:
                    await self._sleep(wait)


_TAKE_TOKENS = text(
    """
    WITH bucket AS (
        SELECT LEAST(:capacity, tokens + EXTRACT(EPOCH FROM (clock_timestamp() - refilled_at)) * :rate) AS level
        FROM send_rate WHERE id = 1 FOR UPDATE
    ), take AS (
        SELECT level, GREATEST(0, LEAST(:want, FLOOR(level + 1e-9)))::integer AS granted FROM bucket
    )
    UPDATE send_rate
    SET tokens = GREATEST(0, take.level - take.granted), refilled_at = clock_timestamp()
    FROM take WHERE send_rate.id = 1
    RETURNING take.level, take.granted
    """
)
_ENSURE_BUCKET = text(
    "INSERT INTO send_rate (id, tokens, refilled_at) VALUES (1, :capacity, clock_timestamp()) "
    "ON CONFLICT (id) DO NOTHING"
)


def _take_shared_tokens(rate: float, capacity: float, want: int) -> tuple[int, float]:
    """Take up to `want` tokens from the shared bucket: (taken, seconds to wait when none)."""
    values = {"rate": rate, "capacity": capacity, "want": max(1, min(want, int(capacity) or 1))}
    with session_scope() as session:
        row = session.execute(_TAKE_TOKENS, values).one_or_none()
        if row is None:
            session.execute(_ENSURE_BUCKET, {"capacity": capacity})
            row = session.execute(_TAKE_TOKENS, values).one()
    level, granted = float(row.level or 0.0), int(row.granted or 0)
    # Empty: come back when a few tokens are there (≤ 50 ms at 80/s), not for each single one,
    # so a sender at its limit spends one statement per few sends, not one per send.
    return granted, 0.0 if granted else max(0.0, (min(values["want"], REFILL_CHUNK) - level) / rate)


def default_limiter() -> RateLimiter:
    """Per number: shared through Postgres across replicas; in-process on SQLite."""
    settings = get_settings()
    if settings.is_sqlite:
        return RateLimiter(settings.WHATSAPP_MESSAGES_PER_SECOND)
    return SharedRateLimiter(settings.WHATSAPP_MESSAGES_PER_SECOND)


def backoff(attempts: int, error: SendError, rng: random.Random) -> float:
    """Seconds before the next try: exponential with jitter ("equal jitter": half fixed, half
    random) so a burst of failures does not come back as a burst. The pair limit follows Meta's
    advice (4^n seconds)."""
    delay = 4.0**attempts if error.pair_limited else BASE_DELAY * 2 ** (attempts - 1)
    delay = min(MAX_DELAY, delay)
    return delay / 2 + rng.random() * delay / 2


# ---- database steps (synchronous; run them in a thread) ------------------------------------
def claim_due(limit: int = BATCH, *, skip: Collection[int] = ()) -> list[Claimed]:
    """Lease the next row of each conversation whose turn it is (not of the `skip` chats: this
    sender's rows still on the wire there keep their order, whoever holds the chat now).

    The send gate (rule 8) is part of the claim: a bot/job row is taken only while its chat is
    BOT_ON in this very statement; such rows of chats a human holds are cancelled first. A row
    whose message Meta already confirmed (its wamid came back in a status webhook while our call
    timed out) is settled as sent here, never POSTed again.
    """
    at = now()
    with session_scope() as session:
        _release_expired_leases(session, at)
        gate.cancel_closed_gate_rows(session)
        statement = (
            select(OutboxItem)
            .where(
                OutboxItem.state == "pending",
                OutboxItem.next_attempt_at <= at,
                gate.gate_open(),
                ~gate.earlier_row_in_the_way(),
            )
            .order_by(OutboxItem.id)
            .limit(limit)
        )
        if skip:
            statement = statement.where(OutboxItem.conversation_id.not_in(list(skip)))
        if is_postgres(session):
            statement = statement.with_for_update(skip_locked=True, of=OutboxItem)
        else:
            statement = skip_locked(statement, session)
        rows = list(session.scalars(statement))
        confirmed = _already_confirmed(session, rows)
        claimed = []
        for item in rows:
            if item.id in confirmed:
                item.state, item.sent_at, item.last_error = "sent", at, None
                log.info("outbox row %s: Meta already confirmed it; not sent again", item.id)
                continue
            item.state = "sending"
            item.attempts += 1
            # Far above the HTTP timeout, so a live sender never loses its lease (OUTBOX_LEASE_SECONDS).
            item.next_attempt_at = at + timedelta(seconds=get_settings().OUTBOX_LEASE_SECONDS)
            claimed.append(
                Claimed(
                    item.id,
                    item.conversation_id,
                    item.message_id,
                    item.kind,
                    dict(item.payload),
                    item.attempts,
                    item.created_at,
                )
            )
        return claimed


def _already_confirmed(session: Session, rows: list[OutboxItem]) -> set[int]:
    """Rows tried before whose message has a wamid: Meta accepted it (exactly one delivery)."""
    retried = {row.message_id: row.id for row in rows if row.attempts > 0 and row.message_id is not None}
    if not retried:
        return set()
    known = session.scalars(select(Message.id).where(Message.id.in_(retried), Message.wa_message_id.is_not(None)))
    return {retried[message_id] for message_id in known}


def _release_expired_leases(session: Session, at: datetime) -> None:
    released = session.execute(
        update(OutboxItem)
        .where(OutboxItem.state == "sending", OutboxItem.next_attempt_at <= at)
        .values(state="pending", next_attempt_at=at, last_error="a sender stopped mid-send; retried")
        .execution_options(synchronize_session=False)
    ).rowcount
    if released:
        log.warning("took back %d outbox rows from a sender that stopped mid-send", released)


@dataclass(frozen=True)
class Outcome:
    """How one claimed row's send ended: a result, or an error and when to retry (None: never)."""

    item: Claimed
    result: SendResult | None = None
    error: SendError | None = None
    retry_in: float | None = None


def record_outcomes(outcomes: list[Outcome]) -> None:
    """Settle a round's sends in one transaction: rows and messages read (and locked, in id
    order) with one statement each, the changes flushed together."""
    if not outcomes:
        return
    with session_scope() as session:
        postgres = is_postgres(session)
        rows_query = select(OutboxItem).where(OutboxItem.id.in_([o.item.id for o in outcomes])).order_by(OutboxItem.id)
        rows = {row.id: row for row in session.scalars(rows_query.with_for_update() if postgres else rows_query)}
        message_ids = [o.item.message_id for o in outcomes if o.item.message_id is not None]
        found: dict[int, Message] = {}
        if message_ids:
            messages_query = select(Message).where(Message.id.in_(message_ids)).order_by(Message.id)
            found = {m.id: m for m in session.scalars(messages_query.with_for_update() if postgres else messages_query)}
        at = now()
        for outcome in outcomes:
            row = rows.get(outcome.item.id)
            if row is not None:
                message = found.get(outcome.item.message_id) if outcome.item.message_id is not None else None
                _settle(session, row, message, outcome, at)


def _settle(session: Session, row: OutboxItem, message: Message | None, outcome: Outcome, at: datetime) -> None:
    """One row's end, flushed with the round's others at commit."""
    item = outcome.item
    if outcome.error is None:
        row.state, row.sent_at, row.last_error, row.next_attempt_at = "sent", at, None, at
        if message is not None and outcome.result is not None and outcome.result.wamid:
            messages.apply_status(session, message, "sent", wa_message_id=outcome.result.wamid, flush=False)
        return
    error = outcome.error
    row.last_error = error.reason[:2000]
    if outcome.retry_in is not None:
        row.state = "pending"
        row.next_attempt_at = at + timedelta(seconds=outcome.retry_in)
        return
    row.state = "failed"
    row.next_attempt_at = at
    if message is not None:
        reason = error.reason
        if error.retryable:
            reason = f"No se pudo enviar tras {item.attempts} intentos: {reason}"
        messages.fail(session, message, reason, flush=False)


def record_failure(item: Claimed, error: SendError, *, retry_in: float | None) -> None:
    """`retry_in=None`: give up (the message shows Meta's reason); else back off that long."""
    record_outcomes([Outcome(item, error=error, retry_in=retry_in)])


# ---- the sender ----------------------------------------------------------------------------
class Sender:
    """One process's sender. `run_once()` claims the rows due now and sends them.

    With `overlap=1` (tests, the CLI) it is a full round: claim, send concurrently, record. The
    app's sender runs with `overlap=2`: a round's sends and their recording go on in the
    background while the next claim is made, so a reply committed mid-round waits for a claim,
    not for the whole round. Chats keep their order: the next claims skip the chats of rows
    still on the wire here (even if a seller took the chat meanwhile: the seller's message then
    waits at most one HTTP timeout behind the bot's, as rule 8 allows). `after_round` is called
    when a background round ends (the app wakes its loop: rows behind that round's may be due).
    """

    def __init__(
        self,
        transport: Transport,
        *,
        limiter: RateLimiter | None = None,
        rng: random.Random | None = None,
        batch: int = BATCH,
        concurrency: int = CONCURRENCY,
        overlap: int = 1,
        after_round: Callable[[], None] | None = None,
    ) -> None:
        self.transport = transport
        self.limiter = limiter or default_limiter()
        self.rng = rng or random.Random()
        self.batch = batch
        self.overlap = max(1, overlap)
        self.after_round = after_round
        self._semaphore = asyncio.Semaphore(concurrency)
        self._rounds: dict[asyncio.Task[None], list[Claimed]] = {}  # background rounds, their rows

    async def run_once(self) -> int:
        while len(self._rounds) >= self.overlap:
            await asyncio.wait(set(self._rounds), return_when=asyncio.FIRST_COMPLETED)
        on_the_wire = {item.conversation_id for rows in self._rounds.values() for item in rows}
        claimed = await asyncio.to_thread(claim_due, self.batch, skip=on_the_wire)
        if not claimed:
            return 0
        self.limiter.expect(len(claimed))
        if self.overlap == 1:
            await self._round(claimed)
            return len(claimed)
        task = asyncio.create_task(self._round(claimed), name="s7-outbox-round")
        self._rounds[task] = claimed
        task.add_done_callback(self._round_ended)
        return len(claimed)

    async def _round(self, claimed: list[Claimed]) -> None:
        outcomes = await asyncio.gather(*(self._deliver(item) for item in claimed))
        await asyncio.to_thread(record_outcomes, outcomes)

    def _round_ended(self, task: asyncio.Task[None]) -> None:
        self._rounds.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            # Its rows stay 'sending' until their lease ends, then are retried (never lost).
            log.error("outbox round failed", exc_info=task.exception())
        if self.after_round is not None:
            self.after_round()

    async def settle(self, timeout: float | None = None) -> None:
        """Wait for the rounds still sending in the background; past `timeout`, cancel them
        (their rows stay 'sending' until the lease ends, then are retried: never lost)."""
        if not self._rounds:
            return
        _, late = await asyncio.wait(set(self._rounds), timeout=timeout)
        for task in late:
            task.cancel()
        if late:
            log.warning("outbox: %d send rounds cut at shutdown; their rows are retried later", len(late))
            await asyncio.wait(late)

    async def aclose(self) -> None:
        await self.settle(timeout=STOP_GRACE_SECONDS)
        await self.transport.aclose()

    async def drain(self, max_rounds: int = 100) -> int:
        """Rounds until nothing is due now (tests, the CLI). Returns rows handled."""
        total = 0
        for _ in range(max_rounds):
            handled = await self.run_once()
            if not handled:
                if not self._rounds:
                    break
                await self.settle()  # rows behind those rounds may be due now
                continue
            total += handled
        await self.settle()
        return total

    async def _deliver(self, item: Claimed) -> Outcome:
        if item.kind == "typing" and now() - item.created_at > TYPING_TTL:
            error = SendError("Indicador de escritura vencido: no se envió", retryable=False)
            return Outcome(item, error=error, retry_in=None)
        callback = f"s7:{item.message_id}" if item.message_id is not None else None
        async with self._semaphore:
            await self.limiter.acquire()
            try:
                result = await self.transport.send(item.kind, item.payload, callback_data=callback)
            except SendError as exc:
                error = exc
            except Exception as exc:  # a bug or an unexpected library error: retry, do not lose
                log.exception("outbox row %s: unexpected error while sending", item.id)
                error = SendError(f"Error inesperado al enviar ({type(exc).__name__})", retryable=True)
            else:
                return Outcome(item, result=result)
        return Outcome(item, error=error, retry_in=self._retry_in(item, error))

    def _retry_in(self, item: Claimed, error: SendError) -> float | None:
        limit = MAX_ATTEMPTS if item.kind in MESSAGE_KINDS else RECEIPT_MAX_ATTEMPTS
        if not error.retryable or item.attempts >= limit:
            log.warning("outbox row %s (%s) failed for good: %s", item.id, item.kind, error.reason)
            return None
        delay = backoff(item.attempts, error, self.rng)
        if error.throttled:
            # Over the number's (or app's) throughput: everyone slows down briefly, this row
            # waits its full backoff.
            self.limiter.pause(min(delay, THROTTLE_PAUSE))
        log.info("outbox row %s: %s; retry %d in %.1f s", item.id, error.reason, item.attempts, delay)
        return delay


def default_transport() -> Transport:
    """The Graph API with a token; the local sandbox without one (nothing leaves the machine)."""
    settings = get_settings()
    if settings.sandbox:
        from s7.whatsapp.sandbox import SandboxTransport

        return SandboxTransport()
    return GraphClient(settings.graph_messages_url, settings.WHATSAPP_TOKEN)


# ---- running in the app --------------------------------------------------------------------
_service: Service[Sender] = Service(
    "outbox-sender",
    poll_seconds=POLL_SECONDS,
    channel=messages.OUTBOX_CHANNEL,
    subscribe=messages.on_outbox_committed,
)


def start(transport: Transport | None = None) -> None:
    """Start sending from this process (app startup, `s7 worker`); call it on the running loop."""
    if not _service.loop.running:
        _service.start(Sender(transport or default_transport(), overlap=2, after_round=_service.wake))


async def stop() -> None:
    """Finish the round in hand, close the HTTP client. Unsent rows stay pending."""
    await _service.stop()


def wake() -> None:
    _service.wake()
