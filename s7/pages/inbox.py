"""/: the seller inbox. The chat list on the left, the open chat beside it (on a phone, one at a
time), alerts on top; everything live over NiceGUI's websocket through one realtime
subscription per tab, which ends when the tab goes away.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from nicegui import background_tasks, ui

from s7 import realtime
from s7.auth import CurrentUser
from s7.pages import chat_actions, chat_view
from s7.pages.chat_list import ChatList
from s7.pages.chat_view import ChatView
from s7.pages.inbox_alerts import Alerts
from s7.pages.layout import frame, io, live
from s7.pages.live_reads import gone

# Bubbles stay readable on wide screens; a constant, never built from data.
_CSS = ".s7-timeline .q-message-text { max-width: min(36rem, 75vw); min-width: 7rem; }"
# The frame's header is 52 px high; the inbox fills the rest of the screen and scrolls inside.
_FULL_HEIGHT = "h-[calc(100dvh-52px)]"
HEARTBEAT_SECONDS = 60.0


class Inbox:
    def __init__(self, user: CurrentUser) -> None:
        self.user = user
        self.view: ChatView | None = None
        self._known_available: bool | None = None
        self._opening = 0
        # Events for the chat being loaded: a change committed between the snapshot read and the
        # view existing (a photo just fetched, a tick) is replayed to the view, not lost.
        self._loading: list[realtime.Event] | None = None
        self.client = ui.context.client
        with ui.row().classes(f"w-full no-wrap gap-0 {_FULL_HEIGHT}").mark("inbox"):
            with ui.column().classes(
                "w-full md:w-96 md:shrink-0 h-full gap-0 no-wrap border-r border-slate-200 bg-white"
            ) as self.left:
                with ui.row().classes("w-full items-center px-3 pt-2 no-wrap"):
                    ui.label("Conversaciones").classes("text-lg font-semibold grow")
                    self.available = (
                        ui.switch("Disponible", on_change=self._availability_changed)
                        .props("dense color=green-7")
                        .classes("text-sm")
                        .mark("availability")
                    )
                    ui.button(icon="keyboard", on_click=shortcuts_dialog).props(
                        'flat round dense color=grey-7 aria-label="Atajos de teclado"'
                    ).classes("max-md:hidden").mark("shortcuts-help")
                    self.alerts = Alerts(self.open_chat, user.id)
                with ui.element("div").classes("w-full grow min-h-0"):
                    self.list = ChatList(user, self.open_chat)
            with ui.column().classes("grow min-w-0 h-full gap-0 max-md:hidden") as self.right:
                self.placeholder = ui.column().classes("w-full h-full items-center justify-center text-slate-500")
                with self.placeholder:
                    ui.icon("forum", size="64px").classes("text-slate-300")
                    ui.label("Elegí una conversación de la lista.")
        live(self.on_event)
        self.client.on_delete(self._tab_closed)
        ui.keyboard(on_key=self._key)  # ignores keys typed in inputs and the composer
        # While this tab is connected the seller counts as present (AVAILABILITY_GRACE_MINUTES).
        ui.timer(HEARTBEAT_SECONDS, self._heartbeat, immediate=False)

    async def _heartbeat(self) -> None:
        self._known_available = await io(chat_actions.here, self.user)
        self.available.set_value(self._known_available)

    async def _availability_changed(self, event: Any) -> None:
        if bool(event.value) == self._known_available:
            return  # the heartbeat showing the stored state, not the seller's click
        self._known_available = bool(event.value)
        await io(chat_actions.set_available, self.user, bool(event.value))
        ui.notify("Estás disponible: te pueden llegar chats." if event.value else "Quedaste ausente.")

    # ---- keyboard shortcuts (desktop) ----------------------------------------------------------
    async def _key(self, event: Any) -> None:
        if not event.action.keydown or event.action.repeat or event.modifiers.ctrl or event.modifiers.meta:
            return
        key = str(event.key)
        if key in ("j", "n"):
            await self.next_unread()
        elif key == "?":
            shortcuts_dialog()
        elif key == "Escape" and self.view is not None:
            self.back()
        elif self.view is not None and key == "t":
            await self.view._take()
        elif self.view is not None and key == "b":
            await self.view._release()
        elif self.view is not None and key == "r" and getattr(self.view, "input", None) is not None:
            self.view.input.run_method("focus")

    async def next_unread(self) -> None:
        """The next chat down the list with messages I have not read (from the top again at the end)."""
        order = [item.row for item in self.list.items.values()]
        order.sort(key=lambda r: (r.sort_at, r.id), reverse=True)
        current = self.view.id if self.view is not None else None
        ids = [r.id for r in order]
        start = ids.index(current) + 1 if current in ids else 0
        for row in order[start:] + order[:start]:
            if row.unread and row.id != current:
                await self.open_chat(row.id)
                return
        ui.notify("No hay chats sin leer.")

    async def start(self, chat: int | None) -> None:
        await self.list.refresh.flush()
        if chat is not None:
            await self.open_chat(chat, initial=True)
        await self._heartbeat()

    def on_event(self, event: realtime.Event) -> None:
        if gone(self.client):
            return
        self.list.handle(event)
        self.alerts.handle(event)
        if self._loading is not None:
            self._loading.append(event)
        if self.view is None:
            return
        if event.kind == "resync":  # the bridge reconnected: events may have been missed
            background_tasks.create(self._reopen(self.view.id), name="inbox-resync")
        else:
            self.view.handle(event)

    async def _reopen(self, conversation_id: int) -> None:
        with self.client:
            await self.open_chat(conversation_id, initial=True)

    async def open_chat(self, conversation_id: int, *, initial: bool = False) -> None:
        self._opening += 1
        ticket = self._opening
        self._loading = missed = []
        try:
            snapshot = await io(chat_view.load, conversation_id)
        finally:
            if ticket == self._opening:
                self._loading = None
        if ticket != self._opening or gone(self.client):
            return  # the seller clicked another chat meanwhile
        if snapshot is None:
            ui.notify("Esa conversación no existe.", type="warning")
            return
        if self.view is not None:
            self.view.close()
        self.placeholder.set_visibility(False)
        with self.right:
            self.view = ChatView(self.user, snapshot, on_back=self.back)
        for event in missed:
            if event.kind != "resync":
                self.view.handle(event)
        self.list.select(conversation_id)
        self.alerts.seen(conversation_id)
        self._phone_shows(chat=True)
        if not initial:
            self._set_url(f"/?chat={conversation_id:d}")
        await io(chat_actions.seen, conversation_id, self.user)

    def back(self) -> None:
        if self.view is not None:
            self.view.close()
            self.view = None
        self.alerts.current = None
        self.list.select(None)
        self.placeholder.set_visibility(True)
        self._phone_shows(chat=False)
        self._set_url("/")

    def _set_url(self, path: str) -> None:
        """Keep the address bar on the open chat (a reload or a shared link opens it again).
        Through the client, not the ambient slot: the clicked button may be gone by now."""
        self.client.run_javascript(f"history.replaceState(null, '', {json.dumps(path)})")

    def _phone_shows(self, *, chat: bool) -> None:
        """Below the md breakpoint only one column is visible: the list or the open chat."""
        if chat:
            self.left.classes(add="max-md:hidden")
            self.right.classes(remove="max-md:hidden")
        else:
            self.left.classes(remove="max-md:hidden")
            self.right.classes(add="max-md:hidden")

    def _tab_closed(self) -> None:
        if self.view is not None:
            self.view.presence.leave()


@ui.page("/")
async def inbox_page(request: Request, chat: int | None = None) -> None:
    with frame(request, "Conversaciones") as user:
        assert user is not None  # not an admin-only page: every signed-in user gets here
        ui.query(".nicegui-content").classes("p-0 gap-0")
        ui.add_css(_CSS)
        inbox = Inbox(user)
        await inbox.start(chat)


SHORTCUTS = (
    ("j / n", "Siguiente chat sin leer"),
    ("t", "Tomar el chat abierto"),
    ("b", "Devolverlo al bot"),
    ("r", "Escribir (ir al compositor)"),
    ("/", "En el compositor: respuestas rápidas"),
    ("Esc", "Cerrar el chat"),
    ("?", "Esta ayuda"),
)


def shortcuts_dialog() -> None:
    with ui.dialog() as dialog, ui.card().classes("w-96 max-w-full").mark("shortcuts"):
        ui.label("Atajos de teclado").classes("font-semibold")
        for keys, what in SHORTCUTS:
            with ui.row().classes("w-full items-center no-wrap gap-3"):
                ui.label(keys).classes("font-mono text-sm bg-slate-100 rounded px-2 w-16 text-center shrink-0")
                ui.label(what).classes("text-sm")
        ui.button("Cerrar", on_click=dialog.close).props("flat no-caps").classes("self-end")
    dialog.on("hide", dialog.delete)
    dialog.open()
