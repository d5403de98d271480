"""Wiring: middleware, routers, pages, and the background services' start/stop."""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import sys
from types import ModuleType
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from nicegui import app, background_tasks, core

from s7 import realtime
from s7.api.errors import validation_error
from s7.auth import AuthGate
from s7.client_address import ClientAddressMiddleware
from s7.config import get_settings
from s7.db import get_engine, reset_engine
from s7.headers import SecurityHeaders
from s7.limits import BodyLimit
from s7.pages import sessions
from s7.whatsapp import webhook

log = logging.getLogger(__name__)
_bridge_stop: asyncio.Event | None = None

ROUTER_MODULES = (
    "s7.api.health",
    "s7.api.auth",
    "s7.whatsapp.webhook",
    "s7.api.conversations",
    "s7.api.catalog",
    "s7.api.users",
    "s7.api.media",
    "s7.api.templates",
    "s7.api.outcomes",
    "s7.api.quick_replies",
    "s7.api.store",
    "s7.api.me",
    "s7.pages.pwa",
)
PAGE_MODULES = (
    "s7.pages.login",
    "s7.pages.inbox",
    "s7.pages.admin_catalog",
    "s7.pages.admin_users",
    "s7.pages.admin_store",
    "s7.pages.admin_health",
    "s7.pages.dashboard",
    "s7.pages.simulator",
    "s7.pages.quick_replies",
    "s7.pages.setup",
)
SERVICE_MODULES = ("s7.whatsapp.processor", "s7.whatsapp.outbox", "s7.whatsapp.media", "s7.jobs")


def configure() -> None:
    """Register everything on NiceGUI's FastAPI app. Called once by `s7 serve`; the test
    harness resets NiceGUI's globals and calls it again for each test."""
    settings = get_settings()
    # Our routers carry no lifespan, yet FastAPI wraps the app's lifespan once per include_router;
    # the test harness calls configure() for every test, so the wrapping nested without end
    # (a RecursionError at start-up after a few dozen tests). Keep the app's own lifespan.
    lifespan = app.router.lifespan_context
    for name in ROUTER_MODULES:
        app.include_router(_load(name).router)
    for name in PAGE_MODULES:
        module = _load(name, fresh=True)  # pages register at import; a reset needs them again
        if hasattr(module, "router"):
            app.include_router(module.router)
    app.router.lifespan_context = lifespan

    # 422 bodies keep FastAPI's shape with Spanish messages (s7.api.errors).
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_middleware(BodyLimit)  # innermost: in front of every route, after the gate (s7.limits)
    app.add_middleware(AuthGate)
    app.add_middleware(ClientAddressMiddleware)  # outside the gate: everything sees the resolved client
    if settings.panel_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.panel_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(SecurityHeaders)  # outermost: on every response, the gate's and CORS's too
    webhook.install_fast_path(app)  # POST /webhook in front of all of it (s7.whatsapp.webhook)
    sessions.install()  # every panel action re-checks its session (s7.pages.sessions)
    app.on_startup(_start_services)
    app.on_shutdown(_stop_services)


def _load(name: str, *, fresh: bool = False) -> ModuleType:
    if fresh and name in sys.modules:
        return importlib.reload(sys.modules[name])
    return importlib.import_module(name)


# `s7 serve` on Postgres runs the inbound processor in a child process (s7.whatsapp.processor_process)
# so the bot's CPU work gets the second core and never delays an ack; tests that build the app
# in-process keep it inline.
PROCESSOR_IN_CHILD = False
_supervisor: Any = None


def use_supervisor(supervisor: Any) -> None:
    """`s7 serve` spawns the processor children before it loads the web app (they warm up
    meanwhile) and hands their supervisor over here; startup then watches them."""
    global _supervisor
    _supervisor = supervisor


def _services() -> list[ModuleType]:
    """Background services with start()/stop(): inbound processor, outbox sender, jobs."""
    names = SERVICE_MODULES
    if _processor_in_child():
        names = tuple(n for n in names if n != "s7.whatsapp.processor")
    return [_load(name) for name in names]


def _processor_in_child() -> bool:
    return PROCESSOR_IN_CHILD and not get_settings().is_sqlite


def _start_services() -> None:
    """Sync startup hook: runs inside NiceGUI's loop before requests are served."""
    global _bridge_stop
    settings = get_settings()
    realtime.bind_loop(core.loop or asyncio.get_event_loop())
    get_engine()
    if not settings.is_sqlite:
        realtime.enable_bridge(True)
        _bridge_stop = asyncio.Event()
        conninfo = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
        background_tasks.create(realtime.pg_bridge(conninfo, _bridge_stop), name="realtime-bridge")
    for service in _services():
        service.start()
    if _processor_in_child():
        global _supervisor
        if _supervisor is None:
            from s7.whatsapp.processor_process import Supervisor

            _supervisor = Supervisor()
        _supervisor.start()
    # Everything loaded so far (framework, pages, catalog index) lives as long as the process: a
    # full collection need not walk it, and would stall every request while it did.
    gc.freeze()
    log.info("Sector 7 listo en %s (sandbox=%s)", settings.public_base_url, settings.sandbox)


async def _stop_services() -> None:
    global _supervisor
    if _supervisor is not None:
        await _supervisor.stop()
        _supervisor = None
    for service in reversed(_services()):
        result = service.stop()
        if asyncio.iscoroutine(result):
            await result
    if _bridge_stop is not None:
        _bridge_stop.set()
    realtime.enable_bridge(False)
    realtime.reset()
    realtime.bind_loop(None)
    reset_engine()
