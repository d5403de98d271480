"""`GET /webhook` (Meta's verification) and `POST /webhook`: verify → persist → 200.

The POST path does no bot or Graph work: it checks size, signature and JSON, stores the raw body
as a `WebhookEvent` (a repeated body is recognised by its SHA-256 and not queued twice) and wakes
the processor. 200 only once the row is committed; if the database fails Meta gets a 5xx and
retries, so nothing acknowledged is ever lost.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from s7.clock import now
from s7.config import Settings, get_settings
from s7.db import get_engine
from s7.domain.models import UTCDateTime, WebhookEvent
from s7.whatsapp import signature, updates
from s7.whatsapp.ack_gauge import AckGauge

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhook"])
WEBHOOK_CHANNEL = "s7_webhook"  # NOTIFY channel: processors in other processes wake at once
_HEADER = b"x-hub-signature-256"

# Who to wake after a new event is stored (the in-process processor registers itself).
_on_stored: list[Callable[[], None]] = []


def on_event_stored(callback: Callable[[], None]) -> Callable[[], None]:
    """Register a (thread-safe) callback run after each newly stored event; returns its remover."""
    _on_stored.append(callback)

    def remove() -> None:
        if callback in _on_stored:
            _on_stored.remove(callback)

    return remove


def notify_stored() -> None:
    for callback in list(_on_stored):
        try:
            callback()
        except Exception:
            log.exception("webhook stored-event callback failed")


def _text(body: str, status: int) -> Response:
    return Response(body, status_code=status, media_type="text/plain")


@router.get("/webhook", include_in_schema=False)
async def verify_subscription(request: Request) -> Response:
    """Meta's handshake: echo `hub.challenge` byte for byte when our verify token matches."""
    params = request.query_params
    expected = get_settings().META_VERIFY_TOKEN
    given = params.get("hub.verify_token", "")
    if (
        expected
        and params.get("hub.mode") == "subscribe"
        and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
    ):
        return _text(params.get("hub.challenge", ""), 200)
    return _text("Forbidden", 403)


@router.post("/webhook", include_in_schema=False)
async def receive(request: Request) -> Response:
    global _in_flight
    _in_flight += 1  # only touched on the event loop thread: no lock needed
    try:
        return await _receive(request)
    finally:
        _in_flight -= 1


async def _receive(request: Request) -> Response:
    settings = get_settings()
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return _text("Payload Too Large", 413)
    body = await _read_body(request, limit)
    if body is None:
        return _text("Payload Too Large", 413)

    header = next((v for k, v in request.scope["headers"] if k.lower() == _HEADER), None)
    verdict, signature_ok = _signature(settings, body, header)
    if verdict is not None:
        return verdict

    try:
        # UTF-8 explicitly: json.loads(bytes) would also take UTF-16/32, which Meta never sends
        # and which we could not store as text.
        document = json.loads(body.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError is a ValueError too
        return _text("Bad Request: body is not UTF-8 JSON", 400)
    if not updates.is_whatsapp_body(document):
        # Well-formed but not a WhatsApp Business webhook: a 200 so Meta does not retry it forever.
        log.info("ignored a webhook that is not a whatsapp_business_account body")
        return _text("ignored", 200)

    try:
        event_id = await run_in_threadpool(store_event, body, signature_ok=signature_ok)
    except Exception:
        log.exception("could not store a webhook; answering 503 so Meta retries it")
        return _text("Service Unavailable", 503)
    if event_id is not None:
        notify_stored()
        if signature_ok:
            _count_received(document)
    return _text("OK", 200)


def _signature(settings: Settings, body: bytes, header: bytes | None) -> tuple[Response | None, bool]:
    """(error response or None, signature_ok). Never logs the secret or the header value."""
    secret = settings.META_APP_SECRET
    if not secret:
        # Only reachable in the sandbox or with WEBHOOK_SIGNATURE_MODE=optional (config enforces it).
        return None, False
    verdict = signature.check(secret, body, header)
    if verdict is signature.Verdict.VALID:
        return None, True
    if settings.WEBHOOK_SIGNATURE_MODE == "optional":
        log.warning("webhook signature %s; accepted because WEBHOOK_SIGNATURE_MODE=optional", verdict.value)
        return None, False
    if verdict is signature.Verdict.MISSING:
        return _text("Unauthorized: missing X-Hub-Signature-256", 401), False
    log.warning("webhook rejected: bad X-Hub-Signature-256")
    return _text("Forbidden: bad signature", 403), False


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The raw body, or None past `limit` (read in chunks: a lying Content-Length cannot make us
    buffer gigabytes)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def store_event(body: bytes, *, signature_ok: bool = True) -> int | None:
    """Persist a raw webhook body; returns its id, or None if this exact body was stored before.

    Synchronous (call it off the event loop). One statement, one round trip: on Postgres the
    insert also NOTIFYs processors in other processes (NOTIFY is transactional, so they hear it
    only once the row is committed). Core, not the ORM: this is the hot path Meta waits on.
    """
    values = {
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "body": body.decode("utf-8"),
        "signature_ok": signature_ok,
        "state": "pending",
        "attempts": 0,
        "received_at": now(),
    }
    engine = get_engine()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            return connection.execute(_PG_STORE, values).scalar()
        statement = (
            sqlite_insert(WebhookEvent)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["body_sha256"])
            .returning(WebhookEvent.id)
        )
        return connection.execute(statement).scalar()


