"""/setup: the one-time page that creates a real store's first admin.

The link (printed in the log at start when the store has no admin) carries a token signed with
SESSION_SECRET; the page works only while the store has no admin, so the first admin created
through it is its last use. Like /login it is a plain HTML form posted to the server: it works
without a session and before the websocket connects.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from starlette.concurrency import run_in_threadpool

from s7.bootstrap import SETUP_PATH, SetupError, setup_token_valid, setup_with_token
from s7.pages.login import _attr

router = APIRouter(include_in_schema=False)


@router.post(SETUP_PATH)
async def setup_form(
    token: str = Form("", max_length=1000),
    name: str = Form("", max_length=120),
    email: str = Form("", max_length=254),
    password: str = Form("", max_length=1024),
    password_again: str = Form("", max_length=1024),
) -> RedirectResponse:
    def back(error: str) -> RedirectResponse:
        query = urlencode({"token": token, "error": error, "email": email, "name": name})
        return RedirectResponse(f"{SETUP_PATH}?{query}", status_code=303)

    if password != password_again:
        return back("Las dos contraseñas no coinciden")
    try:
        created = await run_in_threadpool(setup_with_token, token, email, password, name)
    except SetupError as exc:
        return back(str(exc))
    return RedirectResponse("/login?" + urlencode({"created": created}), status_code=303)


@ui.page(SETUP_PATH, title="Primer administrador · Sector 7")
async def setup_page(request: Request, token: str = "", error: str = "", email: str = "", name: str = "") -> None:
    valid = await run_in_threadpool(setup_token_valid, token)
    ui.query("body").classes("bg-slate-100")
    with ui.column().classes("absolute-center items-center gap-4 w-96"):
        ui.label("Sector 7").classes("text-3xl font-bold text-teal-800")
        with ui.card().classes("w-full"):
            if not valid:
                ui.label("Este enlace ya no sirve").classes("text-lg font-bold").mark("setup-invalid")
                ui.label(
                    "La tienda ya tiene administrador, o el enlace venció o está incompleto. "
                    "Ingresá con tu usuario; si no tenés, pedíselo a un administrador."
                ).classes("text-sm text-slate-600")
                ui.link("Ir a ingresar", "/login")
                return
            ui.label("Creá el primer administrador").classes("text-lg font-bold")
            ui.label(
                "Esta cuenta maneja el equipo y el catálogo. El enlace sirve una sola vez: "
                "apenas la crees, deja de funcionar."
            ).classes("text-sm text-slate-600")
            if error:
                ui.label(error).classes("text-red-700 text-sm").mark("setup-error")
            with ui.element("form").props(f'method="post" action="{SETUP_PATH}"').classes("w-full column gap-2"):
                ui.element("input").props(f'type="hidden" name="token" value="{_attr(token)}"')
                ui.input("Tu nombre", value=name).props('name="name" autocomplete="name"').classes("w-full")
                ui.input("Email", value=email).props('name="email" type="email" autocomplete="username"').classes(
                    "w-full"
                ).mark("setup-email")
                ui.input("Contraseña (8 o más caracteres)", password=True).props(
                    'name="password" autocomplete="new-password"'
                ).classes("w-full").mark("setup-password")
                ui.input("Repetí la contraseña", password=True).props(
                    'name="password_again" autocomplete="new-password"'
                ).classes("w-full").mark("setup-password-again")
                ui.button("Crear administrador").props('type="submit" unelevated no-caps').classes("w-full").mark(
                    "setup-submit"
                )
