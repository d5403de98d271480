"""/: the seller inbox (chat list + open chat)."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui
from sqlalchemy import select

from s7.db import session_scope
from s7.domain.models import Contact, Conversation
from s7.pages.layout import frame


def _rows() -> list[tuple[str, str, str]]:
    with session_scope() as session:
        rows = session.execute(
            select(Contact.name, Contact.wa_id, Conversation.mode)
            .join(Conversation, Conversation.contact_id == Contact.id)
            .order_by(Conversation.last_message_at.desc())
            .limit(100)
        ).all()
        return [(name or wa_id, wa_id, mode) for name, wa_id, mode in rows]


@ui.page("/")
def inbox_page(request: Request) -> None:
    with frame(request, "Conversaciones"), ui.column().classes("p-4 w-full"):
        ui.label("Conversaciones").classes("text-xl font-bold")
        rows = _rows()
        if not rows:
            ui.label("Todavía no hay conversaciones.").classes("text-slate-500").mark("empty-inbox")
        for name, wa_id, mode in rows:
            ui.label(f"{name} · +{wa_id} · {mode}")
