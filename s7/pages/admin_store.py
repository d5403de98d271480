"""/admin/tienda and /admin/vocabulario: what is true about the store, and the customers' own words.

The bot states store facts only from what is saved on "Tienda"; anything left empty is answered
with "un vendedor te confirma" (DESIGN rule 11). "Vocabulario" teaches search the customers'
words ("cuando digan X, buscá Y") with a live preview of the bot's answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from nicegui import ui

from s7.config import get_settings
from s7.db import session_scope
from s7.domain.bot.preview import preview
from s7.domain.store import profile as store_profile
from s7.pages.layout import frame, io

_PICKUP = {"yes": "Sí, se puede retirar", "no": "No hay retiro", "unset": "Sin completar (un vendedor confirma)"}
_SHIPPING = {
    "zones": "Por zonas (con costo)",
    "coordinate": "A coordinar con un vendedor",
    "none": "No hacemos envíos",
    "unset": "Sin completar (un vendedor confirma)",
}


def _load() -> dict[str, Any]:
    with session_scope() as session:
        return dict(store_profile.load(session).data)


def _save(user_id: int, data: dict[str, Any]) -> None:
    with session_scope() as session:
        store_profile.save(session, data, user_id=user_id)


def _preview(text: str, entries: list[tuple[str, str]]) -> str:
    with session_scope() as session:
        reply = preview(session, text, entries)
    if reply is None:
        return "(el bot no responde a eso)"
    titles = [o["title"] for o in reply.options]
    return reply.text + ("\n" + " · ".join(f"[{t}]" for t in titles) if titles else "")


# ---- "Tienda" ---------------------------------------------------------------------------------------
def zones_text(zones: list[dict[str, Any]]) -> str:
    lines = []
    for zone in zones:
        cost = "" if zone.get("cost") is None else f"{zone['cost']:g}"
        lines.append(" | ".join(p for p in (zone["name"], cost, zone.get("days") or "") if p is not None).rstrip(" |"))
    return "\n".join(lines)


def zones_from(text: str) -> list[dict[str, Any]]:
    """ "CABA | 4500 | 24 a 48 h" per line → zones (cost may be empty: a coordinar)."""
    zones = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if not parts[0]:
            continue
        cost = parts[1].replace("$", "").replace(".", "").replace(",", ".").strip() if len(parts) > 1 else ""
        zones.append({"name": parts[0], "cost": cost or None, "days": parts[2] if len(parts) > 2 else ""})
    return zones


def faq_text(faq: list[dict[str, Any]]) -> str:
    return "\n".join(f"{'; '.join(e['questions'])} => {e['answer']}" for e in faq)


def faq_from(text: str) -> list[dict[str, Any]]:
    """ "hacen factura; factura a => Sí, factura A y B." per line."""
    entries = []
    for line in text.splitlines():
        if not line.strip():
            continue
        questions, _, answer = line.partition("=>")
        entries.append({"questions": [q.strip() for q in questions.split(";") if q.strip()], "answer": answer.strip()})
    return entries


class StorePage:
    def __init__(self, me_id: int) -> None:
        self.me_id = me_id
        self.data: dict[str, Any] = {}

    async def build(self) -> None:
        self.data = await io(_load)
        d = self.data
        with ui.column().classes("w-full max-w-3xl mx-auto p-4 gap-4"):
            ui.label("Tienda").classes("text-2xl font-bold")
            ui.label(
                "Lo que el bot puede decir de tu tienda. Lo que dejes vacío, el bot no lo inventa: "
                "responde que un vendedor te confirma y avisa al equipo."
            ).classes("text-slate-600")
            with ui.card().classes("w-full"):
                ui.label("Datos").classes("font-semibold")
                self.name = ui.input("Nombre de la tienda", value=d.get("name", "")).classes("w-full").mark("name")
                self.address = ui.input("Dirección", value=d.get("address", "")).classes("w-full").mark("address")
                self.map_url = ui.input("Link del mapa (https://…)", value=d.get("map_url", "")).classes("w-full")
            with ui.card().classes("w-full"):
                ui.label("Horarios").classes("font-semibold")
                default = get_settings().BUSINESS_HOURS
                self.hours = (
                    ui.input("Horarios", value=d.get("hours", ""), placeholder=default).classes("w-full").mark("hours")
                )
                ui.label(
                    f"Como «mon-fri 09:00-19:00, sat 10:00-14:00». Vacío: se usa {default} (BUSINESS_HOURS) "
                    "para los avisos fuera de horario, pero el bot no dice horarios hasta que los cargues."
                ).classes("text-xs text-slate-500")
                self.closed = ui.input(
                    "Feriados y días cerrados (AAAA-MM-DD, separados por coma)",
                    value=", ".join(d.get("closed_days", [])),
                ).classes("w-full")
                vacation = d.get("vacation") or {}
                with ui.row().classes("items-center gap-4 w-full"):
                    self.vacation_on = ui.switch("Modo vacaciones", value=bool(vacation.get("on"))).mark("vacation")
                    self.vacation_until = ui.input("Hasta (AAAA-MM-DD)", value=vacation.get("until") or "")
                self.vacation_message = ui.input(
                    "Mensaje de vacaciones (opcional)", value=vacation.get("message", "")
                ).classes("w-full")
            with ui.card().classes("w-full"):
                ui.label("Retiro y envíos").classes("font-semibold")
                pickup = d.get("pickup") or {}
                state = {True: "yes", False: "no"}.get(pickup.get("available"), "unset")
                self.pickup = ui.select(_PICKUP, value=state, label="Retiro en el local").classes("w-full")
                self.pickup_details = ui.input("Detalle del retiro", value=pickup.get("details", "")).classes("w-full")
                shipping = d.get("shipping") or {}
                self.shipping = (
                    ui.select(_SHIPPING, value=shipping.get("mode") or "unset", label="Envíos")
                    .classes("w-full")
                    .mark("shipping")
                )
                self.zones = (
                    ui.textarea(
                        "Zonas: una por línea, «zona | costo | demora» (costo vacío = a coordinar)",
                        value=zones_text(shipping.get("zones", [])),
                    )
                    .classes("w-full")
                    .mark("zones")
                )
                self.shipping_notes = ui.input("Aclaración de envíos", value=shipping.get("notes", "")).classes(
                    "w-full"
                )
            with ui.card().classes("w-full"):
                ui.label("Pagos, cuotas y cambios").classes("font-semibold")
                self.payments = (
                    ui.input("Medios de pago (separados por coma)", value=", ".join(d.get("payment_methods", [])))
                    .classes("w-full")
                    .mark("payments")
                )
                self.installments = ui.input("Cuotas (política general)", value=d.get("installments", "")).classes(
                    "w-full"
                )
                self.returns = ui.input("Cambios y devoluciones", value=d.get("returns", "")).classes("w-full")
            with ui.card().classes("w-full"):
                ui.label("Preguntas frecuentes").classes("font-semibold")
                self.faq = (
                    ui.textarea(
                        "Una por línea: «preguntas que la disparan; separadas por punto y coma => respuesta»",
                        value=faq_text(d.get("faq", [])),
                    )
                    .classes("w-full")
                    .mark("faq")
                )
            ui.button("Guardar", icon="save", on_click=self.save).props("unelevated no-caps").mark("save")

    def collected(self) -> dict[str, Any]:
        pickup = {"yes": True, "no": False}.get(self.pickup.value)
        return {
            **{k: v for k, v in self.data.items() if k == "vocabulary"},
            "name": self.name.value,
            "address": self.address.value,
            "map_url": self.map_url.value,
            "hours": self.hours.value,
            "closed_days": [d.strip() for d in (self.closed.value or "").split(",") if d.strip()],
            "vacation": {
                "on": bool(self.vacation_on.value),
                "until": (self.vacation_until.value or "").strip() or None,
                "message": self.vacation_message.value,
            },
            "pickup": {"available": pickup, "details": self.pickup_details.value},
            "shipping": {
                "mode": None if self.shipping.value == "unset" else self.shipping.value,
                "zones": zones_from(self.zones.value or ""),
                "notes": self.shipping_notes.value,
            },
            "payment_methods": [p.strip() for p in (self.payments.value or "").split(",") if p.strip()],
            "installments": self.installments.value,
            "returns": self.returns.value,
            "faq": faq_from(self.faq.value or ""),
        }

    async def save(self) -> None:
        try:
            await io(_save, self.me_id, self.collected())
        except store_profile.ProfileError as exc:
            ui.notify(str(exc), type="negative")
            return
        self.data = await io(_load)
        ui.notify("Guardado: el bot ya responde con estos datos.", type="positive")


@ui.page("/admin/tienda")
async def admin_store_page(request: Request) -> None:
    with frame(request, "Tienda", admin_only=True) as me:
        if me is not None:
            await StorePage(me.id).build()


# ---- "Vocabulario" -----------------------------------------------------------------------------------
class VocabularyPage:
    def __init__(self, me_id: int) -> None:
        self.me_id = me_id
        self.entries: list[dict[str, str]] = []

    async def build(self) -> None:
        data = await io(_load)
        self.entries = [dict(e) for e in data.get("vocabulary", [])]
        with ui.column().classes("w-full max-w-3xl mx-auto p-4 gap-4"):
            ui.label("Vocabulario").classes("text-2xl font-bold")
            ui.label(
                "Las palabras de tus clientes. Si escriben «compu» y tu catálogo dice «notebook», "
                "agregá: cuando digan «compu», buscá «notebook». El bot ya entiende muchas (auris, zapas, celu…)."
            ).classes("text-slate-600")
            with ui.card().classes("w-full"):
                with ui.row().classes("items-end gap-2 w-full"):
                    self.say = ui.input("Cuando digan…").classes("flex-1").mark("say")
                    self.search = ui.input("…buscá").classes("flex-1").mark("search")
                    ui.button("Agregar", icon="add", on_click=self.add).props("unelevated no-caps").mark("add")
                self.listing = ui.column().classes("w-full gap-1")
                self.render()
                ui.button("Guardar", icon="save", on_click=self.save).props("unelevated no-caps").mark("save")
            with ui.card().classes("w-full"):
                ui.label("Probá cómo respondería el bot").classes("font-semibold")
                self.trial = (
                    ui.input("Mensaje de un cliente", placeholder="tenés una compu para la facu?")
                    .classes("w-full")
                    .mark("trial")
                )
                self.answer = ui.label("").classes("whitespace-pre-line text-slate-700").mark("preview")
                self.trial.on_value_change(self.refresh_preview)

    def render(self) -> None:
        self.listing.clear()
        with self.listing:
            if not self.entries:
                ui.label("Todavía no agregaste palabras.").classes("text-sm text-slate-500")
            for index, entry in enumerate(self.entries):
                with ui.row().classes("items-center gap-2"):
                    ui.label(f"Cuando digan «{entry['say']}», buscá «{entry['search']}»").mark("entry")
                    ui.button(icon="delete", on_click=lambda i=index: self.remove(i)).props("flat round dense")

    async def add(self) -> None:
        say, search = (self.say.value or "").strip(), (self.search.value or "").strip()
        if not say or not search:
            ui.notify("Completá las dos partes: cuando digan… y buscá…", type="warning")
            return
        self.entries = [e for e in self.entries if e["say"].casefold() != say.casefold()] + [
            {"say": say, "search": search}
        ]
        self.say.value = self.search.value = ""
        self.render()
        await self.refresh_preview()

    async def remove(self, index: int) -> None:
        del self.entries[index]
        self.render()
        await self.refresh_preview()

    async def refresh_preview(self, *_: object) -> None:
        text = (self.trial.value or "").strip()
        if not text:
            self.answer.set_text("")
            return
        pairs = [(e["say"], e["search"]) for e in self.entries]
        self.answer.set_text(await io(_preview, text, pairs))

    async def save(self) -> None:
        data = await io(_load)
        try:
            await io(_save, self.me_id, {**data, "vocabulary": self.entries})
        except store_profile.ProfileError as exc:
            ui.notify(str(exc), type="negative")
            return
        ui.notify("Guardado: la búsqueda ya usa estas palabras.", type="positive")


@ui.page("/admin/vocabulario")
async def admin_vocabulary_page(request: Request) -> None:
    with frame(request, "Vocabulario", admin_only=True) as me:
        if me is not None:
            await VocabularyPage(me.id).build()
