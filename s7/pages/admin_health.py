"""/admin/salud: what the system could not do on its own — parked messages, unreadable webhooks,
sends Meta refused, the backlog — with a retry for each and the raw body on demand (as text)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Request
from nicegui import ui

from s7.auth import CurrentUser
from s7.clock import as_utc
from s7.config import get_settings
from s7.db import session_scope
from s7.domain import health
from s7.domain.reads import health as health_reads
from s7.pages.layout import frame, io

KIND_LABELS = {
    "CustomerMessage": "Mensaje de cliente",
    "BusinessEcho": "Respuesta desde la app",
    "HistoryMessage": "Historial",
    "StatusUpdate": "Estado de envío",
    "ContactSync": "Contacto",
    "AccountUpdate": "Aviso de la cuenta",
    "WebhookError": "Error de WhatsApp",
}


def _load() -> health_reads.Health:
    with session_scope() as session:
        return health_reads.system_health(session)


def _run(action: Callable[..., Any], actor_id: int, row_id: int) -> Any:
    with session_scope() as session:
        return action(session, row_id, actor_id=actor_id)


def _when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return as_utc(value).astimezone(get_settings().timezone).strftime("%d/%m/%Y %H:%M")  # type: ignore[union-attr]


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "nada en espera"
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 90 * 60:
        return f"{int(seconds // 60)} min"
    return f"{seconds / 3600:.1f} h"


def _open_chat(conversation_id: int) -> None:
    ui.navigate.to(f"/?chat={conversation_id:d}")


class HealthPage:
    def __init__(self, me: CurrentUser) -> None:
        self.me = me
        self.figures: health_reads.Health | None = None

    async def build(self) -> None:
        self.figures = await io(_load)
        with ui.column().classes("w-full max-w-5xl mx-auto p-4 gap-4"):
            with ui.row().classes("w-full items-center"):
                ui.label("Salud del sistema").classes("text-2xl font-bold grow")
                ui.button("Actualizar", icon="refresh", on_click=self.reload).props("flat no-caps").mark("refresh")
            ui.label(
                "Lo que el sistema no pudo resolver solo: mensajes detenidos tras varios intentos, avisos de "
                "WhatsApp que no se pudieron leer y envíos que Meta rechazó. Podés reintentar cada uno."
            ).classes("text-slate-600")
            self.content()

    async def reload(self) -> None:
        self.figures = await io(_load)
        self.content.refresh()

    @ui.refreshable_method
    def content(self) -> None:
        figures = self.figures
        if figures is None:
            return
        with ui.row().classes("w-full gap-3"):
            self._figure("Mensajes detenidos", figures.parked.count, "parked-count")
            self._figure("Avisos ilegibles", figures.failed_events.count, "events-count")
            self._figure("Envíos fallidos", figures.failed_sends.count, "sends-count")
            self._figure("En espera", figures.backlog.items_pending, "backlog-count")
            with ui.card().classes("grow"):
                ui.label("Más antiguo en espera").classes("text-sm text-slate-500")
                ui.label(_age(figures.backlog.oldest_age_seconds)).classes("text-xl font-semibold").mark("backlog-age")
        self._parked(figures.parked)
        self._events(figures.failed_events)
        self._sends(figures.failed_sends)

    def _figure(self, label: str, value: int, marker: str) -> None:
        with ui.card().classes("grow"):
            ui.label(label).classes("text-sm text-slate-500")
            shown = ui.label(str(value)).classes("text-xl font-semibold").mark(marker)
            if value:
                shown.classes("text-red-700")

    def _first_error(self, summary: health_reads.Summary) -> None:
        if summary.first_error:
            with ui.row().classes("items-start gap-1"):
                ui.label("Primer error:").classes("text-sm font-medium")
                ui.label(summary.first_error).classes("text-sm text-red-800 break-all")

    # ---- sections ---------------------------------------------------------------------------------
    def _parked(self, summary: health_reads.Summary) -> None:
        with ui.card().classes("w-full").mark("parked-list"):
            ui.label("Mensajes detenidos").classes("text-lg font-semibold")
            if not summary.count:
                ui.label("Ninguno: todo lo que llegó se procesó.").classes("text-slate-500")
                return
            self._first_error(summary)
            for item in summary.recent:
                with ui.row().classes("w-full items-center gap-3 py-2 border-b border-slate-100"):
                    with ui.column().classes("gap-0 grow min-w-[14rem]"):
                        who = item.customer or item.chat_key
                        ui.label(f"{KIND_LABELS.get(item.kind, item.kind)} · {who}").classes("font-medium")
                        ui.label(item.error or "sin detalle").classes("text-sm text-red-800 break-all")
                        ui.label(f"{_when(item.at)} · {item.attempts} intentos").classes("text-xs text-slate-500")
                    if item.conversation_id is not None:
                        ui.button(
                            "Ver chat", icon="forum", on_click=lambda c=item.conversation_id: _open_chat(c)
                        ).props("flat dense no-caps")
                    ui.button("Ver cuerpo", icon="data_object", on_click=lambda e=item.event_id: self._body(e)).props(
                        "flat dense no-caps"
                    ).mark(f"body-item-{item.id}")
                    ui.button("Reintentar", icon="replay", on_click=lambda i=item.id: self._retry_item(i)).props(
                        "unelevated dense no-caps"
                    ).mark(f"retry-item-{item.id}")

    def _events(self, summary: health_reads.Summary) -> None:
        with ui.card().classes("w-full").mark("events-list"):
            ui.label("Avisos de WhatsApp ilegibles").classes("text-lg font-semibold")
            if not summary.count:
                ui.label("Ninguno.").classes("text-slate-500")
                return
            self._first_error(summary)
            for event in summary.recent:
                with ui.row().classes("w-full items-center gap-3 py-2 border-b border-slate-100"):
                    with ui.column().classes("gap-0 grow min-w-[14rem]"):
                        ui.label(f"Aviso #{event.id} · {_when(event.received_at)}").classes("font-medium")
                        ui.label(event.error or "sin detalle").classes("text-sm text-red-800 break-all")
                    ui.button("Ver cuerpo", icon="data_object", on_click=lambda e=event.id: self._body(e)).props(
                        "flat dense no-caps"
                    ).mark(f"body-event-{event.id}")
                    ui.button("Reintentar", icon="replay", on_click=lambda e=event.id: self._resplit(e)).props(
                        "unelevated dense no-caps"
                    ).mark(f"resplit-event-{event.id}")

    def _sends(self, summary: health_reads.Summary) -> None:
        with ui.card().classes("w-full").mark("sends-list"):
            ui.label("Envíos fallidos").classes("text-lg font-semibold")
            if not summary.count:
                ui.label("Ninguno.").classes("text-slate-500")
                return
            self._first_error(summary)
            for send in summary.recent:
                with ui.row().classes("w-full items-center gap-3 py-2 border-b border-slate-100"):
                    with ui.column().classes("gap-0 grow min-w-[14rem]"):
                        ui.label(f"A {send.customer or 'cliente'} · {_when(send.at)}").classes("font-medium")
                        if send.text:
                            ui.label(send.text).classes("text-sm text-slate-700 break-all")
                        ui.label(f"Motivo de Meta: {send.reason or 'sin detalle'}").classes(
                            "text-sm text-red-800 break-all"
                        )
                    ui.button("Ver chat", icon="forum", on_click=lambda c=send.conversation_id: _open_chat(c)).props(
                        "flat dense no-caps"
                    )
                    ui.button("Reintentar", icon="replay", on_click=lambda s=send.id: self._retry_send(s)).props(
                        "unelevated dense no-caps"
                    ).mark(f"retry-send-{send.id}")

    # ---- actions ----------------------------------------------------------------------------------
    async def _act(self, action: Callable[..., Any], row_id: int, done: str) -> None:
        try:
            await io(_run, action, self.me.id, row_id)
        except health.HealthError as exc:
            ui.notify(str(exc), type="negative")
        else:
            ui.notify(done, type="positive")
        await self.reload()

    async def _retry_item(self, item_id: int) -> None:
        await self._act(health.retry_parked_item, item_id, "Reintento en cola: se procesa en unos segundos")

    async def _resplit(self, event_id: int) -> None:
        await self._act(health.resplit_event, event_id, "Aviso en cola para leerse de nuevo")

    async def _retry_send(self, outbox_id: int) -> None:
        await self._act(health.retry_failed_send, outbox_id, "Reenvío en cola")

    async def _body(self, event_id: int) -> None:
        try:
            body = await io(_run, health.raw_body, self.me.id, event_id)
        except health.HealthError as exc:
            ui.notify(str(exc), type="negative")
            return
        with ui.dialog() as dialog, ui.card().classes("w-full max-w-3xl"):
            ui.label(f"Cuerpo del aviso #{event_id}").classes("text-lg font-semibold")
            ui.label("Tal como lo mandó WhatsApp. Contiene datos del cliente: no lo compartas.").classes(
                "text-sm text-slate-600"
            )
            # A label is text, never HTML: the body is whatever Meta (or someone) sent.
            ui.label(body).classes(
                "w-full max-h-[60vh] overflow-auto whitespace-pre-wrap break-all font-mono text-xs bg-slate-50 p-2"
            ).mark("raw-body")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cerrar", on_click=dialog.close).props("flat no-caps")
        dialog.open()


@ui.page("/admin/salud")
async def admin_health_page(request: Request) -> None:
    with frame(request, "Salud del sistema", admin_only=True) as me:
        if me is None:
            return
        await HealthPage(me).build()
