"""`s7 worker`: the background work without the web panel, for a dedicated worker service.

Runs the inbound processor, the outbox sender and the periodic jobs (always on here, whatever
ENABLE_JOBS says: running them is this process's purpose; the advisory locks make it safe next to
web replicas that run them too). State changes are published over Postgres NOTIFY, so sellers on
the web replicas see what the worker did. SIGTERM or SIGINT: stop taking work, finish what is in
hand, exit 0.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import os
import signal
from types import ModuleType

from s7 import jobs, realtime
from s7.config import get_settings
from s7.db import get_engine, reset_engine

log = logging.getLogger(__name__)

SERVICE_MODULES = ("s7.whatsapp.processor", "s7.whatsapp.outbox", "s7.whatsapp.media")


def run() -> None:
    """Block until SIGTERM/SIGINT."""
    logging.getLogger().setLevel(logging.INFO)
    for noisy in ("httpx", "apscheduler", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    asyncio.run(serve())


async def serve(stop: asyncio.Event | None = None) -> None:
    """Start everything, wait for `stop` (set by SIGTERM/SIGINT), stop everything in reverse."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    settings = get_settings()
    get_engine()
    realtime.bind_loop(loop)
    realtime.enable_bridge(not settings.is_sqlite)
    services = [importlib.import_module(name) for name in SERVICE_MODULES]
    started: list[ModuleType] = []
    try:
        for service in services:
            await _maybe_await(service.start())
            started.append(service)
        jobs.start(force=True)
        names = ", ".join(s.__name__.rsplit(".", 1)[-1] for s in started)
        log.info("worker listo: %s + jobs (pid %d)", names or "sin servicios", os.getpid())
        await stop.wait()
        log.info("worker: apagando")
    finally:
        await jobs.stop()
        for service in reversed(started):
            try:
                await _maybe_await(service.stop())
            except Exception:
                log.exception("%s did not stop cleanly", service.__name__)
        realtime.enable_bridge(False)
        realtime.bind_loop(None)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        reset_engine()


async def _maybe_await(result: object) -> None:
    if inspect.isawaitable(result):
        await result
