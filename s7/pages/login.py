"""/login: a plain HTML form posted to /auth/login, which sets the HttpOnly session cookie.

A real form POST (not a websocket event) is what lets the server set an HttpOnly cookie, and
it works even before the websocket connects.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from nicegui import ui
from starlette.concurrency import run_in_threadpool

from s7.api.auth import client_ip, user_agent
from s7.auth import (
    SESSION_COOKIE,
    LoginThrottled,
    authenticate,
    csrf_ok,
    issue_token,
    request_user,
    revoke_token,
    safe_redirect_target,
    user_from_token,
)
from s7.config import EMAIL_SHAPE, get_settings

router = APIRouter(include_in_schema=False)

_ERRORS = {
    "credentials": "Email o contraseña incorrectos.",
    "throttled": "Demasiados intentos fallidos desde esta conexión. Probá de nuevo en {wait} minutos.",
}


@router.post("/auth/login")
async def login_form(
    request: Request,
    email: str = Form("", max_length=254),
    password: str = Form("", max_length=1024),
    redirect_to: str = Form("/", max_length=2000),
) -> RedirectResponse:
    target = safe_redirect_target(redirect_to)
    try:
        user = await run_in_threadpool(authenticate, email, password, client_ip(request), user_agent(request))
    except LoginThrottled as exc:
        return _back_to_login("throttled", target, wait=exc.minutes)
    if user is None:
        return _back_to_login("credentials", target)
    response = RedirectResponse(target, status_code=303)
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        issue_token(user),
        max_age=int(settings.TOKEN_MAX_AGE_HOURS * 3600),
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.startswith("https://"),
        path="/",
    )
    return response


def _back_to_login(error: str, target: str, *, wait: int = 0) -> RedirectResponse:
    from urllib.parse import urlencode

    query = {"error": error, "redirect_to": target} | ({"wait": str(wait)} if wait else {})
    return RedirectResponse("/login?" + urlencode(query), status_code=303)


@router.post("/auth/logout")
def logout(request: Request, csrf: str = Form("", max_length=128)) -> Response:
    """The panel's logout: a form POST carrying the session's CSRF value (see layout.frame).
    Revokes this session server-side (every tab of it, on every replica) and drops the cookie.
    A post without the right value changes nothing (a stranger's page cannot log you out)."""
    token = request.cookies.get(SESSION_COOKIE)
    if user_from_token(token) is not None:
        if not csrf_ok(token, csrf):
            return PlainTextResponse("Pedido inválido: recargá la página y probá de nuevo.", status_code=403)
        revoke_token(token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@ui.page("/login", title="Ingresar · Sector 7")
def login_page(
    request: Request,
    redirect_to: str = "/",
    error: str = "",
    ended: str = "",
    wait: int = 15,
    created: str = "",
) -> RedirectResponse | None:
    target = safe_redirect_target(redirect_to)
    if request_user(request) is None:
        # The gate leaves /login open; a valid cookie still means "already in".
        from s7.auth import token_from_scope, user_from_token

        if user_from_token(token_from_scope(request.scope)) is not None:
            return RedirectResponse(target, status_code=303)
    ui.query("body").classes("bg-slate-100")
    with ui.column().classes("absolute-center items-center gap-4 w-80"):
        ui.label("Sector 7").classes("text-3xl font-bold text-teal-800")
        ui.label("Ventas por WhatsApp, en equipo").classes("text-slate-500 -mt-3")
        with ui.card().classes("w-full"):
            if error in _ERRORS:
                ui.label(_ERRORS[error].format(wait=min(max(wait, 1), 60))).classes("text-red-700 text-sm").mark(
                    "login-error"
                )
            if ended:
                ui.label("Tu sesión terminó. Ingresá de nuevo.").classes("text-amber-700 text-sm")
            with ui.element("form").props('method="post" action="/auth/login"').classes("w-full column gap-2"):
                ui.input("Email").props('name="email" type="email" autocomplete="username" autofocus').classes(
                    "w-full"
                ).mark("email")
                ui.input("Contraseña", password=True).props('name="password" autocomplete="current-password"').classes(
                    "w-full"
                ).mark("password")
                ui.element("input").props(f'type="hidden" name="redirect_to" value="{_attr(target)}"')
                ui.button("Ingresar").props('type="submit" unelevated no-caps').classes("w-full").mark("submit")
        if created and EMAIL_SHAPE.match(created) and len(created) <= 254:
            ui.label(f"Listo: {created} es administrador. Ingresá con esa cuenta.").classes(
                "text-teal-800 text-sm"
            ).mark("setup-done")
        if get_settings().sandbox:
            _demo_logins(request)
    return None


def _demo_logins(request: Request) -> None:
    """Sandbox: the demo accounts, with their passwords only for someone on this same machine."""
    from s7.bootstrap import SANDBOX_WARNING, note_outside_visitor
    from s7.seed import demo_logins

    with ui.column().classes("gap-0 text-xs text-slate-500 items-center").mark("demo-logins"):
        ui.label("Modo prueba (sandbox)")
        if note_outside_visitor(request.scope):
            ui.label(SANDBOX_WARNING).classes("text-amber-800 text-center").mark("sandbox-warning")
            ui.label("Las contraseñas de demo están en el log del servidor.")
            return
        for email, password in demo_logins():
            ui.label(f"{email} / {password}")


def _attr(value: str) -> str:
    """Escape a value for an HTML attribute inside Vue props (quotes and angle brackets)."""
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
