"""Background loops for the webhook processor and the outbox sender.

A loop drains its queue, then sleeps until it is woken: in-process (the webhook just stored an
event, a transaction just queued an outbox row), by Postgres NOTIFY (another process did), or by
a periodic poll, so that a crash, a lost notification or a retry delay never strands work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

from sqlalchemy.engine import make_url

from s7.config import get_settings
from s7.realtime import run_on_loop

log = logging.getLogger(__name__)
W = TypeVar("W", bound="Worker")


def pg_conninfo(database_url: str) -> str:
    """SQLAlchemy URL (`postgresql+psycopg://`) → a libpq URL psycopg connects with."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class BackgroundLoop:
    """Runs `work()` (returns how many items it handled) until stopped; wakes on `wake()`."""

    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[int]],
        *,
        poll_seconds: float,
        channel: str | None = None,
        error_pause_seconds: float = 2.0,
    ) -> None:
        self.name = name
        self._work = work
        self._poll_seconds = poll_seconds
        self._channel = channel
        self._error_pause = error_pause_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start on the running event loop (call from inside it: a startup hook or a coroutine)."""
        if self.running:
            return
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"s7-{self.name}")
        settings = get_settings()
        if self._channel and not settings.is_sqlite:
            conninfo = pg_conninfo(settings.database_url)
            self._listener = asyncio.create_task(self._listen(conninfo), name=f"s7-{self.name}-listen")

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the batch in hand (a thread cannot be cancelled safely), then return."""
        if self._stopping is None:
            return
        self._stopping.set()
        self.wake()
        for task in (self._listener, self._task):
            if task is None:
                continue
            if task is self._listener:
                task.cancel()  # it sits in `notifies()`: nothing to finish there
            try:
                await asyncio.wait_for(task, timeout=timeout)
            except (asyncio.CancelledError, TimeoutError):
                pass
            except Exception:
                log.exception("%s loop ended with an error", self.name)
        self._task = self._listener = None

    def wake(self) -> None:
        """Thread-safe: ask the loop to look at its queue now."""
        loop, event = self._loop, self._event
        if loop is None or event is None or loop.is_closed():
            return
        run_on_loop(loop, event.set)

    async def _run(self) -> None:
        assert self._event is not None and self._stopping is not None
        while not self._stopping.is_set():
            self._event.clear()  # before working: a wake during the work is not lost
            try:
                handled = await self._work()
            except Exception:
                log.exception("%s loop failed; pausing %.0f s", self.name, self._error_pause)
                handled = 0
                await self._sleep(self._error_pause)
                continue
            if handled:
                continue  # more may be waiting: drain before sleeping
            await self._sleep(self._poll_seconds)

    async def _sleep(self, seconds: float) -> None:
        assert self._event is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout=seconds)

    async def _listen(self, conninfo: str) -> None:
        """LISTEN on the channel; every notification (and every reconnect) wakes the loop."""
        import psycopg

        assert self._stopping is not None and self._channel is not None
        while not self._stopping.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {self._channel}")
                    self.wake()  # work may have arrived while we were not listening
                    async for _ in conn.notifies():
                        self.wake()
                        if self._stopping.is_set():
                            break
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("%s: LISTEN connection lost; retrying in 2 s", self.name, exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=2)


class Worker(Protocol):
    async def run_once(self) -> int: ...

    async def aclose(self) -> None: ...


class Service(Generic[W]):
    """A background loop around one worker object (the outbox's sender, the media fetcher):
    `start(worker)` makes it current and subscribes the loop's wake-up; `stop()` finishes the
    round in hand and closes the worker. One shape for every such module-level service."""

    def __init__(
        self,
        name: str,
        *,
        poll_seconds: float,
        channel: str | None,
        subscribe: Callable[[Callable[[], None]], Callable[[], None]],
    ) -> None:
        self.worker: W | None = None
        self._subscribe = subscribe
        self._unsubscribe: Callable[[], None] | None = None
        self.loop = BackgroundLoop(name, self._work, poll_seconds=poll_seconds, channel=channel)

    async def _work(self) -> int:
        assert self.worker is not None
        return await self.worker.run_once()

    def start(self, worker: W) -> None:
        if self.loop.running:
            return
        self.worker = worker
        self._unsubscribe = self._subscribe(self.loop.wake)
        self.loop.start()

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self.loop.stop()
        if self.worker is not None:
            await self.worker.aclose()
            self.worker = None

    def wake(self) -> None:
        self.loop.wake()
