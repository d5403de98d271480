"""/simulator (sandbox only): be a customer on a phone-like page and watch the panel react.

What you type, and every button or list row you tap, goes in as the JSON Meta would POST, through
the same store → processor → bot path as real WhatsApp (`s7.whatsapp.sandbox`). The thread on the
phone is re-read from the database whenever the realtime bus says the chat changed. Customer and
catalog text is only ever shown as text.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import Request
from nicegui import events, ui
from sqlalchemy import select

from s7 import realtime
from s7.auth import CurrentUser
from s7.config import get_settings
from s7.db import session_scope
from s7.domain.models import Contact, Conversation, Message, User
from s7.pages.inbox_format import LEAD_COLOR
from s7.pages.layout import frame, io, live
from s7.whatsapp import sandbox

THREAD_LIMIT = 100
PRESETS = {
    "5491155550101": "Lucía Fernández",
    "5493515550102": "Martín Gómez",
    "5492215550103": "Sofía Benítez",
}
SUGGESTIONS = (
    "Hola! Tienen zapatillas Nike?",
    "Cuánto salen en cuotas?",
    "Las llevo, cómo hago?",
    "Quiero hablar con una persona",
)
_NUMBER = re.compile(r"^\d{8,15}$")
_STORE_AUTHORS = {"bot": "🤖 Bot", "business_app": "📱 App Business", "system": "Aviso"}
_PLACEHOLDERS = {
    "image": "📷 Foto",
    "audio": "🎤 Audio",
    "video": "🎬 Video",
    "document": "📄 Documento",
    "sticker": "Sticker",
    "location": "📍 Ubicación",
    "contacts": "👤 Contacto",
}


# The lead as the simulator's badge says it (the panel's chip words, without the emoji).
LEAD_WORDS = {"NONE": "ninguno todavía", "WARM": "tibio", "HOT": "caliente", "HOT_LOST": "perdido (nadie lo tomó)"}


@dataclass(frozen=True)
class Bubble:
    id: int
    wamid: str | None
    incoming: bool  # from the customer (this phone)
    kind: str
    text: str
    who: str
    options: list[dict[str, str]]
    status: str
    at: datetime
    image_url: str | None = None  # a photo or sticker in our media store, shown on the phone


@dataclass
class Thread:
    conversation_id: int | None = None
    mode: str = "BOT_ON"
    lead: str = "NONE"
    bubbles: list[Bubble] = field(default_factory=list)


def normalize_number(raw: str) -> str | None:
    """Digits only (+54 9 11 ... → 54911...); None unless 8 to 15 digits."""
    digits = re.sub(r"\D", "", raw or "")
    return digits if _NUMBER.match(digits) else None


def load_thread(wa_id: str) -> Thread:
    with session_scope() as session:
        row = session.execute(
            select(Conversation.id, Conversation.mode, Conversation.lead)
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(Contact.wa_id == wa_id)
        ).first()
        if row is None:
            return Thread()
        newest = session.execute(
            select(Message, User.name)
            .outerjoin(User, User.id == Message.author_user_id)
            .where(Message.conversation_id == row.id)
            .order_by(Message.id.desc())
            .limit(THREAD_LIMIT)
        ).all()
        bubbles = [_bubble(message, seller) for message, seller in reversed(newest)]
        return Thread(row.id, row.mode, row.lead, bubbles)


def _bubble(message: Message, seller: str | None) -> Bubble:
    incoming = message.direction == "in"
    who = (
        "Vos"
        if incoming
        else (f"👤 {seller}" if message.author == "seller" else _STORE_AUTHORS.get(message.author, message.author))
    )
    text = message.text or _PLACEHOLDERS.get(message.type, "Mensaje")
    return Bubble(
        message.id,
        message.wa_message_id,
        incoming,
        message.type,
        text,
        who,
        list(message.options or []),
        message.status,
        message.created_at,
        _image_url(message),
    )


def _image_url(message: Message) -> str | None:
    media = message.media or {}
    if message.type in ("image", "sticker") and media.get("state") == "ready":
        return f"/media/{message.id}"
    return None


def _mark_read(wamids: list[str], wa_id: str) -> None:
    """The customer has the chat open: WhatsApp would report our messages as read (blue ticks)."""
    for wamid in wamids:
        sandbox.simulate_status(wamid, "read", recipient_id=wa_id)


def _reply(wa_id: str, name: str, kind: str, option: dict[str, str], tapped_message_id: int) -> None:
    """A tap on a reply button or a list row, with the context WhatsApp attaches (the tapped message;
    re-read, because the bubble may have been drawn before the send got its wamid)."""
    with session_scope() as session:
        context_wamid = session.scalar(select(Message.wa_message_id).where(Message.id == tapped_message_id))
    choice = (option["id"], option["title"])
    payload, _ = sandbox.customer_message_payload(
        wa_id,
        name=name,
        context_wamid=context_wamid,
        button=choice if kind == "buttons" else None,
        list_row=choice if kind == "list" else None,
    )
    sandbox.deliver(payload)


class Simulator:
    def __init__(self, me: CurrentUser, wa_id: str, name: str) -> None:
        self.me = me
        self.wa_id = wa_id
        self.name = name
        self.thread = Thread()
        self.read_sent: set[str] = set()

    async def build(self) -> None:
        self.thread = await io(load_thread, self.wa_id)
        with ui.row().classes("w-full justify-center items-start gap-8 p-4"):
            self._phone()
            self._controls()
        self._show_identity()
        live(self._on_event)
        await self._after_render()

    # ---- the phone ----------------------------------------------------------------------------------
    def _phone(self) -> None:
        with (
            ui.column()
            .classes(
                "w-[360px] h-[680px] max-h-[calc(100dvh-90px)] gap-0 no-wrap rounded-[2rem] border-[10px] "
                "border-slate-800 bg-[#efeae2] shadow-xl overflow-hidden"
            )
            .mark("phone")
        ):
            with ui.row().classes("w-full items-center gap-2 px-3 py-2 bg-[#075e54] text-white no-wrap"):
                ui.icon("storefront", size="28px")
                with ui.column().classes("gap-0"):
                    ui.label("Tu tienda").classes("font-semibold leading-tight")
                    ui.label("WhatsApp Business · sandbox").classes("text-xs opacity-80")
            self.scroll = ui.scroll_area().classes("w-full grow")
            with self.scroll:
                self.messages()
            with ui.row().classes("w-full items-center gap-1 px-2 py-2 bg-[#f0f2f5] no-wrap"):
                self.input = (
                    ui.input(placeholder="Mensaje")
                    .props("rounded outlined dense bg-color=white")
                    .classes("grow")
                    .mark("customer-text")
                )
                self.input.on("keydown.enter", self.send_text)
                self.photo_upload = (
                    ui.upload(auto_upload=True, on_upload=self.send_photo, max_file_size=5 * 1024 * 1024)
                    .props('accept="image/jpeg,image/png" hidden')
                    .mark("customer-photo-upload")
                )
                ui.button(icon="photo_camera", on_click=lambda: self.photo_upload.run_method("pickFiles")).props(
                    'flat round color=grey-8 title="Mandar una foto"'
                ).mark("customer-photo")
                ui.button(icon="send", on_click=self.send_text).props("round unelevated color=teal-8").mark(
                    "customer-send"
                )

    @ui.refreshable_method
    def messages(self) -> None:
        if not self.thread.bubbles:
            ui.label("Escribí como si fueras un cliente: el bot te contesta con el catálogo real.").classes(
                "m-4 p-3 text-sm text-slate-600 bg-white/80 rounded-lg text-center"
            ).mark("empty-thread")
            return
        with ui.column().classes("w-full gap-1 p-2"):
            for bubble in self.thread.bubbles:
                self._bubble(bubble)

    def _bubble(self, bubble: Bubble) -> None:
        side = "self-end bg-[#d9fdd3]" if bubble.incoming else "self-start bg-white"
        with (
            ui.column().classes(f"{side} max-w-[85%] gap-0 rounded-lg px-2 py-1 shadow-sm").mark(f"bubble-{bubble.id}")
        ):
            if not bubble.incoming:
                ui.label(bubble.who).classes("text-[11px] font-semibold text-teal-800")
            hook = "bubble-in" if bubble.incoming else "bubble-out"
            if bubble.image_url:
                ui.image(bubble.image_url).classes("w-56 max-w-full rounded").props("fit=contain").mark("phone-image")
            ui.label(bubble.text).classes("text-sm whitespace-pre-wrap break-words").props(
                f'data-testid="{hook}"'
            ).mark(hook)
            ui.label(bubble.at.astimezone(get_settings().timezone).strftime("%H:%M")).classes(
                "text-[10px] text-slate-500 self-end"
            )
        if bubble.incoming or not bubble.options:
            return
        if bubble.kind == "list":
            with (
                ui.expansion("☰ Ver opciones")
                .classes("self-start w-[85%] bg-white rounded-lg text-sm")
                .props('data-testid="list-options"')
                .mark(f"list-{bubble.id}")
            ):
                for option in bubble.options:
                    row = ui.item(on_click=lambda o=option, b=bubble: self.tap(b, o))
                    with row.props('data-testid="list-row"').mark("list-row"):
                        with ui.item_section():
                            ui.item_label(option["title"])
                            if option.get("description"):
                                ui.item_label(option["description"]).props("caption")
            return
        with ui.column().classes("self-start w-[85%] gap-1"):
            for option in bubble.options:
                ui.button(option["title"], on_click=lambda o=option, b=bubble: self.tap(b, o)).props(
                    'unelevated no-caps color=white text-color=teal-9 data-testid="reply-button"'
                ).classes("w-full rounded-lg shadow-sm").mark("reply-button")

    # ---- what the customer does -------------------------------------------------------------------
    async def send_text(self) -> None:
        text = (self.input.value or "").strip()
        if not text or not _still_sandbox():
            return
        self.input.value = ""
        await io(sandbox.inject_customer_message, self.wa_id, text=text[:4096], name=self.name)

    async def send_photo(self, event: events.UploadEventArguments) -> None:
        """The customer sends a photo: it travels like Meta's (media id in the webhook, the panel
        fetches the bytes), so the inbox shows it exactly as it would a real one."""
        data, mime = await event.file.read(), (event.file.content_type or "").lower()
        self.photo_upload.reset()
        if mime not in ("image/jpeg", "image/png") or not _still_sandbox():
            ui.notify("Mandá una foto JPG o PNG", type="warning")
            return
        caption = (self.input.value or "").strip()[:1024] or None
        self.input.value = ""
        await io(sandbox.inject_customer_media, self.wa_id, data, mime, caption=caption, name=self.name)

    async def send_sample_photo(self) -> None:
        if _still_sandbox():
            await io(sandbox.inject_customer_media, self.wa_id, sandbox.sample_photo(), "image/png", name=self.name)

    async def tap(self, bubble: Bubble, option: dict[str, str]) -> None:
        if not _still_sandbox():
            return
        await io(_reply, self.wa_id, self.name, bubble.kind, option, bubble.id)

    async def business_app_reply(self) -> None:
        text = (self.echo_input.value or "").strip()
        if not text or not _still_sandbox():
            return
        self.echo_input.value = ""
        await io(sandbox.simulate_business_echo, self.wa_id, text[:4096])

    # ---- live -----------------------------------------------------------------------------------------
    async def _on_event(self, event: realtime.Event) -> None:
        if event.kind not in ("message", "status", "conversation", "resync"):
            return
        known = self.thread.conversation_id
        if known is not None and event.get("conversation_id") not in (known, None):
            return
        await self.reload()

    async def reload(self) -> None:
        self.thread = await io(load_thread, self.wa_id)
        self.messages.refresh()
        self.state.refresh()
        await self._after_render()

    async def _after_render(self) -> None:
        self.scroll.scroll_to(percent=1.0)
        unread = [
            b.wamid
            for b in self.thread.bubbles
            if not b.incoming and b.wamid and b.status in ("sent", "delivered") and b.wamid not in self.read_sent
        ]
        if unread:
            self.read_sent.update(unread)  # type: ignore[arg-type]
            await io(_mark_read, unread, self.wa_id)

    # ---- the side panel ---------------------------------------------------------------------------
    def _controls(self) -> None:
        with ui.column().classes("w-[380px] max-w-full gap-4"):
            with ui.card().classes("w-full gap-2").mark("identity"):
                ui.label("Quién escribe").classes("text-lg font-semibold")
                self.who = ui.label().classes("text-sm").mark("who")
                options = {wa: f"{name} (+{wa})" for wa, name in PRESETS.items()}
                ui.select(
                    options,
                    label="Clientes de prueba",
                    value=self.wa_id if self.wa_id in PRESETS else None,
                    on_change=self._preset,
                ).classes("w-full").mark("presets")
                with ui.row().classes("w-full items-end gap-2 no-wrap"):
                    name = ui.input("Nombre").classes("grow").mark("custom-name")
                    number = ui.input("Número (con código de país)").classes("grow").mark("custom-number")
                with ui.row().classes("w-full gap-2"):
                    ui.button("Usar este cliente", on_click=lambda: self.use_custom(name.value, number.value)).props(
                        "flat no-caps"
                    ).mark("use-custom")
                    ui.button("Cliente nuevo", icon="person_add", on_click=self.new_customer).props("flat no-caps")
            with ui.card().classes("w-full gap-2"):
                ui.label("Mirá el panel").classes("text-lg font-semibold")
                self.state()
                ui.label("Probá escribir:").classes("text-sm text-slate-600")
                with ui.row().classes("gap-1"):
                    for suggestion in SUGGESTIONS:
                        ui.chip(suggestion, on_click=lambda s=suggestion: self._suggest(s)).props("outline dense")
                    ui.chip("📷 Mandar una foto de ejemplo", on_click=self.send_sample_photo).props(
                        "outline dense"
                    ).mark("sample-photo")
            with ui.card().classes("w-full gap-2"):
                ui.label("Responder desde el celular de la tienda").classes("text-lg font-semibold")
                ui.label(
                    "Como si un vendedor contestara con la app WhatsApp Business: el bot se calla en ese chat."
                ).classes("text-sm text-slate-600")
                with ui.row().classes("w-full items-center no-wrap gap-1"):
                    self.echo_input = ui.input("Respuesta").classes("grow").mark("echo-text")
                    ui.button(icon="send", on_click=self.business_app_reply).props("flat round").mark("echo-send")

    @ui.refreshable_method
    def state(self) -> None:
        thread = self.thread
        if thread.conversation_id is None:
            ui.label("Todavía no hay chat: mandá el primer mensaje.").classes("text-sm text-slate-500")
            return
        with ui.row().classes("items-center gap-2").mark("chat-state"):
            ui.badge(
                "Bot activo" if thread.mode == "BOT_ON" else "Atiende una persona",
                color="teal-7" if thread.mode == "BOT_ON" else "amber-8",
            ).mark("mode")
            ui.badge(
                f"Interés: {LEAD_WORDS.get(thread.lead, thread.lead)}",
                color=LEAD_COLOR.get(thread.lead, "blue-grey-5"),
            ).mark("lead")
        url = f"/?chat={thread.conversation_id:d}"
        ui.button(
            "Abrir este chat en el panel", icon="open_in_new", on_click=lambda: ui.navigate.to(url, new_tab=True)
        ).props('unelevated no-caps data-testid="open-inbox"').mark("open-inbox")

    async def _preset(self, event: Any) -> None:
        if event.value in PRESETS and event.value != self.wa_id:
            await self.switch(event.value, PRESETS[event.value])

    def _suggest(self, text: str) -> None:
        self.input.value = text

    async def switch(self, wa_id: str, name: str) -> None:
        self.wa_id, self.name = wa_id, name
        self.read_sent.clear()
        ui.navigate.history.replace(f"/simulator?wa={wa_id}")
        self._show_identity()
        await self.reload()

    def _show_identity(self) -> None:
        self.who.text = f"Sos {self.name} · +{self.wa_id}"

    async def use_custom(self, name: Any, number: Any) -> None:
        wa_id = normalize_number(str(number or ""))
        if wa_id is None:
            ui.notify(
                "El número tiene que tener entre 8 y 15 dígitos, con código de país (ej. 5491155550123)", type="warning"
            )
            return
        await self.switch(wa_id, " ".join(str(name or "").split())[:60] or f"Cliente {wa_id[-4:]}")

    async def new_customer(self) -> None:
        wa_id = "54911" + "".join(random.choices("0123456789", k=8))
        await self.switch(wa_id, f"Cliente {wa_id[-4:]}")


def _still_sandbox() -> bool:
    """Re-checked on every action: injecting customer messages must never reach a real number."""
    if get_settings().sandbox:
        return True
    ui.notify("El simulador solo funciona en modo sandbox", type="negative")
    return False


def _name_for(wa_id: str) -> str:
    if wa_id in PRESETS:
        return PRESETS[wa_id]
    with session_scope() as session:
        stored = session.scalar(select(Contact.name).where(Contact.wa_id == wa_id))
    return stored or f"Cliente {wa_id[-4:]}"


@ui.page("/simulator")
async def simulator_page(request: Request, wa: str = "") -> None:
    with frame(request, "Simulador") as me:
        assert me is not None  # any signed-in user may try the product
        if not get_settings().sandbox:
            with ui.card().classes("m-8 max-w-lg mx-auto").mark("not-sandbox"):
                ui.label("El simulador solo funciona en modo sandbox").classes("text-xl font-bold")
                ui.label(
                    "Esta instalación está conectada a WhatsApp (WHATSAPP_TOKEN configurado): probá escribiéndole "
                    "al número de la tienda desde un celular."
                )
            return
        wa_id = normalize_number(wa) or next(iter(PRESETS))
        await Simulator(me, wa_id, await io(_name_for, wa_id)).build()
