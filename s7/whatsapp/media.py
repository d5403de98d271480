"""Media at the edge: download what customers send, upload what sellers attach.

Inbound (reference: Cloud API media): `GET /{media-id}` with the token answers a short-lived
`url` (about 5 minutes) plus `mime_type`, `sha256`, `file_size`; the bytes come from a second
`GET url`, again with the token. Media Meta no longer keeps (about 30 days) answers Graph error
100 on the first step: that file is gone for good. The fetcher below drains the durable queue
of `s7.domain.media` in the background, off the chats' ordered path, as soon as a message with
media is stored.

Outbound: `POST /{phone-number-id}/media` (multipart `file`, `type`, `messaging_product`) → `id`,
then the message is sent with `{"image": {"id": …}}`. The sandbox keeps both sides in memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from s7.config import get_settings
from s7.domain import media as store
from s7.whatsapp.graph import DEFAULT_TIMEOUT, SendError, parse_response
from s7.whatsapp.wakeup import Service

log = logging.getLogger(__name__)

GONE_CODES = frozenset({100, 131052})  # no such object (expired, deleted) / "media download error"
SEND_KINDS = ("image", "audio", "video", "document", "sticker")
POLL_SECONDS = 10.0
BATCH = 8
CONCURRENCY = 4


class MediaFetchError(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class Fetched:
    data: bytes
    mime_type: str | None


class MediaSource(Protocol):
    """Meta's media endpoints (or the sandbox's stand-in)."""

    async def fetch(self, media_id: str, *, max_bytes: int) -> Fetched: ...

    async def upload(self, data: bytes, mime_type: str, filename: str | None) -> str: ...

    async def aclose(self) -> None: ...


# ---- the Graph API ---------------------------------------------------------------------------
class GraphMedia:
    def __init__(
        self, root_url: str, phone_number_id: str, token: str, *, client: httpx.AsyncClient | None = None
    ) -> None:
        self.root_url = root_url.rstrip("/")
        self.upload_url = f"{self.root_url}/{phone_number_id}/media"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._client = client or httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)

    async def fetch(self, media_id: str, *, max_bytes: int) -> Fetched:
        try:
            meta = await self._client.get(f"{self.root_url}/{media_id}", headers=self._headers)
        except httpx.HTTPError as exc:
            raise MediaFetchError(
                f"Error de red con la API de WhatsApp ({type(exc).__name__})", permanent=False
            ) from exc
        info = _metadata(meta)
        size = _int(info.get("file_size"))
        if size is not None and size > max_bytes:
            raise MediaFetchError(
                f"El archivo pesa {size} bytes, más de lo que guardamos ({max_bytes})", permanent=True
            )
        url = str(info.get("url") or "")
        if not url.startswith(("https://", "http://")):
            raise MediaFetchError("La API de WhatsApp no dio una URL para el archivo", permanent=False)
        data = await self._download(url, max_bytes)
        expected = str(info.get("sha256") or "").lower()
        if len(expected) == 64 and hashlib.sha256(data).hexdigest() != expected:
            raise MediaFetchError("El archivo llegó incompleto (sha256 distinto)", permanent=False)
        return Fetched(data, str(info.get("mime_type") or "") or None)

    async def _download(self, url: str, max_bytes: int) -> bytes:
        chunks: list[bytes] = []
        received = 0
        try:
            async with self._client.stream("GET", url, headers=self._headers) as response:
                if response.status_code != 200:
                    # The short-lived URL may have expired between the two steps: try again later.
                    raise MediaFetchError(f"La descarga respondió HTTP {response.status_code}", permanent=False)
                async for chunk in response.aiter_bytes():
                    received += len(chunk)
                    if received > max_bytes:
                        raise MediaFetchError(f"El archivo supera {max_bytes} bytes", permanent=True)
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise MediaFetchError(f"Error de red al descargar ({type(exc).__name__})", permanent=False) from exc
        return b"".join(chunks)

    async def upload(self, data: bytes, mime_type: str, filename: str | None) -> str:
        files = {"file": (filename or "archivo", data, mime_type)}
        form = {"messaging_product": "whatsapp", "type": mime_type}
        try:
            response = await self._client.post(self.upload_url, data=form, files=files, headers=self._headers)
        except httpx.TimeoutException as exc:
            raise SendError(
                f"Tiempo de espera agotado al subir el archivo ({type(exc).__name__})", retryable=True
            ) from exc
        except httpx.HTTPError as exc:
            raise SendError(f"Error de red al subir el archivo ({type(exc).__name__})", retryable=True) from exc
        if 200 <= response.status_code < 300:
            try:
                media_id = response.json().get("id")
            except ValueError:
                media_id = None
            if media_id:
                return str(media_id)
        parse_response(response.status_code, response.content)  # raises Meta's reason
        raise SendError("La API de WhatsApp no devolvió el id del archivo subido", retryable=True)

    async def aclose(self) -> None:
        await self._client.aclose()


def _metadata(response: httpx.Response) -> dict[str, Any]:
    try:
        body: Any = response.json()
    except ValueError:
        body = {}
    if response.status_code == 200 and isinstance(body, dict) and "error" not in body:
        return body
    error = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else {}
    code = error.get("code")
    reason = f"({code}) {error.get('message') or 'HTTP ' + str(response.status_code)}"
    permanent = code in GONE_CODES or response.status_code == 404
    raise MediaFetchError(reason, permanent=permanent)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---- the sandbox -----------------------------------------------------------------------------
class SandboxMedia:
    """Meta's media store, played in memory: the simulator "sends" a photo by putting it here and
    the fetcher takes it from here, exactly as it would from the Graph API."""

    KEEP = 200

    def __init__(self) -> None:
        self._files: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def put(self, data: bytes, mime_type: str) -> str:
        with self._lock:
            media_id = f"sandbox-media-{next(self._ids)}-{hashlib.sha256(data).hexdigest()[:8]}"
            self._files[media_id] = (data, mime_type)
            while len(self._files) > self.KEEP:
                self._files.popitem(last=False)
            return media_id

    def get(self, media_id: str) -> tuple[bytes, str] | None:
        with self._lock:
            return self._files.get(media_id)

    async def fetch(self, media_id: str, *, max_bytes: int) -> Fetched:
        found = self.get(media_id)
        if found is None:
            raise MediaFetchError("(100) El archivo ya no existe en el sandbox", permanent=True)
        if len(found[0]) > max_bytes:
            raise MediaFetchError(f"El archivo supera {max_bytes} bytes", permanent=True)
        return Fetched(*found)

    async def upload(self, data: bytes, mime_type: str, filename: str | None) -> str:
        return self.put(data, mime_type)

    async def aclose(self) -> None:
        return None


sandbox_media = SandboxMedia()


def default_source() -> MediaSource:
    settings = get_settings()
    if settings.sandbox:
        return sandbox_media
    return GraphMedia(settings.graph_root_url, settings.WHATSAPP_PHONE_NUMBER_ID, settings.WHATSAPP_TOKEN)


# ---- outbound: a media row becomes a send with Meta's media id -------------------------------
async def with_uploaded_media(source: MediaSource, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """For a media outbox row: upload the stored file (once; a retry reuses Meta's id) and
    return the payload with `media_id`. Other rows pass through unchanged."""
    if kind not in SEND_KINDS or payload.get("media_id"):
        return payload
    file_id = int(payload["file_id"])
    stored = await asyncio.to_thread(store.load_outbound, file_id)
    if stored is None:
        raise SendError("El archivo ya no está disponible: no se envió", retryable=False)
    media_id = stored.wa_media_id
    if not media_id:
        media_id = await source.upload(stored.data, stored.mime_type, stored.filename)
        await asyncio.to_thread(store.remember_upload, file_id, media_id)
    return {**payload, "media_id": media_id}


# ---- the fetcher -----------------------------------------------------------------------------
async def fetch_one(source: MediaSource, due: store.Due) -> str:
    """Fetch one queued file; returns the row's state afterwards."""
    try:
        fetched = await source.fetch(due.wa_media_id, max_bytes=store.file_cap(due.kind))
    except MediaFetchError as exc:
        return await asyncio.to_thread(store.fetch_failed, due.id, exc.reason, permanent=exc.permanent)
    except Exception as exc:  # a bug must not stop the queue: the row is retried, then failed
        log.exception("media %s: unexpected error while fetching", due.id)
        return await asyncio.to_thread(
            store.fetch_failed, due.id, f"Error inesperado ({type(exc).__name__})", permanent=False
        )
    saved = await asyncio.to_thread(store.save_fetched, due.id, fetched.data, fetched.mime_type)
    return "ready" if saved else "gone"


class Fetcher:
    def __init__(self, source: MediaSource, *, concurrency: int = CONCURRENCY) -> None:
        self.source = source
        self._semaphore = asyncio.Semaphore(concurrency)

    async def run_once(self) -> int:
        due = await asyncio.to_thread(store.claim_due, BATCH)

        async def one(item: store.Due) -> None:
            async with self._semaphore:
                await fetch_one(self.source, item)

        if due:
            await asyncio.gather(*(one(item) for item in due))
        return len(due)

    async def aclose(self) -> None:
        await self.source.aclose()

    async def drain(self, max_rounds: int = 50) -> int:
        total = 0
        for _ in range(max_rounds):
            handled = await self.run_once()
            if not handled:
                break
            total += handled
        return total


_service: Service[Fetcher] = Service(
    "media-fetcher",
    poll_seconds=POLL_SECONDS,
    channel=store.MEDIA_CHANNEL,
    subscribe=store.on_fetch_queued,
)


def start(source: MediaSource | None = None) -> None:
    """Start fetching in this process (app startup, `s7 worker`), on the running loop."""
    if not _service.loop.running:
        _service.start(Fetcher(source or default_source()))


async def stop() -> None:
    await _service.stop()


def wake() -> None:
    _service.wake()
