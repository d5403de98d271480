"""Stored webhook events → domain calls, off the request path.

Each pending `WebhookEvent` is claimed with FOR UPDATE SKIP LOCKED (two replicas never take the
same one) and processed in its own transaction; each update inside it in its own savepoint, so one
bad status cannot sink the customer messages of the same batch. Processing is idempotent (wamids
are unique, ticks only move forward), which is what makes retrying an event safe.

An event waits and is retried (short delays) when an update cannot be applied *yet*: a status
for a wamid we have not stored (the send response is still on its way), or a business-app echo
while our own send to that chat is in flight (it may be our message coming back). After the last
attempt those are settled as they stand: unmatched statuses are dropped with a note, the echo is
recorded as a human message.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import sys
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from s7.clock import now
from s7.config import get_settings
from s7.db import session_scope, skip_locked
from s7.domain import bot
from s7.domain.chats import conversations, messages
from s7.domain.models import Contact, Conversation, Message, OutboxItem, WebhookEvent
from s7.whatsapp import updates as up
from s7.whatsapp import webhook
from s7.whatsapp.graph import MESSAGE_KINDS
from s7.whatsapp.wakeup import BackgroundLoop
from s7.whatsapp.webhook import WEBHOOK_CHANNEL, on_event_stored

log = logging.getLogger(__name__)

# Meta redelivers for days after an outage: never auto-reply to what is older than this.
STALE_AFTER = timedelta(minutes=10)
# Delay before attempt n+1 (index n-1); the last attempt settles whatever is left.
RETRY_DELAYS = (timedelta(seconds=2), timedelta(seconds=5), timedelta(seconds=15), timedelta(minutes=1))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
BATCH = 50
PARALLEL_CLAIMERS = 4  # per process, Postgres only (see _work)
POLL_SECONDS = 5.0
GIL_SWITCH_SECONDS = 0.001
ACK_PRIORITY_MAX_WAITS = 50  # ≤ ~50 ms per event: processing slows under load, never stops


class Deferred(Exception):
    """This update cannot be applied yet; retry the event a little later."""


# ---- the queue -----------------------------------------------------------------------------
def process_pending(limit: int = 100) -> int:
    """Process up to `limit` due events, each in its own transaction. Returns how many."""
    handled = 0
    while handled < limit and process_next() is not None:
        handled += 1
        _let_acks_through()
    return handled


def _let_acks_through() -> None:
    """Between events, step aside (bounded) while this process is answering webhooks: the ack
    is what Meta times out on, and the event we would process next is safe in the table."""
    for _ in range(ACK_PRIORITY_MAX_WAITS):
        if not webhook.busy():
            return
        time.sleep(0.001)


def process_next() -> int | None:
    """Claim and process one due event; returns its id, or None when nothing is due."""
    with session_scope() as session:
        event = _claim(session)
        if event is None:
            return None
        _process_event(session, event)
        return event.id


def _claim(session: Session) -> WebhookEvent | None:
    at = now()
    # A pending event with attempts > 0 failed or waited before; processed_at holds when.
    due = [WebhookEvent.attempts == 0]
    for attempts, delay in enumerate(RETRY_DELAYS, start=1):
        due.append(and_(WebhookEvent.attempts == attempts, WebhookEvent.processed_at <= at - delay))
    statement = (
        select(WebhookEvent).where(WebhookEvent.state == "pending", or_(*due)).order_by(WebhookEvent.id).limit(1)
    )
    return session.scalar(skip_locked(statement, session))


def _process_event(session: Session, event: WebhookEvent) -> None:
    event.attempts += 1
    event.processed_at = now()
    final = event.attempts >= MAX_ATTEMPTS
    try:
        items = up.parse(json.loads(event.body))
    except ValueError as exc:  # the webhook checked it; only a hand-edited row gets here
        event.state, event.error = "failed", f"unreadable body: {exc}"
        return
    failures: list[str] = []
    waiting: list[str] = []
    notes: list[str] = []
    for update in items:
        if not _for_our_number(update):
            continue
        try:
            with session.begin_nested():
                _apply(session, update, final=final, notes=notes)
        except Deferred as wait:
            waiting.append(str(wait))
        except Exception as exc:
            log.exception("webhook event %s: %s failed", event.id, type(update).__name__)
            failures.append(f"{type(update).__name__}: {exc}")
    if failures or waiting:
        event.error = "; ".join([*failures, *waiting, *notes])[:4000]
        if final:
            event.state = "failed" if failures else "done"
        return
    event.state = "done"
    event.error = "; ".join(notes)[:4000] or None


def _for_our_number(update: up.Update) -> bool:
    """Ignore traffic for another number of the same WABA (several numbers, one app)."""
    ours = get_settings().WHATSAPP_PHONE_NUMBER_ID
    theirs = update.envelope.phone_number_id
    return not (ours and theirs and ours != theirs)


# ---- one update → domain -------------------------------------------------------------------
def _apply(session: Session, update: up.Update, *, final: bool, notes: list[str]) -> None:
    if isinstance(update, up.CustomerMessage):
        _customer_message(session, update, notes)
    elif isinstance(update, up.BusinessEcho):
        _business_echo(session, update, final=final)
    elif isinstance(update, up.HistoryMessage):
        _history_message(session, update)
    elif isinstance(update, up.StatusUpdate):
        _status(session, update, final=final, notes=notes)
    elif isinstance(update, up.ContactSync):
        _contact_sync(session, update)
    elif isinstance(update, up.AccountUpdate):
        log.warning("WhatsApp account update: %s", update.event or update.raw)
    elif isinstance(update, up.WebhookError):
        log.warning("WhatsApp reported an error in a %s webhook: %s", update.envelope.field, update.error.describe())
    else:
        log.warning("kept an unknown webhook update (%s): %.500s", update.reason, json.dumps(update.raw, default=str))


def _customer_message(session: Session, update: up.CustomerMessage, notes: list[str]) -> None:
    if _edits_existing(session, update.content):
        return
    conversation = conversations.ensure_conversation(
        session, wa_id=update.wa_id, name=update.name, user_id=update.user_id
    )
    if isinstance(update.content, up.System):
        # WhatsApp's notice (e.g. the customer changed number): shown, but not the customer speaking.
        _record(session, conversation, update.wamid, update.content, update.timestamp, author="system", direction="in")
        return
    message = _record(
        session, conversation, update.wamid, update.content, update.timestamp, context=update.context_wamid
    )
    if message is None:
        return  # a retry or a differently batched redelivery: already handled once
    conversations.on_customer_message(session, conversation, message)
    if _stale(update.timestamp):
        log.info("no auto-reply to %s: sent at %s, delivered late", update.wamid, update.timestamp)
        return
    try:
        with session.begin_nested():
            bot.respond(session, conversation, message)
    except Exception as exc:
        # The message stays stored and visible; a retry would not re-run the bot (wamid exists).
        log.exception("the bot failed on %s", update.wamid)
        notes.append(f"bot failed on {update.wamid}: {exc}")


def _business_echo(session: Session, update: up.BusinessEcho, *, final: bool) -> None:
    if _edits_existing(session, update.content):
        return
    if messages.find_by_wamid(session, update.wamid) is not None:
        return  # our own send coming back, or a redelivery
    conversation = conversations.ensure_conversation(
        session, wa_id=update.wa_id, name=update.name, user_id=update.user_id
    )
    if not final and _send_in_flight(session, conversation):
        # Possibly our own message echoed before we stored its wamid: treating it as a human
        # would silence the bot with its own words. Wait for the send to settle.
        raise Deferred(f"echo {update.wamid} waits for a send in flight")
    message = _record(session, conversation, update.wamid, update.content, update.timestamp, author="business_app")
    if message is None:
        return
    conversations.touch(session, conversation, message)
    if _stale(update.timestamp):
        return  # an old phone reply replayed late: history, not a takeover now
    conversations.record_human_message(session, conversation, source="business_app")


def _history_message(session: Session, update: up.HistoryMessage) -> None:
    """Backfill: stored in the thread, never a bot turn, never opens the window."""
    if _edits_existing(session, update.content):
        return
    conversation = conversations.ensure_conversation(session, wa_id=update.wa_id)
    status = _HISTORY_STATUS.get((update.status or "").upper(), "sent") if update.from_business else None
    message = _record(
        session,
        conversation,
        update.wamid,
        update.content,
        update.timestamp,
        author="business_app" if update.from_business else "customer",
        status=status,
    )
    if message is not None:
        conversations.touch(session, conversation, message)


_HISTORY_STATUS = {
    "PENDING": "queued",
    "SENT": "sent",
    "DELIVERED": "delivered",
    "READ": "read",
    "PLAYED": "read",
    "ERROR": "failed",
}


def _status(session: Session, update: up.StatusUpdate, *, final: bool, notes: list[str]) -> None:
    message = messages.find_by_wamid(session, update.wamid, for_update=True)
    if message is None:
        message = _by_callback(session, update)
    if message is None:
        if final:
            notes.append(f"status {update.status} for unknown {update.wamid} dropped")
            return
        raise Deferred(f"status {update.status} waits for {update.wamid}")
    status = "read" if update.status == "played" else update.status
    if status not in ("sent", "delivered", "read", "failed"):
        log.info("ignored status %r for %s", update.status, update.wamid)
        return
    error = "; ".join(e.describe() for e in update.errors) or ("Falló el envío" if status == "failed" else None)
    messages.apply_status(session, message, status, at=update.timestamp, error=error, wa_message_id=update.wamid)


def _by_callback(session: Session, update: up.StatusUpdate) -> Message | None:
    """Our sends carry `biz_opaque_callback_data = s7:<message id>`: match the tick even when
    it beats the Graph response that tells us the wamid."""
    data = update.callback_data or ""
    if not data.startswith("s7:") or not data[3:].isdigit():
        return None
    message = session.get(Message, int(data[3:]))
    if message is None or message.direction != "out" or message.wa_message_id not in (None, update.wamid):
        return None
    return message


def _contact_sync(session: Session, update: up.ContactSync) -> None:
    """The business app's address book: the name the store gave a customer we already know."""
    if update.action != "add" or not update.wa_id or not update.full_name:
        return
    contact = session.scalar(select(Contact).where(Contact.wa_id == update.wa_id))
    if contact is not None and contact.name != update.full_name:
        contact.name = update.full_name[:200]


