"""The installable panel: manifest, icons and service worker served with the app, without a session."""

from __future__ import annotations

import struct

from nicegui.testing import User

from tests.pages.inbox_helpers import make_user, sign_in
from tests.pages.page_helpers import clean_realtime_bus  # noqa: F401 - autouse fixture


async def test_manifest_icons_and_worker_are_served_to_a_browser_without_cookies(pg_db, user: User) -> None:
    client = user.http_client
    manifest = await client.get("/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["display"] == "standalone" and body["start_url"] == "/"
    for icon in body["icons"]:
        png = await client.get(icon["src"])
        assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png.content[16:24])
        assert f"{width}x{height}" == icon["sizes"]
    worker = await client.get("/sw.js")
    assert worker.status_code == 200 and "fetch" in worker.text
    assert (await client.get("/icons/icon-64.png")).status_code != 200  # only the two real sizes


async def test_every_panel_page_links_the_manifest(pg_db, user: User) -> None:
    make_user("Vendedor Uno")
    await sign_in(user, "Vendedor Uno")
    page = await user.http_client.get("/")
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page.text
