"""The shared frame of every panel page: header, navigation, the signed-in user, live events."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import Request
from nicegui import background_tasks, ui

from s7 import realtime
from s7.auth import CurrentUser, csrf_token, request_user, token_from_scope
from s7.bootstrap import SANDBOX_WARNING, SANDBOX_WARNING_SHORT, note_outside_visitor
from s7.config import get_settings
from s7.db import session_scope
from s7.domain import users
from s7.pages import pwa, sessions

BRAND = "Sector 7"
_NAV = [
    ("/", "Conversaciones", "forum", False),
    ("/quick-replies", "Respuestas", "bolt", False),
    ("/dashboard", "Tablero", "insights", True),
    ("/admin/catalog", "Catálogo", "inventory_2", True),
    ("/admin/users", "Equipo", "group", True),
    ("/admin/tienda", "Tienda", "storefront", True),
    ("/admin/vocabulario", "Vocabulario", "translate", True),
    ("/admin/salud", "Salud", "monitor_heart", True),
]


def current_user(request: Request) -> CurrentUser:
    """The gate guarantees a user on every panel page."""
    user = request_user(request)
    if user is None:  # only reachable if the gate is bypassed: fail closed
        raise PermissionError("no session")
    return user


@contextlib.contextmanager
def frame(request: Request, title: str, *, admin_only: bool = False) -> Iterator[CurrentUser | None]:
    """Header + navigation around a page. Yields the user, or None (and renders a clear
    "no permission" card) when a seller opens an admin page."""
    user = current_user(request)
    ui.page_title(f"{title} · {BRAND}")
    ui.add_head_html(pwa.HEAD)
    ui.colors(primary="#0f766e", secondary="#334155", accent="#f59e0b")
    ui.query("body").classes("bg-slate-50")
    with ui.header(elevated=True).classes("items-center gap-2 px-3 py-1 bg-teal-800"):
        ui.label(BRAND).classes("text-lg font-bold tracking-wide")
        with ui.row().classes("gap-0 max-sm:hidden"):
            for path, label, icon, needs_admin in _NAV:
                if needs_admin and not user.is_admin:
                    continue
                ui.button(label, icon=icon, on_click=lambda p=path: ui.navigate.to(p)).props(
                    "flat color=white no-caps dense"
                ).classes("px-2")
            if get_settings().sandbox:
                ui.button("Simulador", icon="smartphone", on_click=lambda: ui.navigate.to("/simulator")).props(
                    "flat color=white no-caps dense"
                ).classes("px-2")
        ui.space()
        if note_outside_visitor(request.scope):
            # A demo others can reach: say plainly that none of it lasts (s7.bootstrap.exposed_sandbox).
            ui.badge(SANDBOX_WARNING_SHORT, color="amber-7").classes("text-xs").tooltip(SANDBOX_WARNING).mark(
                "sandbox-warning"
            )
        with ui.button(icon="account_circle").props("flat round color=white").mark("user-menu"):
            with ui.menu():
                ui.menu_item(f"{user.name} ({'admin' if user.is_admin else 'vendedor'})").props("disable")
                for path, label, _icon, needs_admin in _NAV:
                    if not needs_admin or user.is_admin:
                        ui.menu_item(label, on_click=lambda p=path: ui.navigate.to(p)).classes("sm:hidden")
                ui.menu_item("Cerrar sesión", on_click=_submit_logout).mark("logout")
                ui.menu_item("Cerrar sesión en todos los dispositivos", on_click=lambda: _end_everywhere(user)).mark(
                    "logout-everywhere"
                )
    _logout_form(request)
    sessions.watch(ui.context.client, user)
    if admin_only and not user.is_admin:
        with ui.card().classes("m-8 max-w-md mx-auto").mark("no-permission"):
            ui.label("Sin permiso").classes("text-xl font-bold")
            ui.label("Esta sección es solo para administradores de la tienda.")
            ui.button("Volver a las conversaciones", on_click=lambda: ui.navigate.to("/"))
        yield None
        return
    yield user


def live(callback: Callable[[realtime.Event], Any]) -> None:
    """Run `callback(event)` in this page's client for every realtime event; the subscription
    ends when the tab goes away (no leaked listeners)."""
    client = ui.context.client

    def handler(event: realtime.Event) -> None:
        if client.is_deleted:
            return
        if inspect.iscoroutinefunction(callback):

            async def run() -> None:
                with client:
                    await callback(event)

            background_tasks.create(run(), name="live-update")
        else:
            with client:
                callback(event)

    unsubscribe = realtime.subscribe(handler)
    client.on_delete(unsubscribe)


def _logout_form(request: Request) -> None:
    """Logout is a POST carrying this session's CSRF value (s7.pages.login.logout)."""
    csrf = csrf_token(token_from_scope(request.scope))
    with ui.element("form").props('id="s7-logout" method="post" action="/auth/logout"').classes("hidden"):
        ui.element("input").props(f'type="hidden" name="csrf" value="{csrf}"')


def _submit_logout() -> None:
    sessions.leaving(ui.context.client)
    ui.run_javascript("document.getElementById('s7-logout').submit()")


def _end_all(user_id: int, actor_id: int) -> None:
    with session_scope() as session:
        users.end_all_sessions(session, user_id, actor_id=actor_id)


async def _end_everywhere(user: CurrentUser) -> None:
    """Every session of mine ends, this tab's too (the server ends it with the rest)."""
    try:
        await io(_end_all, user.id, user.id)
    except users.UserError as exc:
        ui.notify(str(exc), type="negative")


async def io(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run blocking DB work off the event loop (sync SQLAlchemy)."""
    return await asyncio.to_thread(fn, *args, **kwargs)
