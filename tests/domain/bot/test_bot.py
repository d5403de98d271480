"""The bot: what it says to real catalog questions, when it stays quiet, and the whole path from
a webhook to the outbox."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from s7.clock import now
from s7.config import Settings
from s7.db import session_scope
from s7.domain import bot, catalog
from s7.domain.bot import replies as bot_replies
from s7.domain.bot.replies import BUTTON_TITLE_MAX, ROW_DESCRIPTION_MAX, ROW_TITLE_MAX, Reply
from s7.domain.chats import conversations, intent, messages
from s7.domain.models import Conversation, Message, OutboxItem
from s7.domain.store import profile as store_profile

DEMO = Path(__file__).resolve().parents[3] / "catalog" / "demo.json"
CUSTOMER = "5491155550001"


ALWAYS_OPEN = "mon-sun 00:00-24:00"  # replies that mention opening hours do not depend on the wall clock


@pytest.fixture
def shop(sqlite_db: Settings) -> Iterator[None]:
    with session_scope() as session:
        catalog.import_path(session, DEMO)
        store_profile.save(session, {"hours": ALWAYS_OPEN})
    yield


@pytest.fixture
def demo_store(shop: None) -> None:
    """The demo store's profile (what `s7 seed` saves), open around the clock."""
    with session_scope() as session:
        store_profile.save(session, {**store_profile.DEMO, "hours": ALWAYS_OPEN})


class Chat:
    """A customer talking to `bot.decide`, carrying the remembered state between turns."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}
        self.hand_off: str | None = None

    def say(self, text: str = "", *, tap: str | None = None, kind: str = "text") -> Reply:
        with session_scope() as session:
            plan = bot.decide(bot.CatalogView(session), self.state, text, tap, kind)
        self.state, self.hand_off = plan.state, plan.hand_off
        assert plan.reply is not None
        assert_whatsapp_fit(plan.reply)
        return plan.reply


def assert_whatsapp_fit(reply: Reply) -> None:
    """The user's rules: short, ≤ 3 options, titles that fit, unique, never cut mid-word."""
    assert reply.text.count("\n") <= 1 and len(reply.text) <= 300, reply.text
    assert len(reply.options) <= 3
    limit = ROW_TITLE_MAX if reply.as_list else BUTTON_TITLE_MAX
    titles = [o["title"] for o in reply.options]
    assert all(0 < len(t) <= limit for t in titles), titles
    assert len({t.casefold() for t in titles}) == len(titles)
    assert len({o["id"] for o in reply.options}) == len(titles)
    assert all(len(o.get("description", "")) <= ROW_DESCRIPTION_MAX for o in reply.options)


def product(sku: str) -> catalog.SearchHit:
    with session_scope() as session:
        return catalog.products_by_sku(session, [sku])[sku]


def offered_products(reply: Reply) -> list[catalog.SearchHit]:
    return [product(o["id"].removeprefix("p:")) for o in reply.options if o["id"].startswith("p:")]


# ---- conversations with the demo catalog ---------------------------------------------------------
def test_greeting(shop: None) -> None:
    reply = Chat().say("Hola, buenas tardes!")
    assert reply.text.startswith("¡Hola!") and reply.options == []


def test_search_offers_up_to_three_in_stock_products_with_prices(shop: None) -> None:
    reply = Chat().say("hola, busco zapatillas nike")
    assert reply.as_list and len(reply.options) == 3
    assert reply.text.startswith("¡Hola!")
    for option, hit in zip(reply.options, offered_products(reply), strict=True):
        assert hit.in_stock and hit.brand == "Nike"
        assert option["description"].startswith(bot_replies.money(hit.price))


def test_picking_the_second_then_asking_installments_and_size(shop: None) -> None:
    chat = Chat()
    second = offered_products(chat.say("zapatillas nike"))[1]
    detail = chat.say("la segunda")
    assert detail.text.startswith(second.name)
    assert bot_replies.money(second.price) in detail.text
    assert [o["id"] for o in detail.options] == ["a:buy", "a:more", "a:human"]

    cuotas = chat.say("cuotas?")
    per_month = bot_replies.money(bot_replies.installment_amount(second.price, second.installments or 1))
    assert f"{second.installments} cuotas de {per_month}" in cuotas.text

    sizes = bot_replies.sizes_of(second.attributes)
    assert f"talle {sizes[0]}" in chat.say(f"tenés en {sizes[0]}?").text
    assert "no tengo" in chat.say("y en 47?").text


