"""Security headers on every HTTP response (pages, API, static files, redirects, errors).

The Content-Security-Policy is the one NiceGUI works under: its client compiles Vue templates
at run time (`'unsafe-eval'`) and boots from inline scripts (`'unsafe-inline'`). What the policy
still buys: nothing loads from another origin (`default-src 'self'`), no plugins, no `<base>`
hijack, forms post only here, the panel is never framed (clickjacking), and the page talks only
to this origin and its own websocket. `/docs` (Swagger UI) may load its bundle from jsDelivr.

HSTS is sent only when PUBLIC_BASE_URL is https (a plain-http local run must stay reachable).
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from s7.config import get_settings

_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_SWAGGER = "https://cdn.jsdelivr.net"
HSTS = "max-age=31536000"


def content_security_policy(host: str | None, secure: bool, *, docs: bool = False) -> str:
    websocket = f" {'wss' if secure else 'ws'}://{host}" if host and _HOST.match(host) else ""
    extra = f" {_SWAGGER}" if docs else ""
    directives = [
        "default-src 'self'",
        f"script-src 'self' 'unsafe-inline' 'unsafe-eval'{extra}",
        f"style-src 'self' 'unsafe-inline'{extra}",
        "img-src 'self' data: blob:" + (" https://fastapi.tiangolo.com" if docs else ""),
        "font-src 'self' data:",
        "media-src 'self' blob:",
        f"connect-src 'self'{websocket}",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


class SecurityHeaders:
    """Pure ASGI: adds the headers to each `http.response.start` unless the route set them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), None)
        path = scope.get("path", "")
        secure = scope.get("scheme") == "https" or get_settings().public_base_url.startswith("https://")
        headers = {
            b"content-security-policy": content_security_policy(host, secure, docs=path.startswith("/docs")),
            b"x-content-type-options": "nosniff",
            b"referrer-policy": "same-origin",
            b"x-frame-options": "DENY",
            b"cross-origin-opener-policy": "same-origin",
        }
        if get_settings().public_base_url.startswith("https://"):
            headers[b"strict-transport-security"] = HSTS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(name, value.encode("latin-1")) for name, value in headers.items() if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
