"""The panel as an installable app: a web manifest, icons served with the app, a service worker.

The icons are drawn here (a teal tile with a white "7", PNG via zlib), so there is no binary to
keep in the repository. The service worker only passes requests through: the panel needs the
live server, and an offline copy of a sales inbox would show stale chats as if they were true.
Web Push to closed tabs needs a push service this deployment does not have (out of scope); open
but hidden tabs notify through the Notification API (see `inbox_alerts`).
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

from fastapi import APIRouter, Response

router = APIRouter(include_in_schema=False)
TEAL = (15, 118, 110)
WHITE = (255, 255, 255)
SIZES = (192, 512)
PATHS = {"/manifest.webmanifest", "/sw.js", *(f"/icons/icon-{s}.png" for s in SIZES)}

MANIFEST = {
    "name": "Sector 7 · Ventas",
    "short_name": "Sector 7",
    "description": "Las conversaciones de WhatsApp de la tienda: bot, vendedores y ventas.",
    "start_url": "/",
    "scope": "/",
    "display": "standalone",
    "orientation": "any",
    "background_color": "#f8fafc",
    "theme_color": "#115e59",
    "lang": "es-AR",
    "icons": [
        *({"src": f"/icons/icon-{s}.png", "sizes": f"{s}x{s}", "type": "image/png", "purpose": "any"} for s in SIZES),
        {"src": "/icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
    ],
}

SERVICE_WORKER = """self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', () => {});
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(self.clients.matchAll({type: 'window'})
    .then((tabs) => tabs.length ? tabs[0].focus() : self.clients.openWindow('/')));
});
"""

# What the page head carries: the manifest, the theme colour, and the worker's registration.
HEAD = """
<link rel="manifest" href="/manifest.webmanifest">
<meta name="theme-color" content="#115e59">
<link rel="apple-touch-icon" href="/icons/icon-192.png">
<script>if ('serviceWorker' in navigator) { navigator.serviceWorker.register('/sw.js').catch(() => {}); }</script>
"""

# A 7 on a 7 × 9 grid, drawn as blocks.
_SEVEN = ("1111111", "0000011", "0000110", "0001100", "0011000", "0011000", "0110000", "0110000", "0110000")


@lru_cache(maxsize=4)
def icon_png(size: int) -> bytes:
    cell = size // 14
    left, top = (size - 7 * cell) // 2, (size - 9 * cell) // 2
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # filter: none
        gy = (y - top) // cell if y >= top else -1
        for x in range(size):
            gx = (x - left) // cell if x >= left else -1
            ink = 0 <= gy < 9 and 0 <= gx < 7 and _SEVEN[gy][gx] == "1"
            row += bytes(WHITE if ink else TEAL)
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@router.get("/manifest.webmanifest")
def manifest() -> Response:
    import json

    return Response(json.dumps(MANIFEST, ensure_ascii=False), media_type="application/manifest+json")


@router.get("/sw.js")
def service_worker() -> Response:
    return Response(SERVICE_WORKER, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@router.get("/icons/icon-{size}.png")
def icon(size: int) -> Response:
    if size not in SIZES:
        return Response(status_code=404)
    return Response(icon_png(size), media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})
