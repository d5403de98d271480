"""The one send path and the sender, against a fake Graph API over real HTTP."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from s7 import realtime
from s7.config import Settings
from s7.db import session_scope
from s7.domain.chats import conversations, messages
from s7.domain.models import Message, OutboxItem
from s7.whatsapp import outbox
from s7.whatsapp.graph import GraphClient, SendError
from s7.whatsapp.outbox import RateLimiter, Sender
from tests.conftest import FakeClock
from tests.fakes.graph_server import FakeGraph, Reply
from tests.whatsapp.conftest import TOKEN, virtual_time_limiter


def open_chat(wa_id: str = "5491155550001") -> int:
    with session_scope() as session:
        conversation = conversations.ensure_conversation(session, wa_id=wa_id, name="Sofía")
        conversation.last_customer_at = outbox.now()
        return conversation.id


def queue(conversation_id: int, text: str, **kw: object) -> int:
    with session_scope() as session:
        conversation = conversations.get(session, conversation_id)
        return messages.queue_outbound(session, conversation, author="bot", text=text, **kw).id  # type: ignore[arg-type]


def message(message_id: int) -> Message:
    with session_scope() as session:
        found = session.get(Message, message_id)
        assert found is not None
        return found


def items() -> list[OutboxItem]:
    with session_scope() as session:
        return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


# ---- queue_outbound --------------------------------------------------------------------------
def test_queueing_stores_a_queued_message_and_its_outbox_row_together(any_db: Settings, fake_clock: FakeClock) -> None:
    chat = open_chat()
    message_id = queue(chat, "Hola, ¿qué talle?")
    queued = message(message_id)
    assert (queued.direction, queued.author, queued.status, queued.type) == ("out", "bot", "queued", "text")
    [item] = items()
    assert (item.message_id, item.kind, item.state) == (message_id, "text", "pending")
    assert item.payload["to"] == "5491155550001"


def test_a_rolled_back_transaction_queues_nothing(any_db: Settings, fake_clock: FakeClock) -> None:
    chat = open_chat()
    with pytest.raises(RuntimeError), session_scope() as session:
        messages.queue_outbound(session, conversations.get(session, chat), author="bot", text="x")
        raise RuntimeError("the state change failed")
    assert items() == []


def test_options_are_fitted_to_whatsapps_limits(any_db: Settings, fake_clock: FakeClock) -> None:
    chat = open_chat()
    buttons = queue(
        chat,
        "¿Cuál?",
        options=[{"id": "a", "title": "Zapatillas Nike Air Max 90 blancas"}, {"id": "b", "title": "Adidas"}],
    )
    assert message(buttons).type == "buttons"
    assert message(buttons).options[0]["title"] == "Zapatillas Nike Air…"
    assert len(message(buttons).options[0]["title"]) == 20
    many = [{"id": str(i), "title": f"Opción {i}", "description": "x" * 100} for i in range(5)]
    as_list = queue(chat, "Elegí", options=many)
    stored = message(as_list)
    assert stored.type == "list" and len(stored.options) == 5
    assert len(stored.options[0]["description"]) == 72


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("", None),
        ("x" * 4097, None),
        ("x" * 1025, [{"id": "a", "title": "A"}]),
        ("hola", [{"id": str(i), "title": f"T{i}"} for i in range(11)]),
        ("hola", [{"id": "a", "title": "Mismo"}, {"id": "b", "title": "mismo"}]),
        ("hola", [{"id": "a", "title": "A"}, {"id": "a", "title": "B"}]),
        ("hola", [{"id": "", "title": "A"}]),
    ],
)
def test_what_whatsapp_would_reject_is_refused_at_queue_time(
    any_db: Settings, fake_clock: FakeClock, text: str, options: list[dict[str, str]] | None
) -> None:
    chat = open_chat()
    with pytest.raises(messages.InvalidMessage):
        queue(chat, text, options=options)
    assert items() == []


def test_free_form_outside_the_24h_window_is_refused_visibly(any_db: Settings, fake_clock: FakeClock) -> None:
    chat = open_chat()
    fake_clock.advance(hours=24, seconds=1)
    with pytest.raises(messages.WindowClosed) as refused:
        queue(chat, "¿Seguís interesada?")
    assert "24 horas" in refused.value.user_message
    assert items() == []
    with session_scope() as session:
        fresh = conversations.ensure_conversation(session, wa_id="5491155550099")
        assert not messages.window_open(fresh) and messages.window_closes_at(fresh) is None


# ---- sending ---------------------------------------------------------------------------------
async def test_sends_reach_graph_with_the_token_and_store_the_wamid(
    any_db: Settings, fake_clock: FakeClock, graph: FakeGraph, sender: Sender
) -> None:
    chat = open_chat()
    text_id = queue(chat, "Mirá https://example.com/p/am90")
    buttons_id = queue(
        chat, "¿Cuál?", options=[{"id": "sku:1", "title": "Air Max"}, {"id": "sku:2", "title": "Superstar"}]
    )
    list_id = queue(chat, "Elegí", options=[{"id": "r1", "title": "Uno", "description": "el primero"}], as_list=True)
    for _ in range(3):
        assert await sender.run_once() == 1  # one per round: the next waits for the previous
    text, buttons, as_list = graph.sends()
    assert graph.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert text == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+5491155550001",
        "biz_opaque_callback_data": f"s7:{text_id}",
        "type": "text",
        "text": {"body": "Mirá https://example.com/p/am90", "preview_url": True},
    }
    assert buttons["interactive"]["type"] == "button"
    assert buttons["interactive"]["action"]["buttons"][1] == {
        "type": "reply",
        "reply": {"id": "sku:2", "title": "Superstar"},
    }
    assert as_list["interactive"]["action"]["sections"][0]["rows"] == [
        {"id": "r1", "title": "Uno", "description": "el primero"}
    ]
    assert as_list["interactive"]["action"]["button"] == "Ver opciones"
    for message_id, wamid in zip((text_id, buttons_id, list_id), ("000001", "000002", "000003"), strict=True):
        sent = message(message_id)
        assert (sent.status, sent.wa_message_id) == ("sent", f"wamid.fake.{wamid}")
    assert [i.state for i in items()] == ["sent"] * 3


async def test_transient_errors_are_retried_with_backoff_in_order_without_duplicates(
    any_db: Settings, fake_clock: FakeClock, graph: FakeGraph, sender: Sender
) -> None:
    a, b = open_chat("5491155550001"), open_chat("5491155550002")
    first, second, third = (queue(a, f"A{i}") for i in range(3))
    other = queue(b, "B0")
    graph.script_for("+5491155550001", Reply.server_error())
    assert await sender.run_once() == 2  # A0 (fails: 500) and B0 (sent), in parallel
    assert message(other).status == "sent" and message(first).status == "queued"
    retry_at = items()[0].next_attempt_at
    assert timedelta(seconds=0.5) <= retry_at - fake_clock.current <= timedelta(seconds=1)
    assert await sender.run_once() == 0  # A0 not due yet, and A1/A2 must wait for it
    for reply in (
        Reply.too_many_calls(),
        Reply.rate_limited(),
        Reply(503, {}),
        Reply.meta_error(500, 131000, "Something went wrong"),
    ):
        graph.script(reply)
        fake_clock.advance(minutes=10)
        assert await sender.run_once() == 1
        assert message(first).status == "queued" and message(second).status == "queued"
    fake_clock.advance(minutes=10)
    assert await sender.drain() == 3
    assert [s["text"]["body"] for s in graph.sends() if s["to"] == "+5491155550001"] == ["A0"] * 6 + ["A1", "A2"]
    assert all(message(m).status == "sent" for m in (first, second, third))
    with session_scope() as session:
        wamids = list(session.scalars(select(Message.wa_message_id).where(Message.wa_message_id.is_not(None))))
    assert len(wamids) == len(set(wamids)) == 4


async def test_a_timeout_is_retried(any_db: Settings, fake_clock: FakeClock, graph: FakeGraph, sender: Sender) -> None:
    chat = open_chat()
    message_id = queue(chat, "hola")
    graph.script(Reply.hanging(2))
    await sender.run_once()
    [item] = items()
    assert item.state == "pending" and "Tiempo de espera" in (item.last_error or "")
    fake_clock.advance(seconds=5)
    await sender.run_once()
    assert message(message_id).status == "sent"


async def test_a_permanent_refusal_fails_the_message_with_metas_reason_and_the_chat_moves_on(
    any_db: Settings, fake_clock: FakeClock, graph: FakeGraph, sender: Sender
) -> None:
    published: list[realtime.Event] = []
    unsubscribe = realtime.subscribe(published.append)
    try:
        chat = open_chat()
        refused, after = queue(chat, "¿Seguís ahí?"), queue(chat, "Te escribo luego")
        graph.script(Reply.outside_window())
        await sender.drain()
    finally:
        unsubscribe()
    failed = message(refused)
    assert failed.status == "failed"
    assert failed.error is not None and failed.error.startswith("(131047) (#131047) Re-engagement message")
    assert "24 hours" in failed.error
    assert message(after).status == "sent"  # definitively failed: the next one may go
    assert any(e.kind == "status" and e.get("message_id") == refused and e.get("status") == "failed" for e in published)


async def test_retries_give_up_after_the_last_attempt(
    any_db: Settings, fake_clock: FakeClock, graph: FakeGraph, sender: Sender
) -> None:
    message_id = queue(open_chat(), "hola")
    graph.script(*[Reply.server_error()] * outbox.MAX_ATTEMPTS)
    for _ in range(outbox.MAX_ATTEMPTS):
        await sender.run_once()
        fake_clock.advance(minutes=10)
    failed = message(message_id)
    assert failed.status == "failed"
    assert failed.error is not None and failed.error.startswith(
        f"No se pudo enviar tras {outbox.MAX_ATTEMPTS} intentos"
    )


async def test_the_pair_rate_limit_backs_off_that_chat_only(
    any_db: Settings, fake_clock: FakeClock, graph: FakeGraph, sender: Sender
) -> None:
    a, b = open_chat("5491155550001"), open_chat("5491155550002")
    queue(a, "A0")
    graph.script(Reply.pair_limited())
    await sender.run_once()
    [item] = items()
    assert timedelta(seconds=2) <= item.next_attempt_at - fake_clock.current <= timedelta(seconds=4)
    other = queue(b, "B0")
    await sender.run_once()
    assert message(other).status == "sent"


async def test_read_receipts_and_typing(
    any_db: Settings, fake_clock: FakeClock, graph: FakeGraph, sender: Sender
) -> None:
    chat = open_chat()
    with session_scope() as session:
        conversation = conversations.get(session, chat)
        messages.queue_read_receipt(session, conversation, "wamid.IN1")
        messages.queue_read_receipt(session, conversation, "wamid.IN2", typing=True)
    await sender.drain()
    assert [r.json for r in graph.requests] == [
        {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"},
        {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": "wamid.IN2",
            "typing_indicator": {"type": "text"},
        },
    ]
    assert [i.state for i in items()] == ["sent", "sent"]


async def test_a_stale_typing_indicator_is_not_sent(
    any_db: Settings, fake_clock: FakeClock, graph: FakeGraph, sender: Sender
) -> None:
    with session_scope() as session:
        messages.queue_read_receipt(session, conversations.get(session, open_chat()), "wamid.IN1", typing=True)
    fake_clock.advance(seconds=30)
    await sender.drain()
    assert graph.requests == [] and items()[0].state == "failed"


async def test_rows_of_a_sender_that_died_mid_send_are_taken_back(
    any_db: Settings, fake_clock: FakeClock, graph: FakeGraph, sender: Sender
) -> None:
    message_id = queue(open_chat(), "hola")
    assert len(outbox.claim_due()) == 1  # a sender leased it... and died
    assert await sender.run_once() == 0
    fake_clock.advance(minutes=3)
    assert await sender.run_once() == 1
    assert message(message_id).status == "sent"


async def test_two_senders_on_one_postgres_never_send_twice_and_keep_order(
    pg_db: Settings, fake_clock: FakeClock, graph: FakeGraph
) -> None:
    chats = [open_chat(f"54911555{i:05d}") for i in range(12)]
    for round_ in range(3):
        for chat in chats:
            queue(chat, f"{chat}-{round_}")
    clients = [GraphClient(graph.messages_url, TOKEN) for _ in range(2)]
    senders = [Sender(c, limiter=virtual_time_limiter(), batch=5) for c in clients]
    try:
        for _ in range(20):
            handled = await asyncio.gather(*(s.run_once() for s in senders))
            if not any(handled):
                break
    finally:
        for client in clients:
            await client.aclose()
    bodies = [s["text"]["body"] for s in graph.sends()]
    assert len(bodies) == len(set(bodies)) == 36
    for chat in chats:
        assert [b for b in bodies if b.startswith(f"{chat}-")] == [f"{chat}-{r}" for r in range(3)]


async def test_the_background_sender_wakes_when_a_message_is_committed(any_db: Settings, graph: FakeGraph) -> None:
    outbox.start(GraphClient(graph.messages_url, TOKEN))
    try:
        message_id = await asyncio.to_thread(queue, await asyncio.to_thread(open_chat), "hola")
        for _ in range(100):
            if await asyncio.to_thread(lambda: message(message_id).status) == "sent":
                break
            await asyncio.sleep(0.02)
    finally:
        await outbox.stop()
    assert message(message_id).status == "sent"


# ---- rate limiting ---------------------------------------------------------------------------
async def test_the_rate_limiter_spaces_sends_to_the_configured_rate() -> None:
    clock = [0.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    limiter = RateLimiter(20, burst=1, clock=lambda: clock[0], sleep=fake_sleep)
    for _ in range(21):
        await limiter.acquire()
    assert clock[0] == pytest.approx(1.0)
    limiter.pause(5)
    await limiter.acquire()
    assert clock[0] == pytest.approx(6.0)


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    rng = random.Random(1)
    transient = SendError("x", retryable=True, http_status=500)
    delays = [outbox.backoff(n, transient, rng) for n in range(1, 12)]
    for n, delay in enumerate(delays, start=1):
        full = min(outbox.MAX_DELAY, 2 ** (n - 1))
        assert full / 2 <= delay <= full
    pair = SendError("x", retryable=True, code=131056)
    assert 8 <= outbox.backoff(2, pair, rng) <= 16


# ---- overlapping rounds (the app's sender) ---------------------------------------------------------
class HeldTransport:
    """Sends to one recipient hang until released; the rest answer at once. Records the order."""

    def __init__(self, held: str) -> None:
        self.held = held
        self.release = asyncio.Event()
        self.sent: list[str] = []

    async def send(self, kind: str, payload: dict[str, object], *, callback_data: str | None = None):  # type: ignore[no-untyped-def]
        from s7.whatsapp.graph import SendResult

        if payload["to"] == self.held:
            await self.release.wait()
        self.sent.append(str(payload["text"]))
        return SendResult(wamid=f"wamid.OUT{len(self.sent)}")

    async def aclose(self) -> None:
        pass


async def test_a_reply_committed_mid_round_goes_out_before_that_round_ends(
    any_db: Settings, fake_clock: FakeClock
) -> None:
    slow_chat, other_chat = open_chat("5491155550001"), open_chat("5491155550002")
    queue(slow_chat, "primero")  # its send hangs (a slow Graph answer)
    transport = HeldTransport(held="5491155550001")
    woken: list[int] = []
    sender = Sender(transport, limiter=virtual_time_limiter(), overlap=2, after_round=lambda: woken.append(1))
    assert await sender.run_once() == 1  # the round is on the wire, in the background

    queue(other_chat, "otro chat")
    later_same_chat = queue(slow_chat, "segundo")
    assert await sender.run_once() == 1  # the other chat's reply, not the slow chat's second
    for _ in range(100):
        if transport.sent:
            break
        await asyncio.sleep(0.01)
    assert transport.sent == ["otro chat"]  # out while the first round still hangs

    transport.release.set()
    await sender.settle()
    assert woken  # the loop is told: rows behind the finished round may be due
    assert await sender.drain() == 1
    assert transport.sent == ["otro chat", "primero", "segundo"]  # the slow chat kept its order
    assert message(later_same_chat).status == "sent"


async def test_a_seller_who_takes_the_chat_mid_send_goes_out_after_the_bots_row_on_the_wire(
    any_db: Settings, fake_clock: FakeClock
) -> None:
    from tests.whatsapp.test_send_gate import seller

    chat = open_chat("5491155550001")
    queue(chat, "respuesta del bot")  # on the wire when the seller writes
    transport = HeldTransport(held="5491155550001")
    sender = Sender(transport, limiter=virtual_time_limiter(), overlap=2)
    assert await sender.run_once() == 1
    with session_scope() as session:
        conversations.send_seller_message(session, chat, seller(), "Hola, soy Ana")
    assert await sender.run_once() == 0  # the chat has a row on the wire here: its order holds
    transport.release.set()
    await sender.settle()
    await sender.drain()
    assert transport.sent == ["respuesta del bot", "Hola, soy Ana"]


async def test_shutdown_cuts_a_round_that_hangs(any_db: Settings, fake_clock: FakeClock, monkeypatch) -> None:
    monkeypatch.setattr(outbox, "STOP_GRACE_SECONDS", 0.2)
    queue(open_chat("5491155550001"), "nunca llega")
    transport = HeldTransport(held="5491155550001")
    sender = Sender(transport, limiter=virtual_time_limiter(), overlap=2)
    assert await sender.run_once() == 1
    await asyncio.wait_for(sender.aclose(), timeout=5)  # bounded, not until Graph answers
    [row] = items()
    assert row.state == "sending"  # retried once its lease ends: not lost
