"""The open chat: header with state and buttons, the timeline, and the composer.

Realtime events only mark messages, notes or the header dirty; a short moment later one DB
read brings exactly those and single bubbles are added or replaced in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nicegui import ui

from s7 import realtime
from s7.auth import CurrentUser
from s7.db import session_scope
from s7.domain.chats import conversations, messages
from s7.domain.reads import inbox as inbox_queries
from s7.domain.reads.inbox import ChatHeader, MessageRow, NoteRow, display_name
from s7.pages import attachment, chat_actions, product_picker, template_dialog
from s7.pages.chat_bubbles import message_bubble, note_card, update_in_place
from s7.pages.chat_facts import FactsStrip
from s7.pages.inbox_format import (
    LEAD_COLOR,
    LEAD_LABEL,
    OUTCOME_COLOR,
    followup_text,
    outcome_text,
    owner,
    window_text,
)
from s7.pages.layout import io
from s7.pages.live_reads import Coalesced, gone, shared_read
from s7.pages.presence import ChatPresence


@dataclass
class Snapshot:
    header: ChatHeader
    messages: list[MessageRow]
    notes: list[NoteRow]
    has_older: bool
    team: list[tuple[int, str]]


def load(conversation_id: int) -> Snapshot | None:
    with session_scope() as session:
        header = inbox_queries.chat_header(session, conversation_id)
        if header is None:
            return None
        rows, older = inbox_queries.recent_messages(session, conversation_id)
        notes = inbox_queries.notes_between(session, conversation_id, since=rows[0].created_at if older else None)
        return Snapshot(header, rows, notes, older, inbox_queries.team(session))


def read_changes(
    conversation_id: int, header_dirty: bool, message_ids: list[int], note_ids: list[int]
) -> tuple[ChatHeader | None, list[MessageRow], list[NoteRow]]:
    """What an event burst changed in one chat: its header, some messages, some notes."""
    with session_scope() as session:
        header = inbox_queries.chat_header(session, conversation_id) if header_dirty else None
        rows = inbox_queries.messages_by_id(session, conversation_id, message_ids)
        notes = inbox_queries.notes_between(session, conversation_id, note_ids=note_ids) if note_ids else []
        return header, rows, notes


def _timeline(messages: list[MessageRow], notes: list[NoteRow]) -> list[MessageRow | NoteRow]:
    return sorted([*messages, *notes], key=lambda item: (item.created_at, isinstance(item, NoteRow), item.id))


class ChatView:
    """One open chat in one tab."""

    def __init__(self, user: CurrentUser, snapshot: Snapshot, on_back: Callable[[], Any]) -> None:
        self.user = user
        self.header = snapshot.header
        self.id = snapshot.header.id
        self.team = snapshot.team
        self.bubbles: dict[int, ui.element] = {}
        self.notes: dict[int, ui.element] = {}
        self.oldest_id = snapshot.messages[0].id if snapshot.messages else None
        self.oldest_at = snapshot.messages[0].created_at if snapshot.messages else None
        self.draft = ""
        self._composer_state = ""
        self._dirty_messages: set[int] = set()
        self._dirty_notes: set[int] = set()
        self._dirty_header = False
        self._sending = False
        self.client = ui.context.client
        self.refresh = Coalesced(self.client, self._flush)
        self.presence = ChatPresence(self.id, user.id, user.name, self._paint_presence)

        with ui.column().classes("w-full h-full gap-0 no-wrap").mark("chat-view") as self.root:
            self._build_header(on_back)
            with ui.scroll_area().classes("grow w-full bg-[#efeae2]") as self.scroll:
                self.older = (
                    ui.button("Ver mensajes anteriores", on_click=self._load_older)
                    .props("flat dense no-caps")
                    .classes("self-center")
                )
                self.timeline = ui.column().classes("s7-timeline w-full gap-2 p-2")
            self.composer_box = ui.column().classes("w-full gap-1 p-2 bg-white border-t border-slate-200")
            self.timer = ui.timer(5.0, self._tick)  # window countdown + presence heartbeat
        self.older.set_visibility(snapshot.has_older)
        with self.timeline:
            for item in _timeline(snapshot.messages, snapshot.notes):
                self._add(item)
        self._paint_header()
        self.presence.join()
        self.scroll.scroll_to(percent=1.0)

    # ---- layout ------------------------------------------------------------------------------
    def _build_header(self, on_back: Callable[[], Any]) -> None:
        with ui.column().classes("w-full gap-1 px-3 py-2 bg-white border-b border-slate-200"):
            with ui.row().classes("w-full items-center no-wrap gap-2"):
                ui.button(icon="arrow_back", on_click=on_back).props(
                    'flat round dense aria-label="Volver a la lista"'
                ).classes("md:hidden").mark("back")
                with ui.column().classes("gap-0 grow min-w-0"):
                    self.title = ui.label().classes("font-semibold truncate").mark("chat-title")
                    self.subtitle = ui.label().classes("text-xs text-slate-500 truncate").mark("chat-subtitle")
                self.lead = ui.badge().mark("chat-lead")
            with ui.row().classes("w-full items-center no-wrap gap-1"):
                self.owner_icon = ui.icon("smart_toy", size="16px")
                self.owner = ui.label().classes("s7-chat-owner text-sm font-medium").mark("chat-owner")
            with ui.row().classes("w-full items-center gap-2 text-xs") as self.followup_row:
                self.outcome = ui.badge().props("outline").mark("chat-outcome")
                with ui.row().classes("items-center gap-1 no-wrap") as self.reminder_box:
                    ui.icon("alarm", size="16px").classes("text-indigo-700")
                    self.reminder = ui.label().classes("text-indigo-800").mark("chat-reminder")
            self.facts = FactsStrip(self.id, self.user)
            with ui.row().classes("w-full items-center gap-1"):
                self.take_button = (
                    ui.button("Tomar", icon="front_hand", on_click=self._take)
                    .props("unelevated dense no-caps")
                    .mark("take")
                )
                self.release_button = (
                    ui.button("Devolver al bot", icon="smart_toy", on_click=self._release)
                    .props("outline dense no-caps")
                    .mark("release")
                )
                with (
                    ui.button("Asignar a…", icon="person_add").props("outline dense no-caps").mark("assign")
                ) as self.assign_button:
                    with ui.menu():
                        for user_id, name in self.team:
                            ui.menu_item(name, on_click=lambda u=user_id: self._assign(u)).mark(f"assign-{user_id}")
                        ui.menu_item("Nadie (sin asignar)", on_click=lambda: self._assign(None)).mark("assign-none")
                ui.button("Nota", icon="sticky_note_2", on_click=self._note_dialog).props(
                    "outline dense no-caps color=amber-9"
                ).mark("add-note")
                ui.button("Pasar a…", icon="forward", on_click=self._transfer_dialog).props(
                    "outline dense no-caps"
                ).mark("transfer")
                ui.button("Cerrar venta", icon="flag", on_click=self._outcome_dialog).props(
                    "outline dense no-caps color=teal-8"
                ).mark("outcome")
                ui.button(icon="alarm", on_click=self._reminder_dialog).props(
                    'outline dense round aria-label="Recordatorio"'
                ).tooltip("Recordatorio").mark("reminder")
            with ui.row().classes("w-full items-center gap-3 text-xs"):
                with ui.row().classes("items-center gap-1 no-wrap"):
                    ui.icon("timer", size="16px").classes("text-slate-500")
                    self.window = ui.label().classes("text-slate-600").mark("window")
                self.viewers = ui.label().classes("text-teal-700 italic").mark("presence")

    def _paint_header(self) -> None:
        h = self.header
        self.title.set_text(h.name)
        self.subtitle.set_text(display_name(None, h.wa_id))
        who = owner(h.mode, h.assignee_name, h.human_source, h.awaiting_human)
        self.owner.set_text(who.text)
        self.owner.classes(replace=f"s7-chat-owner text-sm font-medium text-{who.color}")
        self.owner_icon.set_name(who.icon)
        self.owner_icon.props(f"color={who.color}")
        self.lead.set_text(LEAD_LABEL.get(h.lead, ""))
        self.lead.props(f"color={LEAD_COLOR.get(h.lead, 'grey')}")
        self.lead.set_visibility(h.lead in ("HOT", "HOT_LOST", "WARM"))
        self._paint_followup()
        self.facts.paint(h.facts)
        # Offer only what this user may do: a chat another seller holds cannot be taken, nor
        # released or reassigned by a seller (an admin still may).
        mine = h.mode == "HUMAN_TAKEOVER" and h.assigned_to == self.user.id
        held = conversations.held_by_other(h, self.user.id)  # type: ignore[arg-type]
        self.take_button.set_visibility(not mine and not held)
        self.release_button.set_visibility(h.mode == "HUMAN_TAKEOVER" and (not held or self.user.is_admin))
        self.assign_button.set_visibility(not held or self.user.is_admin)
        self._paint_window()

    def _paint_followup(self) -> None:
        outcome, followup = self.header.outcome, self.header.followup
        self.followup_row.set_visibility(outcome is not None or followup is not None)
        self.outcome.set_visibility(outcome is not None)
        if outcome is not None:
            self.outcome.set_text(outcome_text(outcome.result, outcome.amount, outcome.reason))
            self.outcome.props(f"color={OUTCOME_COLOR.get(outcome.result, 'grey')}")
        self.reminder_box.set_visibility(followup is not None)
        self.reminder.set_text(followup_text(followup.due_at, followup.by) if followup else "")

    def _paint_window(self) -> None:
        # The edge's window rule reads only `last_customer_at`, which the detached header carries.
        self.window.set_text(window_text(messages.window_closes_at(self.header)))  # type: ignore[arg-type]
        self._paint_composer()

    def _paint_presence(self) -> None:
        self.viewers.set_text(self.presence.summary())

    # ---- composer ------------------------------------------------------------------------------
    def _composer_mode(self) -> str:
        h = self.header
        if not messages.window_open(h):  # type: ignore[arg-type]
            return "closed"
        if conversations.held_by_other(h, self.user.id):  # type: ignore[arg-type]
            return f"held:{h.assignee_name}"
        return "bot" if h.mode == "BOT_ON" else "open"

    def _paint_composer(self) -> None:
        state = self._composer_mode()
        if state == self._composer_state:
            return
        self._composer_state = state
        self.composer_box.clear()
        with self.composer_box:
            if state == "closed":
                with ui.column().classes("w-full gap-0 bg-slate-100 rounded p-3").mark("window-closed"):
                    ui.label("Ventana cerrada").classes("font-semibold text-slate-800")
                    ui.label(
                        "Pasaron más de 24 horas desde el último mensaje del cliente. WhatsApp no deja mandar "
                        "mensajes libres hasta que el cliente vuelva a escribir: sí una plantilla aprobada."
                    ).classes("text-sm text-slate-600")
                    ui.button("Mandar una plantilla", icon="description", on_click=self._template_dialog).props(
                        "unelevated no-caps dense"
                    ).classes("self-start mt-2").mark("template-open")
                return
            if state.startswith("held:"):
                ui.label(
                    f"🔒 {self.header.assignee_name} está atendiendo este chat. Para escribir, pedile que te lo "
                    "pase o que lo devuelva al bot."
                ).classes("text-sm text-slate-700 bg-slate-100 rounded p-3 w-full").mark("held")
                return
            if state == "bot":
                ui.label("El bot está atendiendo. Si escribís, tomás el chat y el bot se calla.").classes(
                    "text-xs text-slate-500"
                )
            self.suggestions = (
                ui.column().classes("w-full gap-0 bg-white border rounded shadow-sm").mark("quick-suggestions")
            )
            self.suggestions.set_visibility(False)
            self._matches: list[tuple[int, str, str]] = []
            with ui.row().classes("w-full items-end no-wrap gap-2"):
                self.input = (
                    ui.textarea(
                        placeholder="Escribí tu respuesta (/ para respuestas rápidas, Enter envía)",
                        value=self.draft,
                        on_change=self._typed,
                    )
                    .props("autogrow outlined dense rows=1 maxlength=4096")
                    .classes("grow")
                    .mark("composer")
                )
                self.input.on("keydown.enter.exact.prevent", self._send)
                ui.button(icon="description", on_click=self._template_dialog).props(
                    'flat round color=grey-8 title="Plantillas"'
                ).mark("template-open")
                ui.button(icon="sell", on_click=self._product_dialog).props(
                    'flat round color=grey-8 title="Mandar un producto del catálogo"'
                ).mark("product-open")
                ui.button(icon="attach_file", on_click=self._attach_dialog).props(
                    'flat round color=grey-8 title="Adjuntar foto, PDF o audio"'
                ).mark("attach")
                ui.button(icon="send", on_click=self._send).props("round unelevated color=primary").mark("send")

    async def _typed(self, event: Any) -> None:
        self.draft = event.value or ""
        if self.draft:
            self.presence.typed()
        await self._suggest(self.draft)

    # ---- quick replies: "/" + search ------------------------------------------------------------
    async def _suggest(self, draft: str) -> None:
        query = draft[1:] if draft.startswith("/") and "\n" not in draft and len(draft) <= 41 else None
        matches = [] if query is None else await io(chat_actions.quick_reply_matches, self.user, query)
        if gone(self.client) or draft != self.draft:
            return  # typed on meanwhile: a newer call paints
        self._matches = matches
        self.suggestions.clear()
        with self.suggestions:
            for reply_id, shortcut, text in matches:
                with (
                    ui.item(on_click=lambda r=reply_id: self._insert(r))
                    .props("clickable dense")
                    .classes("w-full")
                    .mark(f"quick-{shortcut}")
                ):
                    with ui.item_section():
                        ui.item_label(f"/{shortcut}").classes("font-mono text-sm")
                        ui.item_label(text).props("caption lines=1")
            if query is not None and not matches:
                ui.label("Ninguna respuesta rápida con ese atajo.").classes("text-xs text-slate-500 p-2")
        self.suggestions.set_visibility(query is not None)

    async def _insert(self, reply_id: int) -> None:
        try:
            text = await io(chat_actions.quick_reply_text, self.id, self.user, reply_id)
        except chat_actions.ActionRefused as refused:
            ui.notify(str(refused), type="warning")
            return
        self.suggestions.set_visibility(False)
        self._matches = []
        self.draft = text
        self.input.set_value(text)
        self.input.run_method("focus")

    async def _send(self) -> None:
        text = (self.input.value or "").strip()
        if self._matches and text.startswith("/"):
            await self._insert(self._matches[0][0])  # Enter on "/envios" inserts, never sends the shortcut
            return
        if not text or self._sending:
            return
        self._sending = True
        self.input.set_value("")
        try:
            await io(chat_actions.send, self.id, self.user, text)
        except chat_actions.ActionRefused as refused:
            if not gone(self.client) and not (self.input.value or "").strip():
                self.input.set_value(text)  # give the text back, nothing was sent
            ui.notify(str(refused), type="warning")
        finally:
            self._sending = False

    async def _product_dialog(self) -> None:
        await product_picker.open_dialog(self.id, self.user)

    def _attach_dialog(self) -> None:
        attachment.open_dialog(self.id, self.user)

    async def _template_dialog(self) -> None:
        await template_dialog.open_dialog(self.id, self.user)

    # ---- buttons -------------------------------------------------------------------------------
    async def _run(self, action: Callable[..., None], *args: Any, done: str | None = None) -> None:
        try:
            await io(action, self.id, self.user, *args)
        except chat_actions.ActionRefused as refused:
            ui.notify(str(refused), type="warning")
            return
        if done:
            ui.notify(done, type="positive")

    async def _take(self) -> None:
        await self._run(chat_actions.take, done="Tomaste el chat: el bot no va a responder.")

    async def _release(self) -> None:
        await self._run(chat_actions.release, done="Listo, el bot vuelve a atender este chat.")

    async def _assign(self, user_id: int | None) -> None:
        await self._run(chat_actions.assign, user_id, done="Asignación actualizada.")

    def _note_dialog(self) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-96 max-w-full"):
            ui.label("Nota interna").classes("font-semibold")
            ui.label("La ve solo el equipo, nunca el cliente. Con @nombre le avisás a un compañero.").classes(
                "text-xs text-slate-500"
            )
            text = (
                ui.textarea(placeholder="Ej.: quiere el talle 42, pasa el sábado")
                .props("autogrow outlined maxlength=4000")
                .classes("w-full")
                .mark("note-input")
            )

            async def save() -> None:
                await self._run(chat_actions.add_note, text.value or "")
                dialog.close()

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancelar", on_click=dialog.close).props("flat no-caps")
                ui.button("Guardar nota", on_click=save).props("unelevated no-caps color=amber-9").mark("save-note")
        dialog.on("hide", dialog.delete)
        dialog.open()

    def _transfer_dialog(self) -> None:
        others = {user_id: name for user_id, name in self.team if user_id != self.user.id}
        with ui.dialog() as dialog, ui.card().classes("w-96 max-w-full"):
            ui.label("Pasar el chat a un compañero").classes("font-semibold")
            who = ui.select(others, label="¿A quién?").props("outlined dense").classes("w-full").mark("transfer-to")
            note = (
                ui.textarea("Nota para tu compañero", placeholder="Ej.: quiere retirar el sábado, ya pagó la seña")
                .props("outlined autogrow maxlength=2000")
                .classes("w-full")
                .mark("transfer-note")
            )

            async def save() -> None:
                if who.value is None:
                    ui.notify("Elegí a quién pasárselo.", type="warning")
                    return
                await self._run(chat_actions.transfer, who.value, note.value or "", done="Listo, se lo pasaste.")
                dialog.close()

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancelar", on_click=dialog.close).props("flat no-caps")
                ui.button("Pasar", on_click=save).props("unelevated no-caps").mark("save-transfer")
        dialog.on("hide", dialog.delete)
        dialog.open()

    async def _outcome_dialog(self) -> None:
        reasons = await io(chat_actions.lost_reasons)
        with ui.dialog() as dialog, ui.card().classes("w-96 max-w-full"):
            ui.label("¿Cómo terminó?").classes("font-semibold")
            ui.label("Cierra este episodio: el lead y la intención empiezan de cero.").classes("text-xs text-slate-500")
            result = (
                ui.toggle({"won": "Vendido", "lost": "Perdido", "none": "Sin resultado"}, value="won")
                .props("no-caps unelevated toggle-color=teal-8")
                .mark("outcome-result")
            )
            with ui.column().classes("w-full gap-1") as won_box:
                amount = (
                    ui.input("Monto", placeholder="Ej.: 189999")
                    .props('outlined dense inputmode=decimal prefix="$"')
                    .classes("w-full")
                    .mark("outcome-amount")
                )
                skus = (
                    ui.input("SKU (opcional, separados por coma)")
                    .props("outlined dense")
                    .classes("w-full")
                    .mark("outcome-skus")
                )
            reason = ui.select(reasons, label="Motivo").props("outlined dense").classes("w-full").mark("outcome-reason")
            note = ui.input("Nota (opcional)").props("outlined dense maxlength=1000").classes("w-full")
            won_box.bind_visibility_from(result, "value", value="won")
            reason.bind_visibility_from(result, "value", value="lost")

            async def save() -> None:
                try:
                    done = await io(
                        chat_actions.close_episode,
                        self.id,
                        self.user,
                        result.value,
                        amount.value if result.value == "won" else None,
                        reason.value if result.value == "lost" else None,
                        skus.value or "" if result.value == "won" else "",
                        note.value,
                    )
                except chat_actions.ActionRefused as refused:
                    ui.notify(str(refused), type="warning")
                    return
                ui.notify(done, type="positive")
                dialog.close()

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancelar", on_click=dialog.close).props("flat no-caps")
                ui.button("Guardar", on_click=save).props("unelevated no-caps color=teal-8").mark("save-outcome")
        dialog.on("hide", dialog.delete)
        dialog.open()

    def _reminder_dialog(self) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-96 max-w-full"):
            ui.label("Recordatorio").classes("font-semibold")
            ui.label("A esa hora el chat vuelve arriba de tu lista y te avisamos.").classes("text-xs text-slate-500")
            when = (
                ui.input("¿Cuándo?", placeholder="mañana 10:00 · en 2 horas · viernes 9")
                .props("outlined dense autofocus")
                .classes("w-full")
                .mark("reminder-when")
            )
            with ui.row().classes("gap-1"):
                for choice in ("en 1 hora", "hoy 18:00", "mañana 10:00"):
                    ui.chip(choice, on_click=lambda c=choice: when.set_value(c)).props("clickable outline dense")
            note = ui.input("Nota (opcional)").props("outlined dense maxlength=200").classes("w-full")

            async def save() -> None:
                try:
                    done = await io(chat_actions.remind, self.id, self.user, when.value or "", note.value)
                except chat_actions.ActionRefused as refused:
                    ui.notify(str(refused), type="warning")
                    return
                ui.notify(done, type="positive")
                dialog.close()

            when.on("keydown.enter", save)
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancelar", on_click=dialog.close).props("flat no-caps")
                ui.button("Guardar", on_click=save).props("unelevated no-caps color=primary").mark("save-reminder")
        dialog.on("hide", dialog.delete)
        dialog.open()

    # ---- live updates --------------------------------------------------------------------------
    def handle(self, event: realtime.Event) -> None:
        if event.kind == "presence":
            self.presence.handle(event)
            return
        if event.get("conversation_id") != self.id:
            return
        if event.kind in ("message", "status") and isinstance(event.get("message_id"), int):
            self._dirty_messages.add(event.get("message_id"))
        elif event.kind == "note" and isinstance(event.get("note_id"), int):
            self._dirty_notes.add(event.get("note_id"))
        elif event.kind == "conversation" and event.get("read_by") is None:
            self._dirty_header = True
        else:
            return
        self.refresh.poke(event)

    async def _flush(self) -> None:
        message_ids, self._dirty_messages = sorted(self._dirty_messages), set()
        note_ids, self._dirty_notes = sorted(self._dirty_notes), set()
        header_dirty, self._dirty_header = self._dirty_header, False

        key = ("chat", self.id, header_dirty, tuple(message_ids), tuple(note_ids), self.refresh.stamp)
        header, rows, notes = await shared_read(key, read_changes, self.id, header_dirty, message_ids, note_ids)
        if gone(self.client) or not self.presence.active:
            return
        if header is not None:
            self.header = header
            self._paint_header()
        appended = new_inbound = False
        for row in rows:
            if row.id in self.bubbles:
                if not update_in_place(self.bubbles[row.id], row):
                    self._replace(row)
            else:
                self._append(row)
                appended = True
                new_inbound = new_inbound or row.direction == "in"
        for note in notes:
            if note.id not in self.notes:
                self._append(note)
                appended = True
        if appended:
            self.scroll.scroll_to(percent=1.0)
        if new_inbound:  # the seller has this chat open: it is read, for them and for WhatsApp
            key = ("seen", self.id, self.user.id, self.refresh.stamp)
            await shared_read(key, chat_actions.seen, self.id, self.user)
            if header is None:  # the customer wrote: the window reopened, a set outcome no longer stands
                self._dirty_header = True
                self.refresh.poke()

    def _add(self, item: MessageRow | NoteRow) -> ui.element:
        if isinstance(item, NoteRow):
            element = self.notes[item.id] = note_card(item)
        else:
            element = self.bubbles[item.id] = message_bubble(item, self.header.name)
        return element

    def _append(self, item: MessageRow | NoteRow) -> None:
        with self.timeline:
            self._add(item)

    def _replace(self, row: MessageRow) -> None:
        old = self.bubbles[row.id]
        index = self.timeline.default_slot.children.index(old)
        with self.timeline:
            new = self._add(row)
        new.move(self.timeline, target_index=index)
        self.timeline.remove(old)

    async def _load_older(self) -> None:
        if self.oldest_id is None:
            return
        before_id, until = self.oldest_id, self.oldest_at

        def read() -> tuple[list[MessageRow], list[NoteRow], bool]:
            with session_scope() as session:
                rows, older = inbox_queries.recent_messages(session, self.id, before_id=before_id)
                since = rows[0].created_at if older and rows else None
                notes = inbox_queries.notes_between(session, self.id, since=since, until=until)
                return rows, notes, older

        rows, notes, older = await io(read)
        if gone(self.client):
            return
        notes = [n for n in notes if n.id not in self.notes]
        for index, item in enumerate(_timeline(rows, notes)):
            with self.timeline:
                element = self._add(item)
            element.move(self.timeline, target_index=index)
        if rows:
            self.oldest_id, self.oldest_at = rows[0].id, rows[0].created_at
        self.older.set_visibility(older)

    def _tick(self) -> None:
        self._paint_window()
        self.presence.tick()

    def close(self) -> None:
        """The seller opened another chat or left: stop announcing presence, drop the elements."""
        self.presence.leave()
        self.timer.cancel()
        self.root.delete()
