"""Media in real Chromium against `python main.py` and the fake Graph API: a seller sees the
customer's photo (fetched from Meta's two routes by the server, served by /media with the session
cookie) and sends a photo back (uploaded, then sent, by the outbox)."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.test_inbox_e2e import Shop, _row, _wait, shop, tabs  # noqa: F401 - shared fixtures
from tests.fakes import files

pytestmark = pytest.mark.e2e


def customer_sends_photo(shop: Shop, wa_id: str, name: str, photo: bytes, caption: str) -> str:  # noqa: F811
    media_id = shop.graph.add_media(photo, "image/png")
    image = {"id": media_id, "mime_type": "image/png", "sha256": hashlib.sha256(photo).hexdigest(), "caption": caption}
    message = {"from": wa_id, "id": f"wamid.e2e.{uuid.uuid4().hex}", "timestamp": str(int(time.time()))}
    shop.post(
        {
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [{**message, "type": "image", "image": image}],
        }
    )
    return media_id


def loaded_images(page: Any, selector: str) -> list[int]:
    """naturalWidth of each matching <img> that finished loading (0 = broken or not loaded)."""
    return page.eval_on_selector_all(selector, "els => els.filter(e => e.complete).map(e => e.naturalWidth)")


def test_a_seller_sees_the_customers_photo_and_sends_one_back(shop: Shop, tabs) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    seller, _ = tabs
    wa_id = "5491170000101"
    media_id = customer_sends_photo(shop, wa_id, "Flor Foto", files.png(40, 30, (20, 120, 200)), "¿Tienen estas?")
    _wait(lambda: f"/{shop.graph.version}/{media_id}" in shop.graph.gets())  # fetched on arrival
    _row(seller, "Flor Foto").click()
    bubble = seller.locator(".q-message", has_text="¿Tienen estas?")
    bubble.wait_for()
    bubble.locator("img[src^='/media/']").wait_for(state="attached", timeout=20_000)
    _wait(
        lambda: loaded_images(seller, ".q-message img[src^='/media/']") == [40], timeout=20
    )  # the real bytes, decoded
    screenshot(seller, "media-customer-photo")

    seller.locator("button[title='Adjuntar foto, PDF o audio']").click()
    dialog = seller.locator(".q-dialog", has_text="Adjuntar")
    dialog.wait_for()
    reply = files.png(24, 16, (200, 60, 30))
    dialog.locator("input[type=file]").set_input_files(
        files=[{"name": "modelo.png", "mimeType": "image/png", "buffer": reply}]
    )
    dialog.get_by_text("modelo.png ·").wait_for()
    dialog.get_by_label("Texto (opcional)").fill("Sí, tenemos este modelo")
    dialog.get_by_role("button", name="Enviar").click()
    sent = seller.locator(".q-message", has_text="Sí, tenemos este modelo")
    sent.wait_for()
    _wait(lambda: any(u.data == reply for u in shop.graph.uploads), timeout=15)
    upload = next(u for u in shop.graph.uploads if u.data == reply)
    _wait(lambda: any(s.get("image", {}).get("id") == upload.media_id for s in shop.graph.sends()), timeout=15)
    send = next(s for s in shop.graph.sends() if s.get("image", {}).get("id") == upload.media_id)
    assert send["image"]["caption"] == "Sí, tenemos este modelo" and send["to"] == "+" + wa_id
    _wait(lambda: sorted(loaded_images(seller, ".q-message img[src^='/media/']")) == [24, 40], timeout=20)
    screenshot(seller, "media-seller-photo")
