"""The dashboard's "¿Cuánto nos costó WhatsApp?" card: the period's cost from real status data,
per sale, per hot lead, per day, chat, seller and ad, and the admin's rate table (editable; the
documented defaults are marked as examples until an admin saves their own)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from nicegui import ui

from s7.auth import CurrentUser
from s7.db import session_scope
from s7.domain import users
from s7.domain.billing import costs
from s7.domain.models import User
from s7.domain.reads import costs as cost_reads
from s7.domain.reads.contact_facts import money
from s7.domain.reads.stats import Period, period_bounds
from s7.pages.layout import io


@dataclass
class Loaded:
    report: cost_reads.CostReport
    rates: list[costs.Rate]


def load(period: Period, viewer_id: int) -> Loaded | None:
    with session_scope() as session:
        try:
            users.require_admin(session, viewer_id)
        except users.NotAllowed:
            return None
        start, end = period_bounds(period)
        return Loaded(cost_reads.report(session, start, end), costs.current_rates(session))


def save_rate(viewer_id: int, category: str, amount: str, currency: str) -> str | None:
    """None when saved, else the reason in Spanish."""
    with session_scope() as session:
        user = session.get(User, viewer_id)
        if user is None or not user.active:
            return "Tu usuario ya no está activo"
        try:
            costs.set_rate(session, category, amount, currency, user=user)
        except (costs.RateError, PermissionError) as exc:
            return str(exc)
    return None


class CostsSection:
    def __init__(self, me: CurrentUser) -> None:
        self.me = me
        self.data: Loaded | None = None
        self.period: Period = "today"

    async def load(self, period: Period) -> None:
        self.period = period
        self.data = await io(load, period, self.me.id)
        self.render.refresh()

    @ui.refreshable_method
    def render(self) -> None:
        data = self.data
        if data is None:
            return
        report = data.report
        cur = report.currency or (data.rates[0].currency if data.rates else "USD")

        def cash(amount: Decimal | None) -> str:
            return "—" if amount is None else money(amount, cur)

        span = "hoy" if self.period == "today" else "estos 7 días"
        with ui.card().classes("w-full gap-3").mark("whatsapp-costs"):
            ui.label(f"¿Cuánto nos costó WhatsApp {span}?").classes("font-semibold")
            with ui.row().classes("w-full gap-3"):
                _kpi("Costo de WhatsApp", cash(report.total), f"{report.billed} mensajes cobrados", "kpi-wa-cost")
                _kpi("Por venta", cash(report.per_sale), f"{report.sales} ventas", "kpi-wa-per-sale")
                _kpi("Por lead caliente", cash(report.per_hot_lead), f"{report.hot_leads} leads", "kpi-wa-per-hot")
                _kpi("Gratis", str(report.free), "mensajes sin cargo (ventana gratis, anuncios)", "kpi-wa-free")
            if report.other_currencies:
                ui.label(
                    "Hay cargos en otra moneda (" + ", ".join(report.other_currencies) + "): no se suman al total."
                ).classes("text-xs text-amber-800")
            with ui.row().classes("w-full gap-4 items-start"):
                for title, lines, marker in (
                    # Labels unlike the rest of the dashboard's ("Por día"...): tests and people
                    # find each card by its words.
                    ("Costo día a día", report.by_day, "wa-cost-days"),
                    ("Chats que más costaron", report.by_chat, "wa-cost-chats"),
                    ("Costo según el vendedor del chat", report.by_seller, "wa-cost-sellers"),
                    ("Costo según el anuncio de origen", report.by_ad, "wa-cost-ads"),
                ):
                    with ui.column().classes("grow basis-56 gap-1 min-w-0").mark(marker):
                        ui.label(title).classes("text-sm text-slate-600")
                        if not lines:
                            ui.label("Sin cargos en el período.").classes("text-sm text-slate-500")
                        for line in lines:
                            with ui.row().classes("w-full justify-between no-wrap"):
                                ui.label(str(line.label)).classes("truncate")
                                ui.label(f"{cash(line.amount)} · {line.messages}").classes("font-semibold")
            self._rates(data.rates)

    def _rates(self, rates: list[costs.Rate]) -> None:
        with ui.expansion("Tarifas por mensaje (editables)", icon="payments").classes("w-full").mark("wa-rates"):
            ui.label(
                "Meta cobra por mensaje entregado según la categoría y el país. Cargá tus tarifas: los cambios "
                "valen desde ahora y no cambian lo ya cobrado. Las que dicen «ejemplo» son valores de referencia "
                "(Argentina 2026, fuente no oficial), no precios de Meta."
            ).classes("text-xs text-slate-600")
            for rate in rates:
                with ui.row().classes("w-full items-center gap-2 no-wrap").mark(f"rate-{rate.category}"):
                    ui.label(costs.CATEGORY_LABELS.get(rate.category, rate.category)).classes("w-72 text-sm")
                    amount = ui.input(value=str(rate.amount.normalize())).props("dense outlined").classes("w-28")
                    currency = ui.input(value=rate.currency).props("dense outlined maxlength=3").classes("w-20")
                    if rate.is_example:
                        ui.badge("ejemplo").props("outline color=amber-9")

                    async def save(c: str = rate.category, a: ui.input = amount, m: ui.input = currency) -> None:
                        error = await io(save_rate, self.me.id, c, str(a.value), str(m.value))
                        if error:
                            ui.notify(error, type="warning")
                        else:
                            ui.notify("Tarifa guardada", type="positive")
                            await self.load(self.period)

                    ui.button("Guardar", on_click=save).props("dense flat no-caps").mark(f"save-rate-{rate.category}")


def _kpi(title: str, value: str, caption: str, marker: str) -> None:
    with ui.card().classes("grow basis-40 gap-0").mark(marker):
        ui.label(title).classes("text-sm text-slate-500")
        ui.label(value).classes("text-2xl font-bold text-slate-800").mark(f"{marker}-value")
        ui.label(caption).classes("text-xs text-slate-500")
