"""The strip under the open chat's title: who the customer is for WhatsApp (@username when there is
no phone), the ad that brought them, consent, the seller's block (with its button) and, for
admins, what WhatsApp has cost in this chat so far.

Meta's and the customer's text only goes into labels; the ad link is used only when it is http(s).
"""

from __future__ import annotations

from nicegui import ui

from s7.auth import CurrentUser
from s7.db import session_scope
from s7.domain.chats import consent
from s7.domain.models import Conversation, User
from s7.domain.reads.contact_facts import ContactFacts, money
from s7.pages.layout import io


def set_blocked(conversation_id: int, user_id: int, blocked: bool) -> bool:
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id)
        user = session.get(User, user_id)
        if conversation is None or user is None or not user.active:
            return False
        action = consent.block if blocked else consent.unblock
        return action(session, conversation.contact, user)


class FactsStrip:
    def __init__(self, conversation_id: int, user: CurrentUser) -> None:
        self.conversation_id = conversation_id
        self.user = user
        self.blocked = False
        with ui.row().classes("w-full items-center gap-2 text-xs").mark("chat-facts") as self.row:
            self.who = ui.label().classes("text-slate-600").mark("chat-who")
            with ui.row().classes("items-center gap-1 no-wrap") as self.ad_box:
                ui.icon("campaign", size="16px").classes("text-fuchsia-700")
                self.ad = ui.label().classes("text-fuchsia-800").mark("chat-ad")
                self.ad_link = (
                    ui.link("ver anuncio", "#", new_tab=True).classes("text-fuchsia-800").mark("chat-ad-link")
                )
            self.opted_out = ui.badge("No quiere promociones").props("outline color=orange-9").mark("chat-opted-out")
            self.blocked_badge = ui.badge("Bloqueado: el bot no responde").props("color=red-9").mark("chat-blocked")
            self.cost = ui.label().classes("text-slate-600").mark("chat-cost")
            ui.space()
            self.block_button = (
                ui.button(on_click=self._toggle).props("flat dense no-caps size=sm color=red-9").mark("block")
            )

    def paint(self, facts: ContactFacts | None) -> None:
        self.row.set_visibility(facts is not None)
        if facts is None:
            return
        who = [f"@{facts.username}"] if facts.username else []
        if not facts.phone:
            who.append("sin número (WhatsApp no lo comparte)")
        self.who.set_text(" · ".join(who))
        self.who.set_visibility(bool(who))
        self.ad_box.set_visibility(facts.ad_label is not None)
        self.ad.set_text(facts.ad_label or "")
        self.ad_link.set_visibility(facts.ad_url is not None)
        if facts.ad_url:  # set as a value, never parsed as a props string
            self.ad_link._props["href"] = facts.ad_url
            self.ad_link.update()
        self.opted_out.set_visibility(facts.opted_out)
        self.blocked = facts.blocked
        self.blocked_badge.set_visibility(facts.blocked)
        self.block_button.set_text("Desbloquear" if facts.blocked else "Bloquear")
        admin = self.user.role == "admin"
        self.cost.set_visibility(admin)
        if admin:
            spent = money(facts.cost, facts.cost_currency) if facts.cost_currency else "sin cargos todavía"
            self.cost.set_text(
                f"WhatsApp: {spent}" + (f" ({facts.billed_messages} cobrados)" if facts.billed_messages else "")
            )

    async def _toggle(self) -> None:
        wanted = not self.blocked
        if wanted:
            with ui.dialog() as dialog, ui.card():
                ui.label("¿Bloquear a este cliente?").classes("font-semibold")
                ui.label(
                    "El bot y los mensajes automáticos dejan de escribirle. Sus mensajes se siguen guardando y "
                    "mostrando acá."
                ).classes("text-sm")
                with ui.row():
                    ui.button("Cancelar", on_click=lambda: dialog.submit(False)).props("flat")
                    ui.button("Bloquear", on_click=lambda: dialog.submit(True)).props("color=red-9").mark(
                        "block-confirm"
                    )
            if not await dialog:
                return
        await io(set_blocked, self.conversation_id, self.user.id, wanted)
