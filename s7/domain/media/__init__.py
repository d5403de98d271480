"""Media of a chat (photos, audio, video, stickers, documents): where the bytes live, the queue
of inbound fetches, the caps. `from s7.domain import media; media.enqueue_fetch(...)`."""

from s7.domain.media.store import (
    KIND_MAX_BYTES,
    MB,
    MEDIA_CHANNEL,
    MEDIA_KINDS,
    Due,
    MediaTooLarge,
    Stored,
    claim_due,
    enqueue_fetch,
    fetch_failed,
    file_cap,
    kind_for_mime,
    load_for_message,
    load_outbound,
    on_fetch_queued,
    remember_upload,
    save_fetched,
    save_outbound,
)

__all__ = [
    "KIND_MAX_BYTES",
    "MEDIA_CHANNEL",
    "MB",
    "MEDIA_KINDS",
    "Due",
    "MediaTooLarge",
    "Stored",
    "claim_due",
    "enqueue_fetch",
    "fetch_failed",
    "file_cap",
    "kind_for_mime",
    "load_for_message",
    "load_outbound",
    "on_fetch_queued",
    "remember_upload",
    "save_fetched",
    "save_outbound",
]
