"""Share a product from the composer: search the catalog (THE search, the bot's) and send its card.

The card is `s7.domain.bot.cards.queue_product_card`, the one the bot uses: photo when there is
one, price, installments, the truth about stock and reply buttons, sent as the seller (a takeover
like any seller message). The product becomes the chat's product under discussion, so quick
replies' {producto} and {precio} mean it from then on.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from nicegui import ui

from s7.auth import CurrentUser
from s7.db import session_scope
from s7.domain import catalog
from s7.domain.bot.replies import money
from s7.pages import chat_actions
from s7.pages.layout import io

RESULTS = 8


@dataclass(frozen=True)
class Choice:
    sku: str
    name: str
    price: Decimal
    currency: str
    stock: int
    installments: int | None


def find(query: str) -> list[Choice]:
    with session_scope() as session:
        hits = catalog.search(session, query, limit=RESULTS)
        return [Choice(h.sku, h.name, h.price, h.currency, h.stock, h.installments) for h in hits]


def _stock_text(choice: Choice) -> str:
    return "sin stock" if choice.stock <= 0 else "queda 1" if choice.stock == 1 else f"stock {choice.stock}"


async def open_dialog(conversation_id: int, user: CurrentUser) -> None:
    with ui.dialog() as dialog, ui.card().classes("w-[30rem] max-w-full gap-2"):
        ui.label("Mandar un producto").classes("font-semibold")
        query = (
            ui.input(placeholder="Buscá como el cliente: «nike blancas 42»")
            .props("outlined dense autofocus clearable debounce=250")
            .classes("w-full")
            .mark("product-search")
        )
        results = ui.column().classes("w-full gap-1").mark("product-results")

        async def send(choice: Choice) -> None:
            try:
                await io(chat_actions.send_product, conversation_id, user, choice.sku)
            except chat_actions.ActionRefused as refused:
                ui.notify(str(refused), type="warning")
                return
            ui.notify(f"Mandaste {choice.name}.", type="positive")
            dialog.close()

        async def search() -> None:
            text = (query.value or "").strip()
            found = await io(find, text) if text else []
            results.clear()
            with results:
                if text and not found:
                    ui.label("Nada en el catálogo con eso.").classes("text-sm text-slate-500")
                for choice in found:
                    with (
                        ui.item(on_click=lambda c=choice: send(c))
                        .props("clickable dense")
                        .classes("w-full rounded border border-slate-200")
                        .mark(f"product-{choice.sku}")
                    ):
                        with ui.item_section():
                            ui.item_label(choice.name).classes("text-sm font-medium")
                            cuotas = f" · {choice.installments} cuotas" if choice.installments else ""
                            ui.item_label(
                                f"{money(choice.price, choice.currency)}{cuotas} · {_stock_text(choice)}"
                            ).props("caption")

        query.on_value_change(search)
        ui.button("Cerrar", on_click=dialog.close).props("flat no-caps").classes("self-end")
    dialog.on("hide", dialog.delete)
    dialog.open()
