"""Small display rules shared by the chat list and the chat view (times, badges, ticks)."""

from __future__ import annotations

from datetime import datetime

from s7.clock import now
from s7.config import get_settings

MODE_LABEL = {"BOT_ON": "BOT", "HUMAN_TAKEOVER": "HUMANO"}
MODE_COLOR = {"BOT_ON": "blue-grey-5", "HUMAN_TAKEOVER": "green-7"}
LEAD_LABEL = {"HOT": "🔥 HOT", "HOT_LOST": "HOT_LOST", "WARM": "Tibio"}
LEAD_COLOR = {"HOT": "deep-orange-6", "HOT_LOST": "red-10", "WARM": "amber-7"}

# status → (icon, colour class, tooltip): WhatsApp's ticks, blue once read.
TICKS = {
    "queued": ("schedule", "text-slate-400", "En cola"),
    "sent": ("done", "text-slate-500", "Enviado"),
    "delivered": ("done_all", "text-slate-500", "Entregado"),
    "read": ("done_all", "text-sky-600", "Leído"),
    "failed": ("error", "text-red-600", "No se entregó"),
    "cancelled": ("block", "text-slate-400", "No enviado: el chat ya lo tenía una persona"),
}

MEDIA_LABEL = {
    "image": ("image", "Foto"),
    "audio": ("mic", "Audio"),
    "video": ("movie", "Video"),
    "document": ("description", "Documento"),
    "sticker": ("emoji_emotions", "Sticker"),
    "location": ("place", "Ubicación"),
    "contacts": ("contact_phone", "Contacto"),
    "unsupported": ("help_outline", "Mensaje que WhatsApp no nos muestra"),
}


def local(at: datetime) -> datetime:
    return at.astimezone(get_settings().timezone)


def short_time(at: datetime | None) -> str:
    """'14:05' today, 'ayer', '24/11' earlier (in the store's time zone)."""
    if at is None:
        return ""
    when, today = local(at), local(now())
    if when.date() == today.date():
        return when.strftime("%H:%M")
    if (today.date() - when.date()).days == 1:
        return "ayer"
    return when.strftime("%d/%m")


def stamp(at: datetime) -> str:
    when, today = local(at), local(now())
    return when.strftime("%H:%M") if when.date() == today.date() else when.strftime("%d/%m %H:%M")


def window_text(closes_at: datetime | None) -> str:
    """The 24-hour window countdown, e.g. 'Ventana: 23 h 12 min' / 'Ventana cerrada'."""
    if closes_at is None:
        return "Ventana cerrada: el cliente todavía no escribió"
    left = closes_at - now()
    if left.total_seconds() <= 0:
        return "Ventana cerrada"
    minutes = int(left.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"Ventana: {hours} h {minutes:02d} min" if hours else f"Ventana: {minutes} min"


def local_time(at: datetime) -> str:
    """A moment ahead, as a seller says it: 'hoy 18:30', 'mañana 10:00', '27/11 09:00'."""
    when, today = local(at), local(now())
    days = (when.date() - today.date()).days
    prefix = "hoy" if days == 0 else "mañana" if days == 1 else when.strftime("el %d/%m")
    return f"{prefix} {when.strftime('%H:%M')}"
