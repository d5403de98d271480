"""Where media bytes live and the durable queue that fetches inbound media off the chat's path.

One `MediaFile` row per media message, in or out. Inbound rows start `pending` and are fetched
by the edge (`s7.whatsapp.media`) as soon as the message is stored, whether or not anybody opens
the chat (Meta keeps media about 30 days, its download URLs 5 minutes). Bytes go to the database
(so a redeploy and every replica keep them) or, with MEDIA_DIR, to a file on that volume. The
total is capped at MEDIA_MAX_MB: the oldest stored files are evicted first and then show as
"ya no disponible", like media Meta no longer has.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from s7 import realtime
from s7.clock import now
from s7.config import get_settings
from s7.db import is_postgres, session_scope, skip_locked, try_xact_lock
from s7.domain.models import MediaFile, Message

log = logging.getLogger(__name__)

MB = 1024 * 1024
MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")
# WhatsApp's own size limits per media type (Cloud API "supported media types"): also the
# per-file cap for what we fetch and what sellers attach.
KIND_MAX_BYTES = {"image": 5 * MB, "audio": 16 * MB, "video": 16 * MB, "document": 100 * MB, "sticker": 500 * 1024}
FETCH_DELAYS = (
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
)
MAX_FETCH_ATTEMPTS = len(FETCH_DELAYS) + 1
FETCH_LEASE = timedelta(minutes=2)  # a fetcher that dies mid-download gives the row back after this
MEDIA_CHANNEL = "s7_media"  # NOTIFY: a fetcher in another process wakes at once


class MediaTooLarge(ValueError):
    """More bytes than WhatsApp takes for that type, or than the whole media store may hold."""


@dataclass(frozen=True)
class Due:
    id: int
    message_id: int
    wa_media_id: str
    kind: str
    attempts: int


@dataclass(frozen=True)
class Stored:
    data: bytes
    mime_type: str
    filename: str | None
    kind: str
    wa_media_id: str | None = None


def total_cap() -> int:
    return int(get_settings().MEDIA_MAX_MB * MB)


def file_cap(kind: str) -> int:
    """Largest file of that kind we fetch or accept."""
    return min(KIND_MAX_BYTES.get(kind, KIND_MAX_BYTES["document"]), total_cap())


def kind_for_mime(mime_type: str) -> str:
    """The WhatsApp message type a file of this MIME type is sent as."""
    main = (mime_type or "").split(";")[0].strip().lower()
    if main in ("image/jpeg", "image/png"):
        return "image"
    if main.startswith("audio/"):
        return "audio"
    if main in ("video/mp4", "video/3gpp"):
        return "video"
    return "document"


# ---- the inbound queue -----------------------------------------------------------------------
def enqueue_fetch(session: Session, message: Message) -> MediaFile | None:
    """Queue the download of a media message just stored (in the caller's transaction). Called
    for every recorded message; anything that is not media with a Meta id is ignored."""
    media = message.media or {}
    if message.type not in MEDIA_KINDS or not media.get("id"):
        return None
    row = MediaFile(
        message_id=message.id,
        direction=message.direction,
        wa_media_id=str(media["id"])[:255],
        state="pending",
        mime_type=str(media.get("mime_type") or "")[:255] or None,
        filename=str(media.get("filename") or "")[:255] or None,
        next_attempt_at=now(),
    )
    session.add(row)
    session.flush()
    if is_postgres(session):
        session.connection().execute(text("SELECT pg_notify(:c, '')"), {"c": MEDIA_CHANNEL})
    realtime.call_after_commit(session, _wake_fetchers, key="s7_media_wake")
    return row


def claim_due(limit: int = 8) -> list[Due]:
    """Lease the next due fetches (SKIP LOCKED: replicas share the work, never the same row)."""
    at = now()
    with session_scope() as session:
        statement = (
            select(MediaFile)
            .where(MediaFile.state == "pending", MediaFile.next_attempt_at <= at, MediaFile.wa_media_id.is_not(None))
            .order_by(MediaFile.id)
            .limit(limit)
        )
        claimed = []
        for row in session.scalars(skip_locked(statement, session)):
            row.attempts += 1
            row.next_attempt_at = at + FETCH_LEASE
            kind = session.scalar(select(Message.type).where(Message.id == row.message_id)) or "document"
            claimed.append(Due(row.id, row.message_id, str(row.wa_media_id), kind, row.attempts))
        return claimed


def save_fetched(file_id: int, data: bytes, mime_type: str | None) -> bool:
    """The bytes arrived: keep them, mark the message's media ready, evict if over the cap."""
    with session_scope() as session:
        row = session.get(MediaFile, file_id, with_for_update=is_postgres(session))
        if row is None or row.state != "pending":
            return False
        _write(row, data)
        row.mime_type = (mime_type or row.mime_type or "application/octet-stream")[:255]
        row.last_error = None
        _set_state(session, row, "ready")
        _evict_over_cap(session, keep=row.id)
        return True


def fetch_failed(file_id: int, reason: str, *, permanent: bool) -> str:
    """A fetch did not work: retry later, or give up (`gone`: Meta no longer has it; `failed`:
    it kept failing). Returns the row's state afterwards."""
    with session_scope() as session:
        row = session.get(MediaFile, file_id, with_for_update=is_postgres(session))
        if row is None or row.state != "pending":
            return row.state if row else "gone"
        row.last_error = reason[:2000]
        if permanent or row.attempts >= MAX_FETCH_ATTEMPTS:
            _set_state(session, row, "gone" if permanent else "failed")
            log.warning("media %s of message %s not fetched: %s", row.id, row.message_id, reason)
        else:
            row.next_attempt_at = now() + FETCH_DELAYS[min(row.attempts, len(FETCH_DELAYS)) - 1]
        return row.state


# ---- serving ---------------------------------------------------------------------------------
def load_for_message(session: Session, message_id: int) -> tuple[Message | None, MediaFile | None, bytes | None]:
    """(message, its file row, the bytes if ready). A media message from before this store, or
    whose fetch was never queued, is queued now (the caller's transaction commits it)."""
    message = session.get(Message, message_id)
    if message is None:
        return None, None, None
    row = session.scalar(select(MediaFile).where(MediaFile.message_id == message_id))
    if row is None:
        return message, enqueue_fetch(session, message), None
    if row.state != "ready":
        return message, row, None
    data = _read(session, row)
    if data is None:  # the file vanished from MEDIA_DIR (volume swapped): say so, do not 500
        _set_state(session, row, "gone")
    return message, row, data


# ---- outbound --------------------------------------------------------------------------------
def save_outbound(
    session: Session, message: Message, data: bytes, mime_type: str, filename: str | None, caption: str | None
) -> MediaFile:
    """A file a seller attached, kept until (and after) the outbox uploads it to Meta."""
    kind = message.type
    if len(data) > file_cap(kind):
        raise MediaTooLarge(f"El archivo supera {file_cap(kind) // MB or 1} MB, el máximo de WhatsApp para ese tipo")
    row = MediaFile(message_id=message.id, direction="out", state="pending", mime_type=mime_type[:255])
    row.filename = (filename or "")[:255] or None
    session.add(row)
    session.flush()
    _write(row, data)
    media: dict[str, Any] = {"file_id": row.id, "mime_type": mime_type, "size": len(data)}
    if filename:
        media["filename"] = filename[:255]
    if caption:
        media["caption"] = caption
    message.media = media
    _set_state(session, row, "ready")
    _evict_over_cap(session, keep=row.id)
    return row


def load_outbound(file_id: int) -> Stored | None:
    """What the sender uploads (with Meta's id when an earlier attempt already uploaded it)."""
    with session_scope() as session:
        row = session.get(MediaFile, file_id)
        if row is None or row.state != "ready":
            return None
        data = _read(session, row)
        if data is None:
            return None
        kind = session.scalar(select(Message.type).where(Message.id == row.message_id)) or "document"
        return Stored(data, row.mime_type or "application/octet-stream", row.filename, kind, row.wa_media_id)


def remember_upload(file_id: int, wa_media_id: str) -> None:
    """Meta's id for an uploaded file: a retried send reuses it instead of uploading again."""
    with session_scope() as session:
        row = session.get(MediaFile, file_id)
        if row is not None:
            row.wa_media_id = wa_media_id[:255]


# ---- bytes -----------------------------------------------------------------------------------
def _media_dir() -> Path | None:
    configured = get_settings().MEDIA_DIR
    return Path(configured) if configured else None


def _write(row: MediaFile, data: bytes) -> None:
    directory = _media_dir()
    if directory is None:
        row.content = data
    else:
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{row.id:012d}"
        partial = directory / f".{name}.part"
        partial.write_bytes(data)
        os.replace(partial, directory / name)  # never a half-written file under the real name
        row.path = name
    row.size = len(data)
    row.stored_at = now()


def _read(session: Session, row: MediaFile) -> bytes | None:
    if row.path:
        directory = _media_dir()
        try:
            return (directory / row.path).read_bytes() if directory else None
        except OSError:
            return None
    return session.scalar(select(MediaFile.content).where(MediaFile.id == row.id))


def _discard(row: MediaFile) -> None:
    if row.path:
        directory = _media_dir()
        if directory is not None:
            with contextlib.suppress(OSError):
                (directory / row.path).unlink()
        row.path = None
    row.content = None


def _set_state(session: Session, row: MediaFile, state: str) -> None:
    """The row's state, mirrored on the message (`media.state`) so every reader sees it without a
    join, and pushed to open panels."""
    row.state = state
    if state != "ready":
        _discard(row)
    message = session.get(Message, row.message_id)
    if message is not None:
        media = dict(message.media or {})
        media["state"] = state
        if state == "ready" and row.size is not None:
            media["size"] = row.size
        message.media = media
        session.flush()
        realtime.publish_after_commit(
            session, "message", conversation_id=message.conversation_id, message_id=message.id
        )


def _evict_over_cap(session: Session, *, keep: int) -> None:
    """Oldest stored first, until the total fits MEDIA_MAX_MB. Files of messages still waiting
    to be sent are never evicted."""
    if not try_xact_lock(session, "s7-media-evict"):
        return  # another transaction is evicting right now; the next store re-checks
    session.flush()
    total = session.scalar(select(func.coalesce(func.sum(MediaFile.size), 0)).where(MediaFile.state == "ready")) or 0
    cap = total_cap()
    if total <= cap:
        return
    oldest = (
        select(MediaFile)
        .join(Message, Message.id == MediaFile.message_id)
        .where(MediaFile.state == "ready", MediaFile.id != keep, Message.status != "queued")
        .order_by(MediaFile.stored_at, MediaFile.id)
    )
    for row in session.scalars(oldest):
        if total <= cap:
            break
        total -= row.size or 0
        _set_state(session, row, "evicted")
        log.info("media %s evicted (store over MEDIA_MAX_MB)", row.id)


# ---- waking the fetchers ---------------------------------------------------------------------
_listeners: list[Callable[[], None]] = []


def on_fetch_queued(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` (any thread) after a transaction that queued a fetch commits."""
    _listeners.append(callback)

    def remove() -> None:
        if callback in _listeners:
            _listeners.remove(callback)

    return remove


def _wake_fetchers() -> None:
    for callback in list(_listeners):
        try:
            callback()
        except Exception:
            log.exception("media wake-up callback failed")