def test_typing_an_offered_name_picks_it(shop: None) -> None:
    chat = Chat()
    chat.say("zapatillas nike")
    assert chat.say("las air max").text.startswith("Zapatillas Nike Air Max 90 Blanco:")


def test_a_follow_up_number_refers_to_the_product_being_discussed(shop: None) -> None:
    chat = Chat()
    assert chat.say("precio del iphone 15?").text.startswith("iPhone 15 128GB sale $ 1.899.999")
    assert chat.say("y el 13?").text.startswith("iPhone 13 128GB: $ 1.299.999")


def test_words_the_catalog_does_not_know_do_not_hide_the_ones_it_does(shop: None) -> None:
    reply = Chat().say("necesito una notebook para la facu")
    assert reply.text.startswith("De notebook tengo estos")
    assert all("Notebook" in h.name for h in offered_products(reply))


def test_a_greeting_with_a_question_answers_the_question(shop: None) -> None:
    reply = Chat().say("Hola! ¿Tienen las Air Max 90 en 42? Precio en cuotas/contado")
    assert reply.text.startswith("¡Hola! Sí, de Zapatillas Nike Air Max 90 Blanco hay talle 42 ✅ Salen $ 249.999")


def test_tapping_a_product_row_shows_it(shop: None) -> None:
    chat = Chat()
    chat.say("celu samsung")
    reply = chat.say("Samsung Galaxy A55 5G", tap="p:CEL-SS-A55-256")
    assert reply.text.startswith("Celular Samsung Galaxy A55 5G 256GB: $ 799.999, en hasta 12 cuotas de $ 66.667.")
    assert chat.state["focus"] == "CEL-SS-A55-256"


def test_the_closest_match_out_of_stock_is_said_and_alternatives_offered(shop: None) -> None:
    reply = Chat().say("zapatiyas air max negras")
    # Was "Zapatillas … no tiene stock": the verb did not agree with the product.
    assert reply.text.startswith("De Zapatillas Nike Air Max 90 Negro no me queda stock")
    alternatives = offered_products(reply)
    assert alternatives and all(h.in_stock for h in alternatives)
    assert alternatives[0].sku == "ZAP-NK-AM90-BL"


def test_an_out_of_stock_product_is_never_offered_as_available(shop: None) -> None:
    chat = Chat()
    reply = chat.say("Samsung Galaxy S24", tap="p:CEL-SS-S24-256")
    assert "no me queda stock" in reply.text and "a:buy" not in [o["id"] for o in reply.options]
    assert "no me queda stock" in chat.say("me lo llevo").text
    assert chat.hand_off is None


def test_buying_hands_over_to_a_seller(shop: None) -> None:
    chat = Chat()
    chat.say("play 5 digital")
    reply = chat.say("Lo quiero", tap="a:buy")
    assert "vendedor" in reply.text and "PlayStation 5 Slim Digital" in reply.text
    assert chat.hand_off == "quiere comprar Consola PlayStation 5 Slim Digital (CON-SN-PS5-DIG)"


def test_more_options_shows_new_products(shop: None) -> None:
    chat = Chat()
    first = {o["id"] for o in chat.say("zapatillas").options}
    more = chat.say("Ver otras opciones", tap="a:more")
    assert more.options and not first & {o["id"] for o in more.options}


def test_asking_for_a_person(shop: None) -> None:
    chat = Chat()
    assert "persona" in chat.say("quiero hablar con una persona").text
    assert chat.hand_off == "pidió una persona"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gracias!", "De nada"),
        ("chau", "Gracias por escribir"),
        ("heladera gafa", 'No encontré "heladera" 😕 Tengo zapatillas, celulares'),
        ("cuotas?", "¿De qué producto?"),
        ("asdf", 'No encontré "asdf"'),
        ("???", "no te entendí"),
    ],
)
def test_other_questions(shop: None, text: str, expected: str) -> None:
    assert expected in Chat().say(text).text


