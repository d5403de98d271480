"""Plumbing for live pages: coalescing bursts of events, and sharing identical DB reads.

An event reaches every open tab at the same moment; without sharing, 20 tabs showing the same
chat would run 20 identical queries. `shared_read` lets tabs that flush because of the same
latest event await one query; a tab that has seen a newer event gets a read of its own (it must
not reuse one that may have started before that event's commit).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from nicegui import background_tasks, core
from nicegui.client import Client

from s7 import realtime
from s7.pages.layout import io

log = logging.getLogger(__name__)
SLOW = 0.25  # seconds from event to screen worth a log line

_in_flight: dict[Hashable, asyncio.Future[Any]] = {}


def gone(client: Client) -> bool:
    """The tab is closed (deleted, or dropped from NiceGUI's registry, e.g. by a test reset)."""
    return client.is_deleted or Client.instances.get(client.id) is not client


async def shared_read(key: Hashable, fn: Callable[..., Any], *args: Any) -> Any:
    """`await io(fn, *args)`, joined with any identical read (same key) already running."""
    future = _in_flight.get(key)
    if future is None:
        future = asyncio.ensure_future(io(fn, *args))
        _in_flight[key] = future
        future.add_done_callback(lambda _: _in_flight.pop(key, None))
    return await asyncio.shield(future)


class Coalesced:
    """Run `flush()` once shortly after a burst of `poke()`s, never two flushes at a time.

    `stamp` names the newest event behind the current flush, for `shared_read` keys."""

    def __init__(self, client: Client, flush: Callable[[], Awaitable[None]], delay: float = 0.005) -> None:
        self.client = client
        self.flush = flush
        self.delay = delay
        self.stamp = 0
        self._last_event: realtime.Event | None = None  # kept alive so its id() stays unique
        self._pending = False
        self._lock = asyncio.Lock()

    def poke(self, event: realtime.Event | None = None) -> None:
        loop = core.loop
        if loop is None or not loop.is_running() or core.app.is_stopped:
            return  # the server is stopping: nobody will look at this tab again
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not loop:  # an event delivered on a worker thread: hop onto NiceGUI's loop
            loop.call_soon_threadsafe(self.poke, event)
            return
        if event is not None:
            self._last_event = event
        if self._pending or gone(self.client):
            return
        self._pending = True
        background_tasks.create(self._run(), name="inbox-refresh")

    async def _run(self) -> None:
        poked = time.monotonic()
        await asyncio.sleep(self.delay)
        async with self._lock:
            self._pending = False
            self.stamp = id(self._last_event) if self._last_event is not None else 0
            if not gone(self.client):
                started = time.monotonic()
                with self.client:
                    await self.flush()
                done = time.monotonic()
                if done - poked > SLOW:
                    log.info(
                        "slow live update: %.0f ms after the event (%.0f ms waiting, %.0f ms in %s)",
                        (done - poked) * 1000,
                        (started - poked) * 1000,
                        (done - started) * 1000,
                        getattr(self.flush, "__qualname__", "flush"),
                    )
