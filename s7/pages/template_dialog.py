"""The template picker: the approved templates of the WABA, a field per variable, a live
preview, send. Shown when the 24-hour window is closed (the only way to reach the customer then)
and on demand; admins can re-sync the list from Meta here."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from s7.auth import CurrentUser
from s7.domain.chats.templates import PARAM_MAX, USE_LABEL, TemplateView
from s7.pages import chat_actions
from s7.pages.layout import io


async def open_dialog(conversation_id: int, user: CurrentUser) -> None:
    found: list[TemplateView] = await io(chat_actions.load_templates)
    with ui.dialog() as dialog, ui.card().classes("w-[30rem] max-w-full gap-2").mark("template-dialog"):
        ui.label("Mandar una plantilla").classes("font-semibold")
        ui.label(
            "Las plantillas aprobadas por WhatsApp se pueden mandar aunque la ventana de 24 horas esté cerrada. "
            "Si escribís vos, tomás el chat."
        ).classes("text-xs text-slate-500")
        body = ui.column().classes("w-full gap-2")

        def build(templates: list[TemplateView]) -> None:
            body.clear()
            with body:
                if not templates:
                    ui.label("No hay plantillas aprobadas todavía.").classes("text-sm").mark("no-templates")
                    return
                _picker(templates, conversation_id, user, dialog)

        async def sync() -> None:
            from s7.whatsapp import templates as template_sync

            try:
                report = await io(template_sync.sync)
            except template_sync.TemplateSyncError as exc:
                ui.notify(str(exc), type="negative", multi_line=True)
                return
            ui.notify(f"Plantillas sincronizadas: {report.approved} aprobadas", type="positive")
            build(await io(chat_actions.load_templates))

        build(found)
        if user.is_admin:
            _job_choices(found, user)
        with ui.row().classes("w-full justify-between items-center"):
            if user.is_admin:
                ui.button("Sincronizar", icon="sync", on_click=sync).props("flat no-caps").mark("template-sync")
            else:
                ui.label("¿Falta una? Pedile a un admin que sincronice.").classes("text-xs text-slate-500")
            ui.button("Cerrar", on_click=dialog.close).props("flat no-caps")
    dialog.on("hide", dialog.delete)
    dialog.open()


def _picker(templates: list[TemplateView], conversation_id: int, user: CurrentUser, dialog: ui.dialog) -> None:
    by_key = {f"{t.name}|{t.language}": t for t in templates}
    state: dict[str, Any] = {"template": None, "inputs": []}
    fields = ui.column().classes("w-full gap-1")
    preview = (
        ui.label("").classes("text-sm whitespace-pre-wrap bg-green-50 rounded p-2 w-full").mark("template-preview")
    )

    def refresh_preview() -> None:
        template: TemplateView | None = state["template"]
        if template is None:
            preview.set_text("")
            return
        typed = zip(state["inputs"], template.variables, strict=True)
        values = [(field.value or "").strip() or f"{{{{{name}}}}}" for field, name in typed]
        preview.set_text(template.render(values))

    def chosen(event: Any) -> None:
        template = by_key.get(event.value)
        state["template"], state["inputs"] = template, []
        fields.clear()
        with fields:
            for number, name in enumerate(template.variables if template else [], 1):
                label = f"Dato {number}" if name.isdigit() else name
                state["inputs"].append(
                    ui.input(label, on_change=refresh_preview)
                    .props(f"dense outlined maxlength={PARAM_MAX}")
                    .classes("w-full")
                    .mark(f"template-param-{number}")
                )
        refresh_preview()
        send_button.enable()

    options = {key: f"{t.name} ({t.language})" for key, t in by_key.items()}
    ui.select(options, label="Plantilla", on_change=chosen).classes("w-full").mark("template-select").move(
        target_index=0
    )

    async def send() -> None:
        template: TemplateView | None = state["template"]
        if template is None:
            return
        params = [(i.value or "").strip() for i in state["inputs"]]
        send_button.disable()
        try:
            await io(chat_actions.send_template, conversation_id, user, template.name, template.language, params)
        except chat_actions.ActionRefused as refused:
            ui.notify(str(refused), type="warning")
            send_button.enable()
            return
        ui.notify("Plantilla en camino", type="positive")
        dialog.close()

    send_button = (
        ui.button("Enviar plantilla", icon="send", on_click=send).props("unelevated no-caps").mark("template-send")
    )
    send_button.disable()


def _job_choices(templates: list[TemplateView], user: CurrentUser) -> None:
    """Admins pick what the follow-up jobs send when the window is closed (else they stay silent)."""
    usable = {t.id: f"{t.name} ({t.language})" for t in templates if len(t.variables) <= 1}
    with ui.expansion("Seguimientos automáticos fuera de la ventana").classes("w-full text-sm").mark("job-templates"):
        ui.label("Si la plantilla tiene un dato, se completa con el nombre del cliente.").classes(
            "text-xs text-slate-500"
        )
        for use, label in USE_LABEL.items():
            current = next((t.id for t in templates if t.use_for == use), None)

            async def chosen(event: Any, use: str = use) -> None:
                try:
                    await io(chat_actions.choose_job_template, user, use, event.value)
                except chat_actions.ActionRefused as refused:
                    ui.notify(str(refused), type="warning")
                    return
                ui.notify("Listo", type="positive")

            ui.select({None: "Ninguna (no escribir)", **usable}, value=current, label=label, on_change=chosen).classes(
                "w-full"
            ).mark(f"job-template-{use}")