def test_a_size_question_looks_for_products_in_that_size(shop: None) -> None:
    in_m = Chat().say("buzo talle M")
    assert in_m.text.startswith("En talle M tengo estos")
    assert all(bot_replies.has_size(h, "M") and h.in_stock for h in offered_products(in_m))
    only_one = Chat().say("buzo talle XXL")  # one buzo comes in XXL: straight to it
    assert only_one.text.startswith("Sí, de Hoodie Oversize Sector 7 hay talle XXL")
    assert Chat().say("remera talle XS").text.startswith("En talle XS no tengo")


def test_an_audio_gets_asked_to_write_and_a_sticker_gets_nothing(shop: None) -> None:
    assert "audios" in Chat().say(kind="audio").text
    with session_scope() as session:
        assert bot.decide(bot.CatalogView(session), {}, "", None, "sticker").reply is None


# ---- titles and numbers -------------------------------------------------------------------------
def test_titles_fit_are_unique_and_keep_whole_words(shop: None) -> None:
    with session_scope() as session:
        everything = catalog.search(session, "zapatillas", limit=40)
        everything += catalog.search(session, "celular", limit=40)
    for limit in (BUTTON_TITLE_MAX, ROW_TITLE_MAX):
        for start in range(0, len(everything) - 2):
            group = everything[start : start + 3]
            titles = bot_replies.short_titles(group, limit)
            assert len({t.casefold() for t in titles}) == 3
            for title, hit in zip(titles, group, strict=True):
                assert len(title) <= limit
                assert all(word in hit.name.split() for word in title.split()), (title, hit.name)


def test_identical_names_are_numbered_not_cut() -> None:
    twins = [_hit(sku, "Buzo Canguro Liso") for sku in ("A", "B", "C")]
    assert bot_replies.short_titles(twins, 20) == ["Buzo Canguro Liso", "Buzo Canguro Liso 2", "Buzo Canguro Liso 3"]


def test_a_title_never_starts_or_ends_on_a_dangling_word() -> None:
    hit = _hit("A", "Buzo Nike Club Fleece con capucha", brand="Nike", category="Buzos")
    assert bot_replies.short_titles([hit], 20) == ["Nike Club Fleece"]
    bag = _hit("B", "Mochila para Notebook 15.6 Samsonite", category="Mochilas")
    assert bot_replies.short_titles([bag], 24) == ["Mochila para Notebook"]


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [(189999, "ARS", "$ 189.999"), (Decimal("189999.5"), "ARS", "$ 189.999,50"), (1200, "USD", "US$ 1.200")],
)
def test_money_in_argentine_format(amount: Decimal, currency: str, text: str) -> None:
    assert bot_replies.money(amount, currency) == text


def _hit(sku: str, name: str, *, brand: str | None = None, category: str | None = None) -> catalog.SearchHit:
    return catalog.SearchHit(
        id=1, sku=sku, name=name, brand=brand, category=category, price=Decimal(1000), currency="ARS", stock=3,
        installments=None, popularity=0, attributes={}, description=None, image_url=None, url=None, score=100,
    )  # fmt: skip


# ---- respond(): the database side -----------------------------------------------------------------
_wamid = iter(range(10**6))


def customer_says(text: str, *, tap: str | None = None, kind: str = "text") -> list[Message]:
    """Store a customer message the way the processor does, run the bot, return what it queued."""
    with session_scope() as session:
        conversation = conversations.ensure_conversation(session, wa_id=CUSTOMER, name="Sofía")
        before = session.scalar(select(Message.id).order_by(Message.id.desc()).limit(1)) or 0
        message = messages.record_inbound(
            session, conversation, wa_message_id=f"wamid.T{next(_wamid)}", type=kind, text=text,
            options=[{"id": tap, "title": text}] if tap else None, created_at=now(),
        )  # fmt: skip
        assert message is not None
        conversations.on_customer_message(session, conversation, message)
        bot.respond(session, conversation, message)
        session.flush()
        return list(
            session.scalars(select(Message).where(Message.id > before, Message.direction == "out").order_by(Message.id))
        )


