"""Tell an outside automation (n8n, Zapier...) about hot leads: a JSON POST to N8N_WEBHOOK_URL.

The event is built inside the caller's transaction and POSTed only after it commits, from a small
background thread pool with bounded retries (network errors, 5xx, 429), so neither the bot nor a
job ever waits on n8n. Each event carries a stable `id` (also the `Idempotency-Key` header): a
retry after a timeout that actually reached n8n can be recognised there.

Not durable: events still being retried when the process stops are logged and dropped. The
effects that trigger them are claimed once per cluster, so no replica sends a duplicate.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy.orm import Session

from s7 import realtime
from s7.clock import now
from s7.config import get_settings
from s7.domain.models import Conversation

log = logging.getLogger(__name__)

EVENTS = ("hot_lead", "hot_lost")
RETRY_DELAYS: tuple[float, ...] = (1.0, 5.0, 20.0)  # seconds before the 2nd, 3rd, 4th attempt
TIMEOUT_SECONDS = 10.0
USER_AGENT = "Sector7/1 (+n8n notify)"

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_stopping = threading.Event()


def build_event(kind: str, conversation: Conversation, **extra: Any) -> dict[str, Any]:
    """The JSON body: what happened, to which chat, and a link to open it in the panel."""
    if kind not in EVENTS:
        raise ValueError(f"unknown notify event {kind!r}")
    at = now()
    contact = conversation.contact
    body: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"s7:{kind}:{conversation.id}:{at.isoformat()}")),
        "event": kind,
        "at": at.isoformat(),
        "conversation": {
            "id": conversation.id,
            "wa_id": contact.wa_id if contact else None,
            "name": contact.name if contact else None,
            "lead": conversation.lead,
            "intent_score": conversation.intent_score,
            "mode": conversation.mode,
            "assigned_to": conversation.assigned_to,
            "last_message": conversation.last_message_preview,
        },
        "panel_url": f"{get_settings().public_base_url}/?chat={conversation.id}",
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def event_after_commit(session: Session, kind: str, conversation: Conversation, **extra: Any) -> None:
    """Queue the event; it is POSTed once the transaction commits (never if it rolls back)."""
    url = get_settings().N8N_WEBHOOK_URL
    if not url:
        return
    body = build_event(kind, conversation, **extra)
    realtime.call_after_commit(session, lambda: submit(url, body))


def submit(url: str, body: dict[str, Any]) -> Future[bool]:
    """POST in the background; the future says whether n8n finally took it."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _stopping.clear()
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="s7-notify")
        return _executor.submit(post_with_retries, url, body)


def post_with_retries(url: str, body: dict[str, Any], delays: tuple[float, ...] | None = None) -> bool:
    """POST until a 2xx, a permanent refusal (4xx other than 408/429), or the retries run out."""
    waits = RETRY_DELAYS if delays is None else delays
    headers = {"Idempotency-Key": str(body.get("id", "")), "User-Agent": USER_AGENT}
    with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
        for attempt in range(len(waits) + 1):
            if attempt and _stopping.wait(waits[attempt - 1]):
                break  # shutting down: do not hold the process for a retry
            try:
                response = client.post(url, json=body, headers=headers)
            except httpx.HTTPError as exc:
                log.warning("n8n %s: attempt %d failed (%s)", body.get("event"), attempt + 1, exc.__class__.__name__)
                continue
            if response.is_success:
                return True
            if response.status_code < 500 and response.status_code not in (408, 429):
                log.warning("n8n refused %s with HTTP %d; not retrying", body.get("event"), response.status_code)
                return False
            log.warning("n8n %s: attempt %d got HTTP %d", body.get("event"), attempt + 1, response.status_code)
    log.error("n8n never took the %s event for chat %s", body.get("event"), body.get("conversation", {}).get("id"))
    return False


def shutdown(wait_seconds: float = 2.0) -> None:
    """Stop retrying (pending first attempts still go out), wait briefly for them, forget the pool."""
    global _executor
    with _executor_lock:
        executor, _executor = _executor, None
    if executor is None:
        return
    _stopping.set()
    done = threading.Event()

    def _join() -> None:
        executor.shutdown(wait=True)
        done.set()

    threading.Thread(target=_join, name="s7-notify-shutdown", daemon=True).start()
    if not done.wait(wait_seconds):
        log.warning("n8n notifications still in flight at shutdown were abandoned")
