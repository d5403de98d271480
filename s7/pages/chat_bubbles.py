"""One message or note of the open chat, drawn with plain text elements.

Customer content (text, names, captions, file names, Meta's error text) only ever goes into
`ui.label` / `ui.chip` text or `ui.chat_message`'s `name`, which the browser shows as text:
never into HTML, Markdown or element props.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from nicegui import ui

from s7.domain.media import MEDIA_KINDS
from s7.domain.reads.inbox import MessageRow, NoteRow
from s7.pages.inbox_format import MEDIA_LABEL, TICKS, stamp

KIND_NOTE = {"card": "🖼 Con la foto del producto", "template": "📋 Plantilla de WhatsApp"}
AUTHOR_COLORS = {"customer": "white", "bot": "blue-1", "seller": "green-1", "business_app": "indigo-1"}


def author_label(row: MessageRow, contact_name: str) -> str:
    if row.author == "customer":
        return contact_name
    if row.author == "bot":
        return "🤖 Bot"
    if row.author == "seller":
        return row.author_name or "Vendedor"
    if row.author == "business_app":
        return "📱 App WhatsApp Business"
    return "Sistema"


def message_bubble(row: MessageRow, contact_name: str) -> ui.element:
    """A chat bubble: author, quoted message, media, text, options, time, ticks, reaction."""
    if row.author == "system" or row.type == "system":
        with ui.element("div").classes("self-center text-xs text-slate-600 bg-white/80 rounded px-2 py-1") as el:
            ui.label(row.text or "Aviso de WhatsApp")
        return el.mark(f"msg-{row.id}")
    sent = row.direction == "out"
    # Built once per open tab for every message, so a plain bubble is kept to three elements
    # (four with ticks): the bubble (its time is Quasar's text-only `stamp`), one content box
    # (Quasar draws every direct child as a separate bubble), the text.
    when = stamp(row.created_at) + (" · editado" if row.edited else "")
    with (
        ui.chat_message(name=author_label(row, contact_name), sent=sent, stamp=when)
        .props(f"bg-color={AUTHOR_COLORS.get(row.author, 'grey-2')}")
        .classes("w-full") as bubble,
        ui.element("div").classes("flex flex-col gap-1"),
    ):
        if row.extra:
            _extra(row.extra)
        if row.quoted:
            ui.label(f"↪ {row.quoted}").classes("text-xs italic text-slate-500 border-l-2 border-slate-400 pl-2")
        if row.revoked:
            ui.label("🚫 El cliente eliminó este mensaje").classes("text-xs italic text-slate-500")
        if row.media is not None or row.type in MEDIA_LABEL:
            _media(row)
        if row.type in KIND_NOTE:
            ui.label(KIND_NOTE[row.type]).classes("text-[11px] text-slate-500").mark(f"kind-{row.type}")
        if row.text and row.type not in ("location",):
            ui.label(row.text).classes(
                "whitespace-pre-wrap break-words" + (" line-through text-slate-400" if row.revoked else "")
            ).mark("message-text")
        if row.options:
            _options(row)
        tick = _footer(row)
    bubble.s7_row, bubble.s7_tick = row, tick  # type: ignore[attr-defined]  # for update_in_place
    return bubble.mark(f"msg-{row.id}")


def update_in_place(bubble: ui.element, row: MessageRow) -> bool:
    """A new tick (sent → delivered → read) changes one icon, not the bubble: rebuilding it would
    re-send and re-render the whole timeline in every open tab. False when more changed."""
    old: MessageRow | None = getattr(bubble, "s7_row", None)
    tick: ui.icon | None = getattr(bubble, "s7_tick", None)
    if old is None or tick is None or row.status in ("failed", "cancelled") or replace(old, status=row.status) != row:
        return False
    if row.status != old.status:
        icon, color, tip = TICKS.get(row.status, TICKS["queued"])
        tick.set_name(icon)
        tick.classes(replace=f"{_TICK_CLASSES} {color}").props(f'title="{tip}"').mark(f"tick-{row.status}")
    bubble.s7_row = row  # type: ignore[attr-defined]
    return True


def _media(row: MessageRow) -> None:
    media: dict[str, Any] = row.media or {}
    icon, label = MEDIA_LABEL.get(row.type, ("attach_file", "Adjunto"))
    if row.type == "audio" and media.get("voice"):
        label = "Nota de voz"
    if row.type == "document" and media.get("filename"):
        label = f"Documento: {str(media['filename'])[:120]}"
    if row.type == "location":
        label = " · ".join(str(media[k])[:120] for k in ("name", "address") if media.get(k)) or "Ubicación"
    if row.type == "contacts":
        label = f"Contacto: {row.text}" if row.text else "Contacto"
    if row.type == "unsupported":
        kind = str(media.get("unsupported_type") or "").strip()
        reasons = "; ".join(str(e) for e in media.get("errors") or [])
        label = " · ".join(p for p in (label, f"tipo {kind[:40]}" if kind else "", reasons[:200]) if p)
    if row.type in ("flow_reply", "address") and media.get("unreadable_response"):
        label += " (no se pudo leer la respuesta completa)"
    state = media.get("state", "pending") if row.type in MEDIA_KINDS else None
    if state == "ready" and _file(row):
        return
    with ui.row().classes("items-center gap-1 no-wrap bg-white/70 rounded px-2 py-1").mark("media"):
        ui.icon(icon).classes("text-slate-600")
        ui.label(label).classes("text-sm")
        if state == "pending":
            ui.label("· descargando…").classes("text-xs text-slate-500").mark("media-pending")
        elif state in ("gone", "failed", "evicted"):
            ui.label("· ya no disponible").classes("text-xs text-slate-500").mark("media-unavailable")
    if row.type == "location":
        lat, lng = _coordinate(media.get("latitude")), _coordinate(media.get("longitude"))
        if lat is not None and lng is not None:  # numbers we format ourselves, never the customer's text
            ui.link("Ver en el mapa", f"https://maps.google.com/?q={lat:.6f},{lng:.6f}", new_tab=True).classes(
                "text-sm"
            )


def _file(row: MessageRow) -> bool:
    """The stored file itself, from our authenticated proxy (never Meta's URL): photos and
    stickers preview (click to enlarge), audio and video play here, documents download."""
    src = f"/media/{int(row.id)}"
    if row.type in ("image", "sticker"):
        size = "w-56" if row.type == "image" else "w-28"
        image = ui.image(src).classes(f"{size} max-w-full rounded cursor-zoom-in").props("fit=contain")
        image.on("click", lambda: _enlarge(src))
        image.mark("media-image")
    elif row.type == "audio":
        ui.audio(src).classes("w-64 max-w-full").mark("media-audio")
    elif row.type == "video":
        ui.video(src).classes("w-64 max-w-full").mark("media-video")
    else:
        name = str((row.media or {}).get("filename") or "documento")[:120]
        with ui.row().classes("items-center gap-1 no-wrap bg-white/70 rounded px-2 py-1"):
            ui.icon("description").classes("text-slate-600")
            ui.link(name, src).props("download").classes("text-sm").mark("media-document")
    return True


def _enlarge(src: str) -> None:
    with ui.dialog().props("maximized=false") as dialog, ui.card().classes("p-1"):
        ui.image(src).classes("w-[80vw] max-w-3xl").props("fit=contain").on("click", dialog.close)
    dialog.on("hide", dialog.delete)
    dialog.open()


def _extra(extra: dict[str, Any]) -> None:
    """What WhatsApp says around the message: forwarded, sent in a group, from an ad, errors."""
    marks = []
    if extra.get("forwarded"):
        marks.append("↪ Reenviado muchas veces" if extra["forwarded"] == "frequently" else "↪ Reenviado")
    if extra.get("group_id"):
        marks.append("👥 Escrito en un grupo (el bot no responde)")
    if marks:
        ui.label(" · ".join(marks)).classes("text-[11px] text-slate-500 italic").mark("message-marks")
    referral = extra.get("referral")
    if isinstance(referral, dict):
        name = referral.get("headline") or referral.get("source_id") or "sin título"
        with ui.column().classes("gap-0 bg-fuchsia-50 border-l-2 border-fuchsia-600 rounded px-2 py-1").mark("ad"):
            ui.label(f"📣 Vino del anuncio «{str(name)[:200]}»").classes("text-xs font-semibold text-fuchsia-900")
            if referral.get("body"):
                ui.label(str(referral["body"])[:300]).classes("text-xs text-fuchsia-900")
            url = str(referral.get("source_url") or "")
            if url.startswith(("https://", "http://")):
                link = ui.link("Ver anuncio", "#", new_tab=True).classes("text-xs")
                link._props["href"] = url  # a value, never parsed as props
    if extra.get("errors"):
        ui.label("; ".join(str(e) for e in extra["errors"])[:300]).classes("text-[11px] text-red-700")


def _coordinate(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if -180.0 <= number <= 180.0 else None


def _options(row: MessageRow) -> None:
    if row.direction == "in":  # what the customer tapped
        ui.label("Tocó una opción").classes("text-[11px] text-slate-500")
        return
    kind = "lista" if row.type == "list" else "botones"
    ui.label(f"Opciones ofrecidas ({kind}):").classes("text-[11px] text-slate-500")
    with ui.element("div"):  # chips flow inline in one box
        for option in row.options:
            ui.chip(str(option.get("title") or ""), icon="touch_app").props("outline dense").classes("text-xs").mark(
                "option"
            )


_TICK_CLASSES = "self-end -mb-2"


def _footer(row: MessageRow) -> ui.icon | None:
    tick = None
    if row.reaction:
        ui.label(row.reaction).classes("text-base bg-white rounded-full px-1 shadow w-fit").props(
            'title="Reacción del cliente"'
        ).mark("reaction")
    if row.direction == "out":
        icon, color, tip = TICKS.get(row.status, TICKS["queued"])
        # A title attribute (our constant), not a tooltip element: one element less in every tab.
        tick = (
            ui.icon(icon, size="16px")
            .classes(f"{_TICK_CLASSES} {color}")
            .props(f'title="{tip}"')
            .mark(f"tick-{row.status}")
        )
    if row.status == "failed":
        ui.label(f"No se entregó: {row.error or 'error desconocido'}").classes("text-xs text-red-700").mark(
            "failed-reason"
        )
    elif row.status == "cancelled":
        ui.label("No enviado: el chat ya lo tenía una persona").classes("text-xs text-slate-500 italic").mark(
            "cancelled-reason"
        )
    return tick


def note_card(note: NoteRow) -> ui.element:
    """Internal note: inline in the timeline, but unmistakably not a message to the customer."""
    with ui.element("div").classes(
        "self-center w-[85%] bg-amber-50 border border-dashed border-amber-500 rounded px-3 py-2"
    ) as card:
        with ui.row().classes("items-center gap-1 text-xs text-amber-800 no-wrap"):
            ui.icon("lock", size="14px")
            ui.label(f"Nota interna de {note.author_name} · el cliente no la ve").classes("grow")
            ui.label(stamp(note.created_at))
        ui.label(note.text).classes("whitespace-pre-wrap break-words text-sm").mark("note-text")
    return card.mark(f"note-{note.id}")