def the_conversation() -> Conversation:
    with session_scope() as session:
        found = session.scalar(select(Conversation))
        assert found is not None
        return found


def test_respond_queues_one_short_reply_with_options(shop: None) -> None:
    [reply] = customer_says("hola! tenés zapatillas adidas?")
    assert (reply.author, reply.status, reply.type) == ("bot", "queued", "list")
    assert 1 <= len(reply.options) <= 3
    assert all(len(o["title"]) <= ROW_TITLE_MAX for o in reply.options)
    assert the_conversation().bot_state["offered"] == [o["id"].removeprefix("p:") for o in reply.options]


def test_silent_when_a_seller_holds_the_chat_but_the_lead_still_warms(shop: None) -> None:
    customer_says("hola")
    with session_scope() as session:
        conversation = session.scalar(select(Conversation))
        assert conversation is not None
        conversations.record_human_message(session, conversation, source="business_app")
    assert customer_says("me lo llevo en cuotas") == []
    assert the_conversation().intent_score == intent.HOT + 2  # "me lo llevo" is HOT at once, plus cuotas


def test_a_takeover_just_before_sending_wins(shop: None, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([True, False])  # free when the bot starts, taken by the time it would send
    monkeypatch.setattr(conversations, "bot_may_speak", lambda session, conversation: next(answers))
    assert customer_says("zapatillas nike") == []


def test_asking_for_a_person_alerts_then_acknowledges_once_per_wait(shop: None) -> None:
    [reply] = customer_says("quiero hablar con una persona")
    assert "persona" in (reply.text or "")
    assert the_conversation().awaiting_human_since is not None
    # Was: silence. Asking again while waiting gets one acknowledgement, not one per message.
    [again] = customer_says("hola? quiero hablar con alguien")
    assert again.text == "Ya le avisé al equipo, te escriben en un ratito 🙌"
    assert customer_says("hola???") == []


def test_the_acknowledgement_names_the_assigned_seller(shop: None) -> None:
    from tests.domain.test_users import make_user

    customer_says("quiero hablar con un vendedor")
    seller_id = make_user("lucia@example.com", name="Lucía Pérez")
    with session_scope() as session:
        conversation = session.scalar(select(Conversation))
        assert conversation is not None
        conversation.assigned_to = seller_id
    [ack] = customer_says("sigo acá")
    assert ack.text == "Ya le avisé a Lucía, te escribe en un ratito 🙌"


def test_outside_hours_the_hand_off_says_when_the_store_opens(shop: None) -> None:
    from datetime import UTC, datetime

    from s7.clock import set_clock

    with session_scope() as session:
        store_profile.save(session, {"hours": "mon-fri 09:00-18:00"})
    set_clock(lambda: datetime(2026, 12, 5, 1, 0, tzinfo=UTC))  # Friday 22:00 in Buenos Aires
    try:
        [reply] = customer_says("quiero hablar con una persona")
        assert reply.text.endswith("Ahora estamos cerrados: abrimos el lunes a las 9 y ahí te escriben.")
        [ack] = customer_says("hola?")
        assert (
            ack.text == "Ya le avisé al equipo 🙌 Ahora estamos cerrados: abrimos el lunes a las 9 y ahí te escriben."
        )
    finally:
        set_clock(None)


def test_intent_adds_up_until_hot_and_the_bot_says_a_seller_is_coming(demo_store: None) -> None:
    customer_says("zapatillas nike")
    customer_says("Nike Air Max 90 Blanco", tap="p:ZAP-NK-AM90-BL")  # a selection
    assert the_conversation().intent_score == intent.SELECTION_POINTS
    customer_says("cuotas? paso a buscar")
    [last] = customer_says("tenés en 42? la paso a buscar hoy")
    conversation = the_conversation()
    assert conversation.intent_score >= intent.HOT and conversation.lead == "HOT"
    assert "talle 42" in (last.text or "") and "vendedor" in (last.text or "")
    assert last.options == []  # nobody would answer a tap while a seller is on the way
    # One message, one ending: the question is dropped rather than stacked above the hand-off.
    assert "\n" not in (last.text or "") and "¿" not in (last.text or "")


def test_closing_words_make_the_lead_hot_at_once(shop: None) -> None:
    for words in ("me lo llevo", "lo compro", "te lo transfiero ahora"):
        assert intent.score(words).points >= intent.HOT, words
    customer_says("freidora de aire")
    customer_says("la primera")
    [reply] = customer_says("me la llevo")
    conversation = the_conversation()
    assert conversation.lead == "HOT" and "vendedor" in (reply.text or "")


def test_a_closed_window_keeps_the_bot_quiet(shop: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def closed(*args: object, **kwargs: object) -> Message:
        raise messages.WindowClosed(1, None)

    monkeypatch.setattr(messages, "queue_outbound", closed)
    assert customer_says("zapatillas") == []


# ---- end to end: a signed webhook in, the outbox holds a fitting reply ----------------------------
def _webhook_body(message: dict[str, Any]) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "5491100000000", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Sofía Gómez"}, "wa_id": CUSTOMER}],
        "messages": [{"from": CUSTOMER, "timestamp": str(int(time.time())), **message}],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(body).encode()


async def _deliver(settings: Settings, client: httpx.AsyncClient, message: dict[str, Any]) -> list[OutboxItem]:
    from s7.whatsapp import processor, signature

    body = _webhook_body(message)
    headers = {
        "content-type": "application/json",
        "x-hub-signature-256": signature.sign(settings.META_APP_SECRET, body),
    }
    assert (await client.post("/webhook", content=body, headers=headers)).status_code == 200
    processor.process_pending()
    with session_scope() as session:
        return list(
            session.scalars(select(OutboxItem).where(OutboxItem.message_id.is_not(None)).order_by(OutboxItem.id))
        )


async def test_webhook_text_to_outbox_reply_with_fitting_options(any_db: Settings) -> None:
    from s7.whatsapp import webhook

    with session_scope() as session:
        catalog.import_path(session, DEMO)
    app = FastAPI()
    app.include_router(webhook.router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        text = {"id": "wamid.E2E1", "type": "text", "text": {"body": "Hola! Busco zapas Nike"}}
        [first] = await _deliver(any_db, client, text)
        assert first.kind == "list" and first.payload["to"] == CUSTOMER
        rows = first.payload["options"]
        assert 1 <= len(rows) <= 3 and all(len(r["title"]) <= ROW_TITLE_MAX for r in rows)

        tap = {"type": "list_reply", "list_reply": {"id": rows[0]["id"], "title": rows[0]["title"]}}
        outbox = await _deliver(any_db, client, {"id": "wamid.E2E2", "type": "interactive", "interactive": tap})
        detail = outbox[-1]
        assert detail.kind == "card"  # the product's photo as the header (s7.domain.bot.cards)
        assert detail.payload["image_url"].startswith("https://")
        assert [len(b["title"]) <= BUTTON_TITLE_MAX for b in detail.payload["options"]] == [True, True, True]
        assert "$ " in detail.payload["text"]


# ---- store facts: only from the store profile ------------------------------------------------------
STORE_QUESTIONS = [
    "hacen envíos a Córdoba?",
    "me pasás el alias? aceptan mercado pago?",
    "puedo pasar a buscar?",
    "dónde queda el local?",
    "hasta qué hora están abiertos?",
    "si no me va lo puedo cambiar?",
]
_STATED = ("hacemos envíos", "todo el país", "aceptamos", "podés pasar", "por el local", "atendemos", "estamos en")


@pytest.mark.parametrize("question", STORE_QUESTIONS)
def test_a_store_fact_the_profile_lacks_goes_to_a_seller_never_invented(shop: None, question: str) -> None:
    # Was: "Hacemos envíos a todo el país", "Aceptamos transferencia…", fixed phrases true or not.
    with session_scope() as session:
        store_profile.save(session, {})  # nothing filled in, not even the hours
    chat = Chat()
    reply = chat.say(question)
    assert "te lo confirma un vendedor" in reply.text
    assert not any(phrase in reply.text.lower() for phrase in _STATED), reply.text
    assert chat.hand_off is not None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("hacen envíos a Córdoba?", "Enviamos a CABA $ 4.500 (24 a 48 h)"),
        ("aceptan mercado pago?", "Podés pagar con efectivo, transferencia, débito, crédito y Mercado Pago."),
        ("puedo pasar a retirar?", "Sí, podés retirarlo en Av. Corrientes 1234, CABA."),
        ("dónde queda el local?", "Estamos en Av. Corrientes 1234, CABA. Mapa: https://maps.google.com/"),
        ("abren los sábados?", "Atendemos lun a dom de 0 a 24 h."),
        ("si no me va el talle lo puedo cambiar?", "Tenés 30 días para cambios"),
        ("hay cuotas sin interés?", "Hasta 6 cuotas sin interés"),
        ("dan factura A?", "Sí, hacemos factura A y B."),
    ],
)
def test_store_facts_come_from_the_profile(demo_store: None, question: str, expected: str) -> None:
    chat = Chat()
    assert expected in chat.say(question).text
    assert chat.hand_off is None


# ---- what shoppers say: related products, price words, choices that differ, follow-ups -------------
def test_a_dropped_word_is_said_and_nothing_related_lists_what_is_sold(shop: None) -> None:
    reply = Chat().say("tenés zapatillas reebok?")
    assert reply.text == "De zapatillas tengo estos 👇" and len(reply.options) == 3
    nothing = Chat().say("vendés bicicletas?")
    assert nothing.text.startswith('No encontré "bicicletas" 😕 Tengo zapatillas')
    assert [o["id"] for o in nothing.options] == ["a:human"]


def test_slang_finds_the_catalog_words(shop: None) -> None:
    for said, sku in [
        ("auris sin cable", "AUR-"),
        ("una compu para la facu", "NB-"),
        ("joystick de la play", "JOY-SN"),
        ("tenés algo para salir a correr?", "ZAP-NK-"),  # the catalog says "Running"
    ]:
        assert offered_products(Chat().say(said))[0].sku.startswith(sku), said


@pytest.mark.parametrize(
    ("said", "check", "intro"),
    [
        ("zapatillas hasta 100 mil", lambda h: h.price <= 100_000, "Hasta $ 100.000 tengo estos"),
        ("celular entre 300 y 500 lucas", lambda h: 300_000 <= h.price <= 500_000, "Entre $ 300.000 y $ 500.000"),
        ("celu menos de 400.000", lambda h: h.price < 400_000, "Hasta $ 400.000"),
    ],
)
def test_price_words_filter_and_say_so(shop: None, said: str, check, intro: str) -> None:  # type: ignore[no-untyped-def]
    reply = Chat().say(said)
    assert reply.text.startswith(intro)
    assert offered_products(reply) and all(check(h) and h.in_stock for h in offered_products(reply))


def test_cheap_and_best_sort_by_price(shop: None) -> None:
    cheap = offered_products(Chat().say("zapatillas baratas"))
    assert [h.price for h in cheap] == sorted(h.price for h in cheap)
    assert cheap[0].sku == "ZAP-TP-RAIL"  # the cheapest pair in stock (Topper Costa has none)
    best = Chat().say("el mejor celular")
    assert best.text.startswith("Los mejores que tengo") and offered_products(best)[0].sku == "CEL-AP-IP15-128"


def test_three_options_differ_rather_than_three_colours_of_one_model() -> None:
    hits = [_hit("A", "Buzo Nike Club Negro"), _hit("B", "Buzo Nike Club Blanco"), _hit("C", "Buzo Adidas Trefoil")]
    from s7.domain.bot.turn import _distinct

    assert [h.sku for h in _distinct(hits, 3)] == ["A", "C"]


def test_follow_ups_about_the_list_in_view(shop: None) -> None:
    chat = Chat()
    first = offered_products(chat.say("zapatillas nike"))
    black = chat.say("¿y en negro?")  # the one black Nike pair in stock (the black Air Max has none)
    assert (
        black.text.startswith("Zapatillas Nike Revolution 6 Running: $ 99.999") and chat.state["focus"] == "ZAP-NK-REV6"
    )
    chat = Chat()
    first = offered_products(chat.say("zapatillas"))
    cheaper = offered_products(chat.say("algo más barato?"))
    assert cheaper and all(h.price < min(p.price for p in first) for h in cheaper)
    more = chat.say("mostrame más")
    assert not {h.sku for h in offered_products(more)} & {h.sku for h in first + cheaper}
    chat = Chat()
    chat.say("mochila")
    chat.say("la primera")
    other = chat.say("¿y la otra?")
    assert other.text.startswith("Mochila para Notebook") or other.text.startswith("Mochila Jansport")


def test_replies_agree_with_the_product(shop: None) -> None:
    assert Chat().say("zapatillas new balance 574").text.endswith("¿Te las reservo?")
    assert Chat().say("mochila jansport superbreak").text.endswith("¿Te la reservo?")
    assert Chat().say("jean levis 501").text.endswith("¿Te lo reservo?")
    chat = Chat()
    chat.say("auriculares jbl tune 520")
    assert "salen" in chat.say("precio?").text


def test_an_accessory_for_something_not_sold_is_not_offered(sqlite_db: Settings) -> None:
    products = [
        {"sku": "F1", "name": "Funda Silicona iPhone 13", "category": "Accesorios", "price": 9999, "stock": 5},
        {"sku": "F2", "name": "Funda Tough Armor Galaxy A35", "category": "Accesorios", "price": 24999, "stock": 3},
    ]
    with session_scope() as session:
        catalog.import_catalog(session, json.dumps(products).encode(), "c.json")
    assert offered_products(Chat().say("tenés funda para el sillón?")) == []
    chat = Chat()
    assert chat.say("funda para iphone").text.startswith("Funda Silicona iPhone 13: $ 9.999")
    assert chat.state["focus"] == "F1"


def test_an_accessory_for_a_device_it_is_not_for_is_not_offered(sqlite_db: Settings) -> None:
    products = [
        {
            "sku": "F1",
            "name": "Funda Silicona iPhone 13",
            "category": "Telefonía > Accesorios",
            "price": 9999,
            "stock": 5,
        },
        {"sku": "F2", "name": "Funda Tough Armor Galaxy A35", "category": "Accesorios", "price": 24999, "stock": 3},
        {
            "sku": "C1",
            "name": "Cargador 25W USB-C Samsung",
            "category": "Accesorios > Celulares",
            "price": 19999,
            "stock": 4,
        },
        {
            "sku": "C2",
            "name": "Cargador 20W USB-C Apple",
            "category": "Accesorios > Celulares",
            "price": 29999,
            "stock": 4,
        },
        {"sku": "N1", "name": "Notebook Lenovo IdeaPad 3", "category": "Notebooks", "price": 899999, "stock": 2},
        {"sku": "N2", "name": "Notebook HP 250 G9", "category": "Notebooks", "price": 799999, "stock": 2},
        {"sku": "T1", "name": "Celular Samsung Galaxy A15", "category": "Celulares", "price": 299999, "stock": 2},
        {"sku": "T2", "name": "Celular Motorola Moto G24", "category": "Celulares", "price": 229999, "stock": 2},
    ]
    with session_scope() as session:
        catalog.import_catalog(session, json.dumps(products).encode(), "c.json")
    reply = Chat().say("tenés una funda para la notebook?")
    assert offered_products(reply) == [] and reply.text.startswith("No encontré")
    assert offered_products(Chat().say("un cargador para la notebook")) == []
    assert {h.sku for h in offered_products(Chat().say("cargador para el celu"))} == {"C1", "C2"}


def test_another_colour_replaces_the_first_and_paying_closes(shop: None) -> None:
    chat = Chat()
    assert chat.say("tenés remeras negras talle L?").text.startswith("Sí, de Remera Básica Algodón Peinado hay talle L")
    assert chat.say("¿y en blanco?").text.startswith("Remera Adidas Trefoil: $ 37.999")  # white, in L
    assert chat.say("te la transfiero").text.startswith("¡Buenísimo! 🙌 Le aviso a un vendedor")
    assert chat.hand_off == "quiere comprar Remera Adidas Trefoil (REM-AD-TREF)"
