"""The composer's attachment dialog: pick or drop a photo, PDF/document or audio, see it, add a
caption, send. Size is checked against WhatsApp's limit for that type as soon as the file is
chosen (the upload itself was already cut at UPLOAD_MAX_MB while it streamed, `s7.limits`), and
again by the domain when it is queued."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from nicegui import events, ui

from s7.auth import CurrentUser
from s7.config import get_settings
from s7.domain.media import MB, file_cap, kind_for_mime
from s7.domain.media.outbound import AUDIO_TYPES, CAPTION_MAX, KIND_LABEL, clean_filename
from s7.pages import chat_actions
from s7.pages.layout import io

ACCEPT = "image/jpeg,image/png,application/pdf,audio/*,video/mp4,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.txt,.csv"
PREVIEW_MAX = 5 * MB  # an image preview goes to the browser as a data: URL


@dataclass
class Picked:
    data: bytes
    mime_type: str
    filename: str
    kind: str


def kind_of(mime_type: str) -> str:
    kind = kind_for_mime(mime_type)
    return "document" if kind == "audio" and mime_type.split(";")[0] not in AUDIO_TYPES else kind


def open_dialog(conversation_id: int, user: CurrentUser) -> None:
    picked: list[Picked] = []
    with ui.dialog() as dialog, ui.card().classes("w-[28rem] max-w-full gap-2").mark("attach-dialog"):
        ui.label("Adjuntar").classes("font-semibold")
        ui.label("Foto (JPG/PNG, hasta 5 MB), PDF u otro documento (hasta 100 MB) o audio (hasta 16 MB).").classes(
            "text-xs text-slate-500"
        )
        preview = ui.column().classes("w-full items-center gap-1").mark("attach-preview")
        caption = (
            ui.textarea("Texto (opcional)")
            .props(f"autogrow outlined dense maxlength={CAPTION_MAX}")
            .classes("w-full")
            .mark("attach-caption")
        )

        async def chosen(event: events.UploadEventArguments) -> None:
            data = await event.file.read()
            mime = (event.file.content_type or "application/octet-stream").lower()
            kind = kind_of(mime)
            uploader.reset()
            if len(data) > file_cap(kind):
                ui.notify(
                    f"Ese archivo pesa {len(data) / MB:.1f} MB: WhatsApp admite hasta "
                    f"{file_cap(kind) / MB:g} MB para {KIND_LABEL[kind]}",
                    type="negative",
                )
                return
            picked[:] = [Picked(data, mime, clean_filename(event.file.name) or "archivo", kind)]
            show(picked[0])

        def show(file: Picked) -> None:
            preview.clear()
            with preview:
                if file.kind == "image" and len(file.data) <= PREVIEW_MAX:
                    encoded = base64.b64encode(file.data).decode()
                    ui.image(f"data:{file.mime_type};base64,{encoded}").classes("w-64 max-w-full rounded").props(
                        "fit=contain"
                    ).mark("attach-image")
                with ui.row().classes("items-center gap-1 no-wrap"):
                    ui.icon({"image": "image", "audio": "mic", "video": "movie"}.get(file.kind, "description"))
                    ui.label(f"{file.filename} · {len(file.data) / 1024:.0f} KB").classes("text-sm").mark("attach-name")
            caption.set_visibility(file.kind != "audio")  # WhatsApp sends no text with an audio
            send_button.enable()

        uploader = (
            ui.upload(
                label="Elegí o arrastrá el archivo",
                auto_upload=True,
                max_file_size=get_settings().upload_max_bytes,
                on_upload=chosen,
                on_rejected=lambda: ui.notify(
                    f"El archivo supera el máximo de {get_settings().UPLOAD_MAX_MB:g} MB", type="negative"
                ),
            )
            .props(f'accept="{ACCEPT}" flat bordered')
            .classes("w-full")
            .mark("attach-upload")
        )

        async def send() -> None:
            if not picked:
                return
            file = picked[0]
            send_button.disable()
            try:
                text = (caption.value or "").strip() if file.kind != "audio" else ""
                await io(chat_actions.send_file, conversation_id, user, file.data, file.mime_type, file.filename, text)
            except chat_actions.ActionRefused as refused:
                ui.notify(str(refused), type="warning")
                send_button.enable()
                return
            dialog.close()

        with ui.row().classes("w-full justify-end gap-2"):
            ui.button("Cancelar", on_click=dialog.close).props("flat no-caps")
            send_button = (
                ui.button("Enviar", icon="send", on_click=send).props("unelevated no-caps").mark("attach-send")
            )
            send_button.disable()
    dialog.on("hide", dialog.delete)
    dialog.open()
