"""Small display rules shared by the chat list and the chat view (times, badges, ticks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from s7.clock import now
from s7.config import get_settings
from s7.domain.bot.replies import money
from s7.domain.chats.outcomes import RESULTS

# Human labels; the API keeps the enum values (HOT, HOT_LOST, BOT_ON...).
LEAD_LABEL = {"HOT": "🔥 Caliente", "HOT_LOST": "Perdido", "WARM": "Tibio", "NONE": "Sin interés aún"}
LEAD_COLOR = {"HOT": "deep-orange-6", "HOT_LOST": "red-10", "WARM": "amber-7", "NONE": "blue-grey-4"}


@dataclass(frozen=True)
class Owner:
    """Who has the chat, in one line: the same words in the list row and the chat header."""

    text: str
    icon: str
    color: str  # a Quasar colour name


def owner(mode: str, assignee_name: str | None, human_source: str | None, awaiting_human: bool) -> Owner:
    """ "Bot", "Vendedor: Ana", "Esperando vendedor", "App del celular"... never two at once."""
    if mode == "HUMAN_TAKEOVER":
        if assignee_name:
            return Owner(f"Vendedor: {assignee_name}", "person", "green-8")
        if human_source == "business_app":
            return Owner("App del celular", "smartphone", "green-8")
        return Owner("Una persona (sin asignar)", "person_outline", "green-8")
    if awaiting_human:
        waiting = f"Esperando a {assignee_name}" if assignee_name else "Esperando vendedor"
        return Owner(waiting, "hourglass_top", "purple-7")
    if assignee_name:
        return Owner(f"Bot (asignado a {assignee_name})", "smart_toy", "blue-grey-6")
    return Owner("Bot", "smart_toy", "blue-grey-6")


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
    "unsupported": ("help_outline", "Mensaje no soportado: WhatsApp no nos muestra su contenido"),
    "flow_reply": ("assignment", "Respondió un formulario"),
    "address": ("home", "Mandó su dirección"),
    "call_permission": ("call", "Permiso para llamar"),
    "order": ("shopping_cart", "Pedido del catálogo"),
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


OUTCOME_COLOR = {"won": "teal-8", "lost": "red-9", "none": "blue-grey-6"}


def outcome_text(result: str, amount: Decimal | None, reason: str | None) -> str:
    """The chat's last outcome: 'Vendido · $ 189.999', 'Perdido · Precio', 'Sin resultado'."""
    label = RESULTS.get(result, result)
    detail = money(amount) if result == "won" and amount is not None else reason if result == "lost" else None
    return f"{label} · {detail}" if detail else label


def followup_text(due_at: datetime, by: str) -> str:
    """The chat's pending reminder: 'Recordatorio de Ana: mañana 10:00'."""
    return f"Recordatorio de {by}: {local_time(due_at)}"