_PG_STORE = text(
    f"""
    WITH stored AS (
        INSERT INTO webhook_events (body_sha256, body, signature_ok, state, attempts, received_at)
        VALUES (:body_sha256, :body, :signature_ok, :state, :attempts, :received_at)
        ON CONFLICT (body_sha256) DO NOTHING
        RETURNING id
    )
    SELECT id, pg_notify('{WEBHOOK_CHANNEL}', '') FROM stored
    """
).bindparams(bindparam("received_at", type_=UTCDateTime()))


# ---- giving the ack path priority ----------------------------------------------------------
# Acks are what Meta waits on; processing is durable and can wait. A processor in this process
# yields between batches while a webhook is in flight here (`busy`). The processor child of
# `s7 serve` cannot see that; it reads how many customer messages this process has received in
# signed webhooks (an `AckGauge` the web process keeps) and steps aside while they arrive as a
# burst (`ack_rate`).
_in_flight = 0
_received = 0
_published: AckGauge | None = None  # web process: where the child reads `_received`


def publish_acks(gauge: AckGauge | None) -> None:
    """Web process: keep `gauge` up to date with the customer messages received (None: stop)."""
    global _published
    _published = gauge
    if gauge is not None:
        gauge.set(_received)


def busy() -> bool:
    """True while a POST /webhook is being answered in this process."""
    return _in_flight > 0


class AckRate:
    """Messages per second another process is receiving, from its gauge, over ~`window` seconds
    (the newest reading against the newest one at least `window` old). Thread-safe."""

    def __init__(self, gauge: AckGauge, *, window: float = 0.2, clock: Callable[[], float] = time.monotonic) -> None:
        self._gauge = gauge
        self._window = window
        self._clock = clock
        self._readings: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()

    def per_second(self) -> float:
        at, count = self._clock(), self._gauge.get()
        with self._lock:
            readings = self._readings
            readings.append((at, count))
            while len(readings) > 2 and at - readings[1][0] >= self._window:
                readings.popleft()
            first_at, first_count = readings[0]
        elapsed = at - first_at
        return (count - first_count) / elapsed if elapsed >= self._window / 4 else 0.0


_watched: AckRate | None = None  # processor child: the web process's arrivals


def watch_acks(gauge: AckGauge | None) -> None:
    """Processor child: follow the web process's webhook arrivals (`ack_rate`)."""
    global _watched
    _watched = AckRate(gauge) if gauge is not None else None


def ack_rate() -> float:
    """Customer messages per second the web process we serve is receiving (0: none watched)."""
    return _watched.per_second() if _watched is not None else 0.0


def _count_received(document: Any) -> None:
    """Customer messages of a signed webhook just stored: the burst the child steps aside for.
    Not statuses (a store's own replies bring up to three each, and applying them is cheap) and
    nothing unsigned (a stranger's flood must not slow the processing down)."""
    global _received
    _received += updates.customer_message_count(document)  # never raises: the body is stored
    if _published is not None:
        _published.set(_received)


# ---- in front of the framework ---------------------------------------------------------------
class FastPath:
    """Pure ASGI, outermost: `POST /webhook` goes straight to `receive`, past the panel's stack
    (NiceGUI's session, request-tracking and redirect middlewares, gzip, the auth gate), none of
    which a signed webhook needs and which together cost more than storing it. The response still
    carries the security headers; everything else takes the usual way."""

    def __init__(self, app: ASGIApp) -> None:
        from s7.headers import SecurityHeaders  # local: headers reads settings at call time only

        self.app = app
        self._webhook = SecurityHeaders(_serve_webhook)

    async def __call__(self, scope: Scope, receive_: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "POST" and scope.get("path") == "/webhook":
            await self._webhook(scope, receive_, send)
        else:
            await self.app(scope, receive_, send)


async def _serve_webhook(scope: Scope, receive_: Receive, send: Send) -> None:
    response = await receive(Request(scope, receive_))
    await response(scope, receive_, send)


def install_fast_path(app: object) -> None:
    """Put `FastPath` in front of `app`'s middleware stack when the stack is built (idempotent)."""
    build = app.build_middleware_stack  # type: ignore[attr-defined]
    if getattr(build, "_s7_fast_path", False):
        return

    def build_with_fast_path() -> ASGIApp:
        return FastPath(build())

    build_with_fast_path._s7_fast_path = True  # type: ignore[attr-defined]
    app.build_middleware_stack = build_with_fast_path  # type: ignore[attr-defined]
