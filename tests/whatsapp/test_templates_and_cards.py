"""Templates (synced from the WABA with paging, sent outside the 24-hour window, failures with
Meta's reason, a job's admin-chosen template) and product cards (photo header, text fallback when
Meta cannot use the photo), through the running app against the fake Graph API."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from nicegui.testing import User
from sqlalchemy import select, update

from s7.auth import issue_token
from s7.clock import now
from s7.config import Settings, reset_settings
from s7.db import session_scope
from s7.domain import catalog
from s7.domain.chats import followups, templates
from s7.domain.models import Conversation, Message, OutboxItem
from s7.whatsapp import outbox, webhook
from s7.whatsapp import templates as template_sync
from s7.whatsapp.graph import GraphClient
from tests.chat_factory import make_chat, make_user
from tests.fakes.graph_server import FakeGraph, Reply
from tests.whatsapp.conftest import CUSTOMER, encode, load

TOKEN = "test-token"


def meta_template(name: str, body: str, status: str = "APPROVED", language: str = "es_AR") -> dict[str, Any]:
    return {
        "name": name,
        "language": language,
        "status": status,
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": body}, {"type": "FOOTER", "text": "Sector 7"}],
        "id": f"9{abs(hash(name)) % 10**12}",
    }


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph(token=TOKEN) as fake:
        fake.templates = [
            meta_template("seguimiento", "Hola {{1}}, ¿seguís buscando {{2}}?"),
            meta_template("promo", "Promo de noviembre", status="PAUSED"),
            meta_template("ya_abrimos", "Ya abrimos, {{1}}. ¿Te ayudamos?"),
            meta_template("rechazada", "x", status="REJECTED"),
            meta_template("gracias", "¡Gracias por tu compra!"),
        ]
        yield fake


@pytest.fixture
async def live(pg_db: Settings, user: User, graph: FakeGraph) -> AsyncIterator[FakeGraph]:
    """The running app, out of sandbox, talking to the fake Graph API (sender included)."""
    reset_settings(
        pg_db.model_copy(
            update={
                "WHATSAPP_TOKEN": TOKEN,
                "WHATSAPP_PHONE_NUMBER_ID": graph.phone_number_id,
                "WHATSAPP_BUSINESS_ACCOUNT_ID": graph.waba_id,
                "META_GRAPH_BASE_URL": graph.base_url,
                "META_GRAPH_VERSION": graph.version,
            }
        )
    )
    await outbox.stop()
    outbox.start(GraphClient(graph.messages_url, TOKEN, timeout=2))
    yield graph
    await outbox.stop()


def people() -> tuple[dict[str, str], dict[str, str], int]:
    with session_scope() as session:
        seller, admin = make_user(session, "Ana"), make_user(session, "Jefa", role="admin")
        return (
            {"Authorization": f"Bearer {issue_token(seller)}"},
            {"Authorization": f"Bearer {issue_token(admin)}"},
            seller.id,
        )


def closed_chat() -> int:
    with session_scope() as session:
        chat = make_chat(session, wa_id=CUSTOMER, name="Sofía", text="¿tienen Air Max?")
        chat.last_customer_at = now() - timedelta(days=2)  # the 24-hour window closed a day ago
        return chat.id


async def wait_for(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := await asyncio.to_thread(check):
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def status_of(message_id: int) -> tuple[str, str | None]:
    with session_scope() as session:
        message = session.get(Message, message_id)
        return message.status, message.error


async def test_sync_reads_every_page_and_keeps_an_admins_choice(live: FakeGraph, user: User) -> None:
    seller, admin, _ = people()
    client: httpx.AsyncClient = user.http_client
    assert (await client.post("/api/templates/sync", headers=seller)).status_code == 403
    synced = await client.post("/api/templates/sync", headers=admin)
    assert synced.json() == {"added": 5, "updated": 0, "removed": 0, "approved": 3}
    assert len(live.gets(f"/{live.version}/{live.waba_id}/message_templates")) == 3  # 2 + 2 + 1 per page
    listed = (await client.get("/api/templates", headers=seller)).json()
    assert [(t["name"], t["params"]) for t in listed] == [("gracias", 0), ("seguimiento", 2), ("ya_abrimos", 1)]
    assert listed[1]["body"] == "Hola {{1}}, ¿seguís buscando {{2}}?" and listed[1]["footer"] == "Sector 7"
    everything = (await client.get("/api/templates", headers=seller, params={"all": True})).json()
    assert {t["name"]: t["status"] for t in everything}["promo"] == "PAUSED"

    chosen = await client.post(
        "/api/templates/use", headers=admin, json={"use": "hot_lost", "template_id": listed[2]["id"]}
    )
    assert chosen.status_code == 200
    refused = await client.post(
        "/api/templates/use", headers=admin, json={"use": "after_hours", "template_id": listed[1]["id"]}
    )
    assert refused.status_code == 422  # two variables: a job can only fill the name
    live.templates = [t for t in live.templates if t["name"] != "gracias"]
    again = await client.post("/api/templates/sync", headers=admin)
    assert again.json()["removed"] == 1
    after = {t["name"]: t["use_for"] for t in (await client.get("/api/templates", headers=seller)).json()}
    assert after == {"seguimiento": None, "ya_abrimos": "hot_lost"}

    reset_settings(pg_settings_without_waba())
    failed = await client.post("/api/templates/sync", headers=admin)
    assert failed.status_code == 502 and "WHATSAPP_BUSINESS_ACCOUNT_ID" in failed.json()["detail"]


def pg_settings_without_waba() -> Settings:
    from s7.config import get_settings

    return get_settings().model_copy(update={"WHATSAPP_BUSINESS_ACCOUNT_ID": ""})


async def test_a_template_with_two_variables_goes_out_when_the_window_is_closed(live: FakeGraph, user: User) -> None:
    seller, admin, seller_id = people()
    client: httpx.AsyncClient = user.http_client
    await client.post("/api/templates/sync", headers=admin)
    chat = closed_chat()
    url = f"/api/conversations/{chat}/messages"
    text = await client.post(url, headers=seller, json={"text": "¿Seguís interesada?"})
    assert text.status_code == 409  # free-form text: WhatsApp would refuse it (rule 6)

    template = {"name": "seguimiento", "language": "es_AR", "params": ["Sofía", "las Air Max 90"]}
    sent = await client.post(url, headers=seller, json={"template": template})
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert (body["type"], body["text"], body["author"]) == (
        "template",
        "Hola Sofía, ¿seguís buscando las Air Max 90?",
        "seller",
    )
    with session_scope() as session:
        conversation = session.get(Conversation, chat)
        assert (conversation.mode, conversation.assigned_to) == ("HUMAN_TAKEOVER", seller_id)  # a takeover
    await wait_for(lambda: status_of(body["id"])[0] == "sent")
    assert live.sends()[-1]["template"] == {
        "name": "seguimiento",
        "language": {"code": "es_AR"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Sofía"}, {"type": "text", "text": "las Air Max 90"}],
            }
        ],
    }

    wrong = await client.post(url, headers=seller, json={"template": {**template, "params": ["Sofía"]}})
    assert wrong.status_code == 422 and "pide 2 dato(s) y recibió 1" in wrong.json()["detail"]
    paused = await client.post(url, headers=seller, json={"template": {"name": "promo", "language": "es_AR"}})
    assert paused.status_code == 422 and "pausada" in paused.json()["detail"]

    # Meta refuses what we could not know (its own copy changed): the seller sees Meta's reason.
    live.script(
        Reply.meta_error(400, 132000, "(#132000) Number of parameters does not match the expected number of params")
    )
    refused = await client.post(url, headers=seller, json={"template": {"name": "gracias", "language": "es_AR"}})
    assert refused.status_code == 201
    await wait_for(lambda: status_of(refused.json()["id"])[0] == "failed")
    assert (
        "132000" in status_of(refused.json()["id"])[1] and "Number of parameters" in status_of(refused.json()["id"])[1]
    )


def test_the_hot_lost_job_sends_the_chosen_template_outside_the_window_and_leaves_the_chat_to_the_bot(
    pg_db: Settings, fake_clock: Any
) -> None:
    with session_scope() as session:
        templates.replace_synced(session, [meta_template("ya_abrimos", "Hola {{1}}, ¿te ayudamos?")])
        templates.choose_for_job(session, templates.list_templates(session)[0].id, "hot_lost")
        chat = make_chat(session, wa_id=CUSTOMER, name="Sofía", text="las llevo")
        chat_id = chat.id
    long_ago = now() - timedelta(days=2)
    with session_scope() as session:
        session.execute(
            update(Conversation)
            .where(Conversation.id == chat_id)
            .values(last_customer_at=long_ago, awaiting_human_since=long_ago, lead="HOT", hot_at=long_ago)
        )
    with session_scope() as session:
        assert followups.sweep_unclaimed_hot_leads(session, now()) == 1
    with session_scope() as session:
        sent = session.scalars(select(Message).where(Message.direction == "out")).all()
        row = session.scalar(select(OutboxItem).where(OutboxItem.message_id == sent[-1].id))
        conversation = session.get(Conversation, chat_id)
        assert [(m.type, m.author, m.text) for m in sent] == [("template", "bot", "Hola Sofía, ¿te ayudamos?")]
        assert row.gated and row.payload["name"] == "ya_abrimos"  # a job's message: behind the send gate
        assert (conversation.mode, conversation.lead) == ("BOT_ON", "HOT_LOST")


def load_catalog() -> None:
    with session_scope() as session:
        catalog.import_path(session, "catalog/demo.json")


async def test_a_product_card_shows_the_photo_and_falls_back_to_text_when_meta_cannot_use_it(
    live: FakeGraph, user: User
) -> None:
    seller, _, _ = people()
    load_catalog()
    with session_scope() as session:
        chat = make_chat(session, wa_id=CUSTOMER, name="Sofía").id
    client: httpx.AsyncClient = user.http_client
    url = f"/api/conversations/{chat}/messages"
    card = await client.post(url, headers=seller, json={"product_sku": "ZAP-NK-AM90-BL"})
    assert card.status_code == 201, card.text
    assert card.json()["type"] == "card" and "249.999" in card.json()["text"]
    await wait_for(lambda: status_of(card.json()["id"])[0] == "sent")
    interactive = live.sends()[-1]["interactive"]
    assert interactive["header"] == {
        "type": "image",
        "image": {"link": "https://tienda.example.com/img/zap-nk-am90-bl.jpg"},
    }
    assert interactive["type"] == "button" and len(interactive["action"]["buttons"]) == 3

    # Meta refuses the photo at once: the same row goes out as text with the same buttons.
    live.script(Reply.meta_error(400, 131053, "(#131053) Media upload error", "Unable to fetch the image"))
    again = await client.post(url, headers=seller, json={"product_sku": "ZAP-NK-AF1-BL"})
    await wait_for(lambda: status_of(again.json()["id"])[0] == "sent")
    last_two = live.sends()[-2:]
    assert "header" in last_two[0]["interactive"] and "header" not in last_two[1]["interactive"]
    assert last_two[0]["interactive"]["body"] == last_two[1]["interactive"]["body"]

    # Meta accepts, then reports the photo failed (status webhook): a text copy is queued.
    status = copy.deepcopy(load("status_sent"))
    item = status["entry"][0]["changes"][0]["value"]["statuses"][0]
    wamid = await asyncio.to_thread(lambda: _wamid(card.json()["id"]))
    item.update(
        id=wamid,
        status="failed",
        recipient_id=CUSTOMER,
        errors=[{"code": 131053, "title": "Media upload error", "message": "Media upload error"}],
    )
    webhook.store_event(encode(status))
    webhook.notify_stored()

    def resent() -> list[Message]:
        with session_scope() as session:
            return session.scalars(select(Message).where(Message.type == "buttons", Message.author == "seller")).all()

    copies = await wait_for(resent)
    assert copies[0].text == card.json()["text"]
    missing = await client.post(url, headers=seller, json={"product_sku": "NO-EXISTE"})
    assert missing.status_code == 422 and "NO-EXISTE" in missing.json()["detail"]


def _wamid(message_id: int) -> str:
    with session_scope() as session:
        return session.get(Message, message_id).wa_message_id


def test_the_daily_job_syncs_once_a_day(pg_db: Settings, graph: FakeGraph, fake_clock: Any) -> None:
    reset_settings(
        pg_db.model_copy(
            update={
                "WHATSAPP_TOKEN": TOKEN,
                "WHATSAPP_PHONE_NUMBER_ID": graph.phone_number_id,
                "WHATSAPP_BUSINESS_ACCOUNT_ID": graph.waba_id,
                "META_GRAPH_BASE_URL": graph.base_url,
                "META_GRAPH_VERSION": graph.version,
            }
        )
    )
    with session_scope() as session:
        assert template_sync.daily_sync(session, now()) == 1
    with session_scope() as session:
        assert template_sync.daily_sync(session, now() + timedelta(hours=3)) == 0  # already done today
        assert len(templates.list_templates(session)) == 3
    pages_read = len(graph.gets())
    fake_clock.advance(days=1)
    with session_scope() as session:
        assert template_sync.daily_sync(session, now()) == 1
    assert len(graph.gets()) == pages_read * 2