# ---- helpers -------------------------------------------------------------------------------
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


def _record(
    session: Session,
    conversation: Conversation,
    wamid: str,
    content: up.Content,
    timestamp: Any,
    *,
    author: str = "customer",
    context: str | None = None,
    status: str | None = None,
    direction: str | None = None,
) -> Message | None:
    kind, text, options, media = describe(content)
    return messages.record_inbound(
        session,
        conversation,
        wa_message_id=wamid,
        type=kind,
        text=text,
        options=options,
        media=media,
        context_wa_id=context,
        created_at=timestamp or now(),
        author=author,
        status=status,
        direction=direction,
    )


def describe(content: up.Content) -> tuple[str, str | None, list[dict[str, str]] | None, dict[str, Any] | None]:
    """Typed content → (Message.type, text, options, media). A selection keeps what was chosen
    in `options` ([{id, title}]): the bot reads the id, the panel shows the title."""
    if isinstance(content, up.Text):
        return "text", content.body, None, None
    if isinstance(content, up.ButtonReply):
        return "button_reply", content.title, [{"id": content.id, "title": content.title}], None
    if isinstance(content, up.ListReply):
        option = {"id": content.id, "title": content.title}
        if content.description:
            option["description"] = content.description
        return "list_reply", content.title, [option], None
    if isinstance(content, up.TemplateButton):
        return "quick_reply", content.text, [{"id": content.payload, "title": content.text}], None
    if isinstance(content, up.Media):
        media = {
            "id": content.media_id,
            "mime_type": content.mime_type,
            "sha256": content.sha256,
            "caption": content.caption,
            "filename": content.filename,
            "url": content.url,
        }
        if content.voice:
            media["voice"] = True
        if content.animated:
            media["animated"] = True
        return content.kind, content.caption, None, {k: v for k, v in media.items() if v is not None}
    if isinstance(content, up.Location):
        label = " · ".join(p for p in (content.name, content.address) if p) or None
        media = {
            "latitude": content.latitude,
            "longitude": content.longitude,
            "name": content.name,
            "address": content.address,
            "url": content.url,
        }
        return "location", label, None, {k: v for k, v in media.items() if v is not None}
    if isinstance(content, up.SharedContacts):
        names = [str((card.get("name") or {}).get("formatted_name") or "") for card in content.cards]
        return "contacts", ", ".join(n for n in names if n) or None, None, {"contacts": list(content.cards)}
    if isinstance(content, up.Order):
        return "order", content.text, None, {"catalog_id": content.catalog_id, "items": list(content.items)}
    if isinstance(content, up.System):
        return "system", content.body, None, {"system_type": content.system_type, "new_wa_id": content.new_wa_id}
    if isinstance(content, up.Unsupported):
        errors = [e.describe() for e in content.errors]
        return "unsupported", None, None, {"unsupported_type": content.type, "errors": errors}
    # Reaction / Edit / Revoke never become rows of their own (see _edits_existing).
    return "unsupported", None, None, {"unsupported_type": type(content).__name__}


def _stale(timestamp: Any) -> bool:
    return timestamp is not None and now() - timestamp > STALE_AFTER


def _send_in_flight(session: Session, conversation: Conversation) -> bool:
    return (
        session.scalar(
            select(OutboxItem.id)
            .where(
                OutboxItem.conversation_id == conversation.id,
                OutboxItem.state == "sending",
                OutboxItem.kind.in_(MESSAGE_KINDS),
            )
            .limit(1)
        )
        is not None
    )


# ---- running in the app --------------------------------------------------------------------
async def _work() -> int:
    """Drain with several claimers on Postgres: most of an event's time is database round trips,
    and SKIP LOCKED already keeps two claimers off one event. SQLite has one writer: one claimer."""
    workers = 1 if get_settings().is_sqlite else PARALLEL_CLAIMERS
    if workers == 1:
        return await asyncio.to_thread(process_pending, BATCH)
    counts = await asyncio.gather(*(asyncio.to_thread(process_pending, BATCH) for _ in range(workers)))
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
