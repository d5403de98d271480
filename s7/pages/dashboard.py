"""/dashboard: today / last 7 days — conversations, hot leads, taken vs lost, human response time,
per seller, with charts (ECharts). Admins only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import Request
from nicegui import ui

from s7 import realtime
from s7.auth import CurrentUser
from s7.db import session_scope
from s7.domain import users
from s7.domain.chats.outcomes import SOURCES
from s7.domain.reads import stats as stats_domain
from s7.domain.reads.sales import Conversion
from s7.domain.reads.stats import DashboardStats, Period
from s7.pages.dashboard_costs import CostsSection
from s7.pages.dashboard_costs import load as load_costs
from s7.pages.layout import frame, io, live
from s7.pages.words import count

PERIODS: dict[str, str] = {"today": "Hoy", "week": "Últimos 7 días"}
# Chat activity that can move a figure; a burst of them reloads once (see Dashboard._tick).
_RELEVANT = {"message", "conversation", "alert", "resync"}
REFRESH_SECONDS = 5.0
COLORS = {"conversations": "#0f766e", "hot": "#f59e0b", "lost": "#dc2626", "waiting": "#94a3b8", "seller": "#334155"}


def _load(period: Period, viewer_id: int) -> DashboardStats | None:
    """The figures, or None when the viewer is no longer an active admin (re-checked each reload)."""
    with session_scope() as session:
        try:
            users.require_admin(session, viewer_id)
        except users.NotAllowed:
            return None
        return stats_domain.dashboard(session, period)


def format_duration(seconds: float | None) -> str:
    """45 s · 6 min · 1 h 20 min · — (no data)."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


# ---- chart options (plain data: names are values, never option keys or HTML) ----------------------
# Tooltips render as canvas rich text, not HTML, because seller names are typed by people.
_TOOLTIP = {"trigger": "axis", "renderMode": "richText"}


def series_chart(data: DashboardStats) -> dict[str, Any]:
    labels = [b.label for b in data.series]
    return {
        "animation": False,
        "tooltip": _TOOLTIP,
        "legend": {"top": 0},
        "grid": {"left": 40, "right": 16, "top": 36, "bottom": 28},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {
                "name": "Conversaciones",
                "type": "bar",
                "data": [b.conversations for b in data.series],
                "itemStyle": {"color": COLORS["conversations"]},
            },
            {
                "name": "Leads calientes",
                "type": "bar",
                "data": [b.hot_leads for b in data.series],
                "itemStyle": {"color": COLORS["hot"]},
            },
            {
                "name": "Perdidos",
                "type": "bar",
                "data": [b.hot_lost for b in data.series],
                "itemStyle": {"color": COLORS["lost"]},
            },
        ],
    }


def outcome_chart(data: DashboardStats) -> dict[str, Any]:
    return {
        "animation": False,
        "tooltip": {"trigger": "item", "renderMode": "richText"},
        "legend": {"bottom": 0},
        "series": [
            {
                "name": "Leads calientes",
                "type": "pie",
                "radius": ["45%", "70%"],
                "label": {"position": "inside", "formatter": "{c}", "color": "#fff", "fontWeight": "bold"},
                "minShowLabelAngle": 1,  # no "0" label on an empty slice
                "data": [
                    {"name": "Tomados", "value": data.taken, "itemStyle": {"color": COLORS["conversations"]}},
                    {"name": "Perdidos", "value": data.lost, "itemStyle": {"color": COLORS["lost"]}},
                    {"name": "Esperando", "value": data.waiting, "itemStyle": {"color": COLORS["waiting"]}},
                ],
            }
        ],
    }


def sellers_chart(data: DashboardStats) -> dict[str, Any]:
    people = list(reversed(data.sellers))  # best at the top of a horizontal bar chart
    return {
        "animation": False,
        "tooltip": _TOOLTIP,
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 24, "top": 36, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "data": [p.name for p in people]},
        "series": [
            {
                "name": "Leads tomados",
                "type": "bar",
                "data": [p.leads_taken for p in people],
                "itemStyle": {"color": COLORS["hot"]},
            },
            {
                "name": "Tomas",
                "type": "bar",
                "data": [p.takeovers for p in people],
                "itemStyle": {"color": COLORS["conversations"]},
            },
            {
                "name": "Mensajes",
                "type": "bar",
                "data": [p.messages for p in people],
                "itemStyle": {"color": COLORS["seller"]},
            },
        ],
    }


# ---- the page -------------------------------------------------------------------------------------


