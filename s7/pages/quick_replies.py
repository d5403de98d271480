"""/quick-replies: the seller's saved answers (personal) and the team's (admins edit those)."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from s7.auth import CurrentUser
from s7.db import session_scope
from s7.domain.chats import quick_replies
from s7.domain.chats.conversations import ConversationError
from s7.domain.models import User
from s7.pages.layout import frame, io

HELP = (
    "En el chat, escribí / y parte del atajo para insertarla. Variables: {nombre} (cliente), {vendedor} (vos), "
    "{producto} y {precio} (el producto del que se está hablando). Si una variable no tiene valor, no aparece: "
    "la oración sobre el producto se omite entera."
)


def _load(user_id: int) -> list[quick_replies.QuickReplyRow]:
    with session_scope() as session:
        return quick_replies.available(session, user_id, limit=500)


def _save(me: CurrentUser, shortcut: str, text: str, team: bool, reply_id: int | None) -> None:
    with session_scope() as session:
        user = session.get(User, me.id)
        assert user is not None
        quick_replies.save(session, user, shortcut, text, team=team, reply_id=reply_id)


def _delete(me: CurrentUser, reply_id: int) -> None:
    with session_scope() as session:
        user = session.get(User, me.id)
        assert user is not None
        quick_replies.delete(session, user, reply_id)


class QuickRepliesPage:
    def __init__(self, me: CurrentUser) -> None:
        self.me = me
        self.rows: list[quick_replies.QuickReplyRow] = []

    async def build(self) -> None:
        with ui.column().classes("w-full max-w-3xl mx-auto p-4 gap-3"):
            with ui.row().classes("w-full items-center"):
                ui.label("Respuestas rápidas").classes("text-2xl font-bold")
                ui.space()
                ui.button("Nueva", icon="add", on_click=lambda: self.edit(None)).props("unelevated no-caps").mark(
                    "new-quick-reply"
                )
            ui.label(HELP).classes("text-sm text-slate-600")
            self.listing = ui.column().classes("w-full gap-2").mark("quick-replies")
        await self.reload()

    async def reload(self) -> None:
        self.rows = await io(_load, self.me.id)
        self.listing.clear()
        with self.listing:
            if not self.rows:
                ui.label("Todavía no hay respuestas rápidas.").classes("text-slate-500")
            for row in self.rows:
                editable = row.personal or self.me.is_admin
                with ui.card().classes("w-full gap-1").mark(f"qr-{row.shortcut}"):
                    with ui.row().classes("w-full items-center no-wrap gap-2"):
                        ui.label(f"/{row.shortcut}").classes("font-mono font-semibold")
                        ui.badge("Personal" if row.personal else "Equipo", color="teal" if row.personal else "grey")
                        ui.space()
                        if editable:
                            ui.button(icon="edit", on_click=lambda r=row: self.edit(r)).props(
                                'flat round dense aria-label="Editar"'
                            )
                            ui.button(icon="delete", on_click=lambda r=row: self.remove(r)).props(
                                'flat round dense color=red aria-label="Borrar"'
                            )
                    ui.label(row.text).classes("text-sm whitespace-pre-wrap break-words")

    def edit(self, row: quick_replies.QuickReplyRow | None) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-[32rem] max-w-full"):
            ui.label("Editar respuesta" if row else "Nueva respuesta").classes("font-semibold")
            shortcut = (
                ui.input("Atajo", value=row.shortcut if row else "", placeholder="envios")
                .props('outlined dense prefix="/" maxlength=40')
                .classes("w-full")
                .mark("qr-shortcut")
            )
            text = (
                ui.textarea("Texto", value=row.text if row else "", placeholder="Hola {nombre}! Hacemos envíos a…")
                .props("outlined autogrow maxlength=4096")
                .classes("w-full")
                .mark("qr-text")
            )
            team = ui.checkbox("Para todo el equipo", value=bool(row and not row.personal)).mark("qr-team")
            team.set_visibility(self.me.is_admin and row is None)

            async def save() -> None:
                try:
                    await io(
                        _save, self.me, shortcut.value or "", text.value or "", team.value, row.id if row else None
                    )
                except ConversationError as error:
                    ui.notify(str(error), type="warning")
                    return
                dialog.close()
                ui.notify("Guardada.", type="positive")
                await self.reload()

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancelar", on_click=dialog.close).props("flat no-caps")
                ui.button("Guardar", on_click=save).props("unelevated no-caps").mark("qr-save")
        dialog.on("hide", dialog.delete)
        dialog.open()

    async def remove(self, row: quick_replies.QuickReplyRow) -> None:
        try:
            await io(_delete, self.me, row.id)
        except ConversationError as error:
            ui.notify(str(error), type="warning")
            return
        ui.notify(f"Borraste /{row.shortcut}.")
        await self.reload()


@ui.page("/quick-replies")
async def quick_replies_page(request: Request) -> None:
    with frame(request, "Respuestas rápidas") as me:
        if me is None:
            return
        await QuickRepliesPage(me).build()
