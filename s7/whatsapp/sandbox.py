"""The sandbox: the whole product with no Meta account (WHATSAPP_TOKEN empty).

Outbound: the same outbox and sender, delivered by `SandboxTransport`, which accepts every row
and answers with a generated `wamid.sandbox.…` id, so the message is stored as sent.

Inbound (the /simulator page): `inject_customer_message` builds the JSON Meta would POST and
feeds it through the same path as a real webhook (store the raw event → processor → domain), so
what works here works with Meta. `simulate_status` and `simulate_business_echo` do the same for
ticks and for a reply typed on the WhatsApp Business app. These functions touch the database:
call them off the event loop (`run.io_bound`, `asyncio.to_thread`).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from s7.clock import now
from s7.config import get_settings
from s7.whatsapp import webhook
from s7.whatsapp.graph import SendResult, build_request

SANDBOX_WABA_ID = "sandbox-waba"
SANDBOX_DISPLAY_NUMBER = "5491100000000"


class SandboxTransport:
    """Accepts everything, sends nothing. Keeps what it was asked to send (the simulator and
    tests may look), as the exact Graph body it would have posted."""

    def __init__(self, keep: int = 1000) -> None:
        self.sent: list[dict[str, Any]] = []
        self._keep = keep

    async def send(self, kind: str, payload: dict[str, Any], *, callback_data: str | None = None) -> SendResult:
        from s7.whatsapp.media import sandbox_media, with_uploaded_media  # local: media imports graph

        payload = await with_uploaded_media(sandbox_media, kind, payload)  # the same upload step
        body = build_request(kind, payload, callback_data=callback_data)  # same validation as Graph
        self.sent.append(body)
        del self.sent[: -self._keep]
        if kind in ("read", "typing"):
            return SendResult(None)
        return SendResult(new_wamid())

    async def aclose(self) -> None:
        return None


def new_wamid() -> str:
    return f"wamid.sandbox.{uuid.uuid4().hex}"


# ---- Meta-shaped payloads ------------------------------------------------------------------
def _envelope(field: str, value: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": SANDBOX_DISPLAY_NUMBER,
            "phone_number_id": settings.WHATSAPP_PHONE_NUMBER_ID or "sandbox",
        },
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": SANDBOX_WABA_ID, "changes": [{"value": value, "field": field}]}],
    }


def customer_message_payload(
    wa_id: str,
    *,
    text: str | None = None,
    button: tuple[str, str] | None = None,
    list_row: tuple[str, str] | None = None,
    name: str | None = None,
    wamid: str | None = None,
    context_wamid: str | None = None,
    media: tuple[str, dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], str]:
    """(webhook body, wamid) for a customer's text, reply-button tap (id, title), list pick, or
    media: (`image`|`audio`|`document`|`sticker`|`video`, Meta's object: id, mime_type, …)."""
    wamid = wamid or new_wamid()
    message: dict[str, Any] = {"from": wa_id, "id": wamid, "timestamp": str(int(now().timestamp()))}
    if button is not None:
        message.update(
            type="interactive",
            interactive={"type": "button_reply", "button_reply": {"id": button[0], "title": button[1]}},
        )
    elif list_row is not None:
        message.update(
            type="interactive",
            interactive={"type": "list_reply", "list_reply": {"id": list_row[0], "title": list_row[1]}},
        )
    elif media is not None:
        message.update({"type": media[0], media[0]: media[1]})
    else:
        message.update(type="text", text={"body": text or ""})
    if context_wamid:
        message["context"] = {"from": SANDBOX_DISPLAY_NUMBER, "id": context_wamid}
    contact = {"profile": {"name": name or wa_id}, "wa_id": wa_id}
    return _envelope("messages", {"contacts": [contact], "messages": [message]}), wamid


def status_payload(wamid: str, status: str, *, recipient_id: str, callback_data: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(now().timestamp())),
        "recipient_id": recipient_id,
    }
    if callback_data:
        item["biz_opaque_callback_data"] = callback_data
    return _envelope("messages", {"statuses": [item]})


def business_echo_payload(wa_id: str, text: str) -> tuple[dict[str, Any], str]:
    wamid = new_wamid()
    echo = {
        "from": SANDBOX_DISPLAY_NUMBER,
        "to": wa_id,
        "id": wamid,
        "timestamp": str(int(now().timestamp())),
        "type": "text",
        "text": {"body": text},
    }
    return _envelope("smb_message_echoes", {"message_echoes": [echo]}), wamid


# ---- feeding them through the webhook path -------------------------------------------------
def deliver(payload: dict[str, Any]) -> int | None:
    """Store a body exactly as the webhook would (Meta escapes non-ASCII: so do we) and wake the
    processor. Returns the event id (None if the identical body was already stored)."""
    body = json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    event_id = webhook.store_event(body, signature_ok=True)
    if event_id is not None:
        webhook.notify_stored()
    return event_id


def inject_customer_message(
    wa_id: str,
    *,
    text: str | None = None,
    button: tuple[str, str] | None = None,
    list_row: tuple[str, str] | None = None,
    name: str | None = None,
) -> str:
    """Be the customer: the message goes through store → processor → bot like Meta's. Returns its wamid."""
    payload, wamid = customer_message_payload(wa_id, text=text, button=button, list_row=list_row, name=name)
    deliver(payload)
    return wamid


def inject_customer_media(
    wa_id: str,
    data: bytes,
    mime_type: str,
    *,
    caption: str | None = None,
    filename: str | None = None,
    name: str | None = None,
) -> str:
    """The customer sends a photo (or audio, or a document): the bytes go to the sandbox's stand-in
    for Meta's media store and the webhook carries only their id, so the panel fetches them
    through the same queue as with Meta. Returns the wamid."""
    import hashlib

    from s7.domain.media import kind_for_mime
    from s7.whatsapp.media import sandbox_media

    kind = kind_for_mime(mime_type)
    if mime_type == "image/webp":
        kind = "sticker"
    media: dict[str, Any] = {
        "id": sandbox_media.put(data, mime_type),
        "mime_type": mime_type,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    if caption and kind in ("image", "video", "document"):
        media["caption"] = caption
    if filename and kind == "document":
        media["filename"] = filename
    payload, wamid = customer_message_payload(wa_id, name=name, media=(kind, media))
    deliver(payload)
    return wamid


def sample_photo(width: int = 240, height: int = 160, rgb: tuple[int, int, int] = (230, 90, 40)) -> bytes:
    """A real PNG (solid colour with a darker band), for the simulator's "foto de ejemplo"."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    band = tuple(c // 2 for c in rgb)
    rows = b"".join(b"\x00" + bytes(band if height // 3 <= y < 2 * height // 3 else rgb) * width for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def simulate_status(wamid: str, status: str, *, recipient_id: str) -> None:
    """The simulated phone received / read one of our messages (ticks in the panel)."""
    deliver(status_payload(wamid, status, recipient_id=recipient_id))


def simulate_business_echo(wa_id: str, text: str) -> str:
    """Someone answered from the WhatsApp Business app on the phone (coexistence): the bot goes quiet."""
    payload, wamid = business_echo_payload(wa_id, text)
    deliver(payload)
    return wamid