class Dashboard:
    def __init__(self, me: CurrentUser) -> None:
        self.me = me
        self.period: Period = "today"
        self.data: DashboardStats | None = None
        self.dirty = False

    async def build(self) -> None:
        self.data = await io(_load, self.period, self.me.id)
        self.costs = CostsSection(self.me)
        self.costs.data = await io(load_costs, self.period, self.me.id)
        with ui.column().classes("w-full max-w-6xl mx-auto p-4 gap-4"):
            with ui.row().classes("w-full items-center"):
                ui.label("Tablero").classes("text-2xl font-bold")
                ui.space()
                ui.toggle(PERIODS, value=self.period, on_change=lambda e: self.show(e.value)).props(
                    'no-caps unelevated toggle-color=primary data-testid="period"'
                ).mark("period")
            self.content()
            self.costs.render()
            with ui.expansion("¿Cómo se calcula cada número?", icon="help_outline").classes("w-full text-slate-600"):
                for line in _DEFINITIONS:
                    ui.label(line).classes("text-sm")
        live(self._on_event)
        ui.timer(REFRESH_SECONDS, self._tick)

    async def show(self, period: Period) -> None:
        self.period = period
        await self.reload()

    async def reload(self) -> None:
        self.dirty = False
        self.data = await io(_load, self.period, self.me.id)
        self.content.refresh()
        await self.costs.load(self.period)

    def _on_event(self, event: realtime.Event) -> None:
        if event.kind in _RELEVANT:
            self.dirty = True

    async def _tick(self) -> None:
        if self.dirty:
            await self.reload()

    @ui.refreshable_method
    def content(self) -> None:
        data = self.data
        if data is None:
            ui.label("Ya no tenés permiso para ver el tablero.").classes("text-red-700").mark("no-longer-admin")
            return
        with ui.row().classes("w-full gap-3").mark("kpis"):
            _kpi(
                "Conversaciones",
                str(data.conversations),
                count(data.new_conversations, "nueva", "nuevas"),
                "kpi-conversations",
            )
            _kpi("Leads calientes", str(data.hot_leads), f"{data.waiting} esperando", "kpi-hot")
            _kpi("Tomados", str(data.taken), _share(data.taken, data.hot_leads), "kpi-taken")
            _kpi("Perdidos", str(data.hot_lost), _share(data.lost, data.hot_leads), "kpi-lost")
            _kpi(
                "Respuesta humana",
                format_duration(data.median_response_seconds),
                "mediana de " + count(len(data.response_seconds), "respuesta", "respuestas"),
                "kpi-response",
            )
        _sales(data)
        with ui.row().classes("w-full gap-4 items-stretch"):
            with ui.card().classes("grow basis-96"):
                ui.label("Por hora" if data.period == "today" else "Por día").classes("font-semibold")
                ui.echart(series_chart(data)).classes("w-full h-64").props('data-testid="chart-series"').mark(
                    "chart-series"
                )
            with ui.card().classes("w-80 max-sm:w-full"):
                ui.label("Leads calientes: ¿quién ganó?").classes("font-semibold")
                ui.echart(outcome_chart(data)).classes("w-full h-64").props('data-testid="chart-outcome"').mark(
                    "chart-outcome"
                )
        with ui.card().classes("w-full"):
            ui.label("Por vendedor").classes("font-semibold")
            if not data.sellers:
                ui.label("Todavía no hay vendedores.").classes("text-slate-500")
                return
            with ui.row().classes("w-full gap-4 items-start"):
                height = max(160, 44 * len(data.sellers) + 60)
                ui.echart(sellers_chart(data)).classes("grow basis-96").style(f"height: {height}px").props(
                    'data-testid="chart-sellers"'
                ).mark("chart-sellers")
                _seller_table(data)


def _kpi(title: str, value: str, caption: str, marker: str) -> None:
    with ui.card().classes("grow basis-40 gap-0").mark(marker):
        ui.label(title).classes("text-sm text-slate-500")
        ui.label(value).classes("text-3xl font-bold text-slate-800").props(f'data-testid="{marker}-value"').mark(
            f"{marker}-value"
        )
        ui.label(caption).classes("text-xs text-slate-500")


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}% de los leads" if whole else "sin leads todavía"


def _seller_table(data: DashboardStats) -> None:
    columns = [
        {"name": "name", "label": "Vendedor", "field": "name", "align": "left"},
        {"name": "leads_taken", "label": "Leads tomados", "field": "leads_taken"},
        {"name": "takeovers", "label": "Tomas", "field": "takeovers"},
        {"name": "messages", "label": "Mensajes", "field": "messages"},
        {"name": "response", "label": "Respuesta (mediana)", "field": "response"},
    ]
    rows = [
        {
            "id": s.user_id,
            "name": s.name,
            "leads_taken": s.leads_taken,
            "takeovers": s.takeovers,
            "messages": s.messages,
            "response": format_duration(s.median_response_seconds),
        }
        for s in data.sellers
    ]
    ui.table(columns=columns, rows=rows, row_key="id").props('flat dense data-testid="seller-table"').classes(
        "grow basis-96"
    ).mark("seller-table")


