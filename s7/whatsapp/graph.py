"""httpx client for the Graph API `/{phone_number_id}/messages`: text, reply buttons, list,
media (uploaded first, see `s7.whatsapp.media`), templates, product cards, mark-as-read, typing
indicator. Builds the wire body from an outbox row and classifies errors
into "retry later" and "give up with Meta's reason" (reference §6-§7).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

# Codes worth another try: throughput (130429; 4 and 17 are app/user-level call limits), the pair
# rate limit (131056), "something went wrong" (131000), maintenance during a throughput upgrade
# (131057), spam rate limit (131048), Graph's generic transient errors (1, 2, 341, 133004).
# Everything else Meta answers is a permanent refusal (131047, 131026, 131051, 100, 190...).
RETRYABLE_CODES = frozenset({1, 2, 4, 17, 341, 130429, 131000, 131048, 131056, 131057, 133004})
THROTTLE_CODES = frozenset({4, 17, 130429})  # the whole number/app is over its rate: slow everyone
PAIR_LIMIT_CODE = 131056  # this one customer got too many messages: slow only this chat

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")
# Outbox kinds that are messages to the customer (the rest are read receipts / typing).
MESSAGE_KINDS = ("text", "buttons", "list", "template", "card", *MEDIA_KINDS)
# Meta could not use the media of a send (131053 "Media upload error", 131052 download error):
# a product card then goes out as the same text and buttons without its photo.
MEDIA_ERROR_CODES = frozenset({131052, 131053})


@dataclass(frozen=True)
class SendResult:
    wamid: str | None  # None for mark-as-read / typing, which answer {"success": true}


class SendError(Exception):
    """A send that did not go through. `retryable` decides between backoff and giving up."""

    def __init__(
        self,
        reason: str,
        *,
        retryable: bool,
        code: int | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.code = code
        self.http_status = http_status

    @property
    def throttled(self) -> bool:
        return self.http_status == 429 or self.code in THROTTLE_CODES

    @property
    def pair_limited(self) -> bool:
        return self.code == PAIR_LIMIT_CODE


class Transport(Protocol):
    """Delivers one outbox row: the Graph API in production, `sandbox` without a token."""

    async def send(self, kind: str, payload: dict[str, Any], *, callback_data: str | None = None) -> SendResult: ...

    async def aclose(self) -> None: ...


# ---- request bodies ------------------------------------------------------------------------
def build_request(kind: str, payload: dict[str, Any], *, callback_data: str | None = None) -> dict[str, Any]:
    """Outbox row (domain shape, see `s7.domain.chats.messages`) → Graph API JSON body."""
    if kind in ("read", "typing"):
        body: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": payload["message_id"]}
        if kind == "typing":
            body["typing_indicator"] = {"type": "text"}
        return body
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", **_recipient(str(payload["to"]))}
    if payload.get("reply_to"):
        body["context"] = {"message_id": payload["reply_to"]}
    if callback_data:
        # Comes back in every status webhook: ties a tick to our row even before we stored the wamid.
        body["biz_opaque_callback_data"] = callback_data
    options = payload.get("options") or []
    if kind == "text":
        body.update(type="text", text={"body": payload["text"], "preview_url": "http" in payload["text"]})
    elif kind == "buttons":
        buttons = [{"type": "reply", "reply": {"id": o["id"], "title": o["title"]}} for o in options]
        body.update(
            type="interactive",
            interactive={"type": "button", "body": {"text": payload["text"]}, "action": {"buttons": buttons}},
        )
    elif kind == "list":
        rows = [{k: o[k] for k in ("id", "title", "description") if o.get(k)} for o in options]
        body.update(
            type="interactive",
            interactive={
                "type": "list",
                "body": {"text": payload["text"]},
                "action": {"button": payload.get("button") or "Ver opciones", "sections": [{"rows": rows}]},
            },
        )
    elif kind == "card":
        buttons = [{"type": "reply", "reply": {"id": o["id"], "title": o["title"]}} for o in options]
        body.update(
            type="interactive",
            interactive={
                "type": "button",
                "header": {"type": "image", "image": {"link": payload["image_url"]}},
                "body": {"text": payload["text"]},
                "action": {"buttons": buttons},
            },
        )
    elif kind in MEDIA_KINDS:
        media: dict[str, Any] = {"id": payload["media_id"]}
        if payload.get("caption") and kind in ("image", "video", "document"):
            media["caption"] = payload["caption"]
        if payload.get("filename") and kind == "document":
            media["filename"] = payload["filename"]
        body.update({"type": kind, kind: media})
    elif kind == "template":
        template: dict[str, Any] = {"name": payload["name"], "language": {"code": payload["language"]}}
        if payload.get("components"):
            template["components"] = payload["components"]
        body.update(type="template", template=template)
    else:
        raise ValueError(f"unknown outbox kind {kind!r}")
    return body


def _recipient(to: str) -> dict[str, str]:
    """Phone numbers go out with `+` (without it Meta prepends the business's country code);
    a business-scoped user id (`US.123…`, when the customer has a username) goes in `recipient`."""
    if to.isdigit():
        return {"to": "+" + to}
    if to.startswith("+"):
        return {"to": to}
    return {"recipient": to}


# ---- the client ----------------------------------------------------------------------------
class GraphClient:
    """One shared `httpx.AsyncClient` (keep-alive) for a number's /messages endpoint."""

    def __init__(
        self,
        messages_url: str,
        token: str,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        from s7.whatsapp.media import GraphMedia  # local: media imports this module

        self.messages_url = messages_url
        self._headers = {"Authorization": f"Bearer {token}"}
        self._client = client or httpx.AsyncClient(
            timeout=timeout, limits=httpx.Limits(max_connections=64, max_keepalive_connections=32)
        )
        root, phone_number_id, _ = messages_url.rsplit("/", 2)
        self.media = GraphMedia(root, phone_number_id, token, client=self._client)

    async def send(self, kind: str, payload: dict[str, Any], *, callback_data: str | None = None) -> SendResult:
        from s7.whatsapp.media import with_uploaded_media

        payload = await with_uploaded_media(self.media, kind, payload)
        try:
            return await self._post(kind, payload, callback_data)
        except SendError as exc:
            if kind != "card" or exc.code not in MEDIA_ERROR_CODES:
                raise
            # Meta could not fetch the product photo: the same card as text, in the same turn.
            return await self._post("buttons", payload, callback_data)

    async def _post(self, kind: str, payload: dict[str, Any], callback_data: str | None) -> SendResult:
        body = build_request(kind, payload, callback_data=callback_data)
        try:
            response = await self._client.post(self.messages_url, json=body, headers=self._headers)
        except httpx.TimeoutException as exc:
            raise SendError(
                f"Tiempo de espera agotado con la API de WhatsApp ({type(exc).__name__})", retryable=True
            ) from exc
        except httpx.HTTPError as exc:
            raise SendError(f"Error de red con la API de WhatsApp ({type(exc).__name__})", retryable=True) from exc
        return parse_response(response.status_code, response.content)

    async def aclose(self) -> None:
        await self._client.aclose()


def parse_response(status: int, content: bytes) -> SendResult:
    """Graph answer → SendResult, or SendError carrying Meta's code and reason."""
    try:
        data: Any = json.loads(content) if content else {}
    except ValueError:
        data = {}
    if 200 <= status < 300 and isinstance(data, dict) and "error" not in data:
        messages = data.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict) and messages[0].get("id"):
            return SendResult(str(messages[0]["id"]))
        if data.get("success") is True:
            return SendResult(None)
        raise SendError(
            f"Respuesta inesperada de la API de WhatsApp (HTTP {status})", retryable=True, http_status=status
        )
    error = data.get("error") if isinstance(data, dict) and isinstance(data.get("error"), dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    details = error.get("error_data", {}).get("details") if isinstance(error.get("error_data"), dict) else None
    message = str(error.get("message") or f"HTTP {status}")
    reason = f"({code}) {message}" if code is not None else message
    if details and details not in message:
        reason = f"{reason}: {details}"
    retryable = status >= 500 or status == 429 or code in RETRYABLE_CODES
    raise SendError(reason, retryable=retryable, code=code, http_status=status)
