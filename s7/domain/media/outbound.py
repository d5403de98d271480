"""A file sent to the customer: a photo, a PDF or other document, an audio, a video.

The bytes are kept in the media store first; the outbox uploads them to Meta when the row's turn
comes (so it leaves in order with the chat's texts, behind the same gate and retries) and sends
the message with Meta's media id and the optional caption.
"""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

from sqlalchemy.orm import Session

from s7.domain.chats import messages
from s7.domain.media.store import MB, file_cap, kind_for_mime, save_outbound
from s7.domain.models import Conversation, Message

CAPTION_MAX = 1024
FILENAME_MAX = 240
# What WhatsApp plays or shows as such (Cloud API "supported media types"); every other type
# goes as a document, which WhatsApp delivers as a file to download.
AUDIO_TYPES = ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg")
KIND_LABEL = {"image": "una foto", "audio": "un audio", "video": "un video", "document": "un documento"}


def queue_attachment(
    session: Session,
    conversation: Conversation,
    *,
    author: str,
    data: bytes,
    mime_type: str | None,
    filename: str | None,
    caption: str | None = None,
    user_id: int | None = None,
) -> Message:
    """Queue a file for the customer (in the caller's transaction). Raises
    `messages.InvalidMessage` for what WhatsApp would refuse (empty, too big for its type, a
    caption on an audio) and `messages.WindowClosed` outside the 24-hour window."""
    mime = (mime_type or "application/octet-stream").split(";")[0].strip().lower() or "application/octet-stream"
    kind = kind_for_mime(mime)
    if kind == "audio" and mime not in AUDIO_TYPES:
        kind = "document"  # WhatsApp would refuse it as audio; as a file it still arrives
    name = clean_filename(filename)
    caption = (caption or "").strip() or None
    if not data:
        raise messages.InvalidMessage("El archivo está vacío")
    if len(data) > file_cap(kind):
        limit = file_cap(kind) / MB
        raise messages.InvalidMessage(
            f"El archivo pesa {len(data) / MB:.1f} MB: WhatsApp admite hasta {limit:g} MB para {KIND_LABEL[kind]}"
        )
    if caption and kind == "audio":
        raise messages.InvalidMessage("WhatsApp no admite texto junto a un audio: mandalo en otro mensaje")
    if caption and len(caption) > CAPTION_MAX:
        raise messages.InvalidMessage(f"El texto del archivo supera los {CAPTION_MAX} caracteres")
    message = messages.new_outbound(session, conversation, author=author, kind=kind, text=caption, user_id=user_id)
    row = save_outbound(session, message, data, mime, name, caption)
    payload = {"to": conversation.contact.wa_id, "file_id": row.id, "caption": caption, "filename": name}
    messages.send(session, conversation, message, payload)
    return message


def clean_filename(filename: str | None) -> str | None:
    """The last path component, without control characters, at most FILENAME_MAX characters."""
    if not filename:
        return None
    name = PureWindowsPath(PurePosixPath(filename).name).name
    name = "".join(c for c in name if c.isprintable()).strip().strip(".")
    return name[-FILENAME_MAX:] or None