def money(amount: Decimal) -> str:
    """$ 1.234.567 (whole pesos, Argentine thousands separator)."""
    return "$ " + f"{amount:,.0f}".replace(",", ".")


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{round(100 * value)}%"


def _sales(data: DashboardStats) -> None:
    sales = data.sales
    with ui.card().classes("w-full gap-3").mark("sales"):
        ui.label("Ventas").classes("font-semibold")
        with ui.row().classes("w-full gap-3"):
            _kpi("Ventas", str(sales.sales), money(sales.revenue), "kpi-sales")
            _kpi("Facturación", money(sales.revenue), count(sales.sales, "venta", "ventas"), "kpi-revenue")
            _kpi(
                "Conversión de leads calientes",
                _rate(sales.conversion),
                f"{sales.hot_won} de {count(sales.hot_closed, 'cerrado', 'cerrados')}",
                "kpi-conversion",
            )
            _kpi(
                "Tiempo a la venta",
                format_duration(sales.median_seconds_to_sale),
                "mediana desde que el lead se puso caliente",
                "kpi-time-to-sale",
            )
        columns = [
            {"name": "label", "label": "", "field": "label", "align": "left"},
            {"name": "conversion", "label": "Conversión", "field": "conversion"},
            {"name": "won", "label": "Ganados / cerrados", "field": "won"},
            {"name": "revenue", "label": "Facturación", "field": "revenue"},
        ]

        def rows(items: list[Conversion]) -> list[dict[str, object]]:
            return [
                {
                    "id": c.key or "-",
                    "label": SOURCES.get(c.key, c.label),
                    "conversion": _rate(c.rate),
                    "won": f"{c.hot_won} / {c.hot_closed}",
                    "revenue": money(c.revenue),
                }
                for c in items
            ]

        with ui.row().classes("w-full gap-4 items-start"):
            for title, items, marker in (
                ("Por vendedor", sales.sellers, "sales-sellers"),
                ("Por origen", sales.sources, "sales-sources"),
            ):
                with ui.column().classes("grow basis-72 gap-1 min-w-0"):
                    ui.label(title).classes("text-sm text-slate-600")
                    labelled = [dict(columns[0], label="Vendedor" if marker == "sales-sellers" else "Origen")]
                    ui.table(columns=labelled + columns[1:], rows=rows(items), row_key="id").props(
                        f'flat dense data-testid="{marker}"'
                    ).classes("w-full").mark(marker)
            with ui.column().classes("grow basis-56 gap-1 min-w-0").mark("reasons-lost"):
                ui.label("Por qué se perdieron").classes("text-sm text-slate-600")
                if not sales.reasons:
                    ui.label("Ninguna venta perdida en el período.").classes("text-sm text-slate-500")
                for reason, times in sales.reasons:
                    with ui.row().classes("w-full justify-between no-wrap"):
                        ui.label(reason).classes("truncate")
                        ui.label(str(times)).classes("font-semibold")


_DEFINITIONS = (
    "Conversaciones: chats en los que el cliente escribió en el período (nuevas: primer contacto en el período).",
    "Leads calientes: chats que pasaron a caliente en el período. Un perdido recuperado por un vendedor "
    "no cuenta de nuevo.",
    "Tomados / perdidos / esperando: lo primero que le pasó a cada lead caliente — lo tomó una persona, "
    "se marcó perdido porque nadie lo tomó a tiempo, o todavía nada.",
    "Perdidos: leads calientes que nadie tomó a tiempo (el bot siguió), en el período.",
    "Respuesta humana: desde el mensaje del cliente que necesitaba a una persona (o desde que el bot pidió "
    "un vendedor) hasta la primera respuesta de un vendedor o de la app de WhatsApp Business. Mediana de las "
    "respuestas del período.",
    "Ventas y facturación: los «vendido» que los vendedores registraron en el período y la suma de sus montos.",
    "Conversión de leads calientes: de los episodios con lead caliente cerrados en el período (vendido, perdido "
    "o sin resultado), cuántos terminaron en venta; por vendedor (quien registró el resultado) y por origen "
    "(Bot: lo encontró el bot; Anuncio: el cliente vino de un anuncio; Orgánico: ninguno de los dos).",
    "Tiempo a la venta: desde que el lead se puso caliente (o desde que empezó el episodio) hasta la venta; mediana.",
    "Costo de WhatsApp: lo que Meta informa en cada aviso de estado («pricing»): cada mensaje enviado se cobra una "
    "vez, con la tarifa vigente en ese momento; los gratuitos (ventana de atención, 72 h de anuncios) suman cero. "
    "Por venta y por lead caliente: el costo del período dividido por las ventas / leads calientes del período.",
)


@ui.page("/dashboard")
async def dashboard_page(request: Request) -> None:
    with frame(request, "Tablero", admin_only=True) as me:
        if me is None:
            return
        await Dashboard(me).build()
