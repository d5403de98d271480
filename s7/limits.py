"""Request-body limits enforced while the body streams in: the one mechanism behind every upload.

`BodyLimit` is pure ASGI middleware placed in front of the routes. For each POST/PUT/PATCH it
finds the first `LimitRule` whose path prefix matches and then:

1. a declared `Content-Length` over the limit is answered 413 before a byte is read;
2. otherwise it counts the body bytes as the app pulls them from `receive`; the chunk that
   goes over the limit is never handed on: `receive` raises `BodyTooLarge` instead (and keeps
   raising), so a route, a multipart parser or NiceGUI's own upload route never holds more
   than the limit;
3. whatever the app does with that exception (let it fly, or turn it into its own 400 as
   FastAPI's body parsing does), the client gets a 413 with a Spanish message: JSON
   `{"detail": ...}` under /api, plain text elsewhere (the panel's uploader shows its own text).

Limits are ints or zero-argument callables read per request (so `UPLOAD_MAX_MB` can change in
tests without rebuilding the app). A rule with `max_bytes=None` exempts its prefix (the webhook
enforces `WEBHOOK_MAX_BODY_BYTES` itself). To limit a new upload path, add a rule in
`upload_rules` (or build a `BodyLimit` with your own rules):

    app.add_middleware(BodyLimit, rules=[LimitRule("/api/conversations/", lambda: 16 * 2**20, slack=4096)])
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from s7.config import get_settings

Limit = int | Callable[[], int] | None
# A file of exactly UPLOAD_MAX_MB arrives wrapped in multipart framing (boundaries, part headers,
# other form fields); the route then checks the file itself against UPLOAD_MAX_MB.
MULTIPART_OVERHEAD = 64 * 1024
_BODY_METHODS = {"POST", "PUT", "PATCH"}


class BodyTooLarge(Exception):
    """Raised from `receive` once a body passes its limit."""


@dataclass(frozen=True)
class LimitRule:
    """Bodies under `prefix` may carry `max_bytes` (what the message names) plus `slack` (for
    framing such as multipart boundaries)."""

    prefix: str
    max_bytes: Limit
    slack: int = 0

    def limit(self) -> int | None:
        return self.max_bytes() if callable(self.max_bytes) else self.max_bytes


def upload_rules() -> list[LimitRule]:
    """Every upload path of the app at UPLOAD_MAX_MB: NiceGUI's upload route, the REST API
    (catalog import, message attachments), and any other body; the webhook keeps its own limit."""

    def upload_max() -> int:
        return get_settings().upload_max_bytes

    return [LimitRule("/webhook", None), LimitRule("/", upload_max, slack=MULTIPART_OVERHEAD)]


def too_large_text(limit: int) -> str:
    megabytes = limit / (1024 * 1024)
    shown = f"{megabytes:.0f}" if megabytes >= 1 else f"{megabytes:.1f}"
    return f"El archivo supera el máximo de {shown} MB."


class BodyLimit:
    def __init__(self, app: ASGIApp, rules: Sequence[LimitRule] | None = None) -> None:
        self.app = app
        self.rules = list(rules) if rules is not None else upload_rules()

    def _rule_for(self, path: str) -> LimitRule | None:
        return next((rule for rule in self.rules if path.startswith(rule.prefix)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        rule = self._rule_for(path)
        shown = rule.limit() if rule is not None else None
        if rule is None or shown is None:
            await self.app(scope, receive, send)
            return
        limit = shown + rule.slack
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, path, shown)
            return

        consumed = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal consumed, exceeded
            if exceeded:
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                consumed += len(message.get("body", b""))
                if consumed > limit:
                    exceeded = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the app's own answer to the cut body (e.g. FastAPI's 400) is replaced below
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _refuse(send, path, shown)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, path: str, limit: int) -> None:
    text = too_large_text(limit)
    if path.startswith("/api/"):
        body, content_type = json.dumps({"detail": text}).encode(), b"application/json"
    else:
        body, content_type = text.encode(), b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
