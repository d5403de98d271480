"""The inbound processor in a process of its own, beside the web process (`s7 serve` on Postgres).

Why: applying webhooks (the bot's turn) is CPU-bound Python. In the web process it competes for
the GIL with the ack Meta waits on and with the panel; in its own process it gets the second core
and acks stay fast. Nothing else changes: the webhook's insert NOTIFYs this process, its state
changes reach the panel over the Postgres bridge, its outbox rows wake the web process's sender.

`Supervisor` (run by the web process) starts it, restarts it if it dies, and stops it with
SIGTERM on shutdown; the child also exits by itself when its parent is gone. SQLite stays single
process (one writer): there the processor runs inline, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys

from s7 import realtime
from s7.config import get_settings
from s7.db import get_engine
from s7.whatsapp.ack_gauge import ENV as ACK_GAUGE_ENV
from s7.whatsapp.ack_gauge import AckGauge

log = logging.getLogger(__name__)

RESTART_PAUSE_SECONDS = 1.0
EXIT_POLL_SECONDS = 0.2
STOP_GRACE_SECONDS = 10.0  # the child's own graceful stop; the supervisor waits a little longer
SUPERVISOR_GRACE_SECONDS = 15.0
PARENT_CHECK_SECONDS = 1.0
PARENT_ENV = "S7_PROCESSOR_PARENT"  # the web process's pid, set by the supervisor


def expected_parent() -> int:
    """The web process that started us (not whoever our parent is by the time we look)."""
    return int(os.environ.get(PARENT_ENV) or os.getppid())


# ---- the child ------------------------------------------------------------------------------------
def _die_with_parent() -> None:
    """Linux: the kernel kills this process when the web process dies, however it dies (even
    kill -9). Safe because every batch is one transaction: what was in hand rolls back and the
    lanes are free again as soon as the connection drops."""
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(1, int(signal.SIGKILL)) != 0:  # PR_SET_PDEATHSIG
            log.warning("prctl(PR_SET_PDEATHSIG) falló: errno %d", ctypes.get_errno())
    except (OSError, AttributeError):  # not Linux: the parent check in serve() still ends us
        pass


async def serve(stop: asyncio.Event | None = None) -> None:
    from s7.whatsapp import processor

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    parent = expected_parent()
    get_engine()
    realtime.bind_loop(loop)
    realtime.enable_bridge(True)
    processor.start()
    _warm_up()
    log.info("procesador de mensajes listo (pid %d)", os.getpid())
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PARENT_CHECK_SECONDS)
            if os.getppid() != parent:
                log.warning("procesador: el proceso web terminó; salgo")
                break
    finally:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(processor.stop(), STOP_GRACE_SECONDS)
        realtime.enable_bridge(False)
        realtime.bind_loop(None)


def _watch_acks() -> None:
    """Follow the web process's incoming messages (we step aside in a burst); without the gauge
    we simply never step aside."""
    from s7.whatsapp import webhook

    given = os.environ.get(ACK_GAUGE_ENV, "")
    if not given.isdigit():
        return
    try:
        webhook.watch_acks(AckGauge.attach(int(given)))
    except (OSError, ValueError):
        log.warning("procesador: no puedo leer el contador de webhooks; sigo sin él", exc_info=True)


def _warm_up() -> None:
    """Build the catalog's search index now, not in the first customer's turn."""
    from s7.db import session_scope
    from s7.domain.catalog.search import warm

    try:
        with session_scope() as session:
            warm(session)
    except Exception:  # a first turn builds it anyway
        log.warning("procesador: no pude precargar el índice del catálogo", exc_info=True)


def main() -> None:
    """Run until SIGTERM or the parent's death, then exit without waiting for worker threads: a
    batch still in hand is one transaction and rolls back (nothing acknowledged is lost)."""
    _die_with_parent()
    if os.getppid() != expected_parent():  # it died before the kernel was told to watch it
        os._exit(0)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s [processor] %(message)s")
    for noisy in ("httpx", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    get_settings()
    _watch_acks()
    loop = asyncio.new_event_loop()
    code = 0
    try:
        loop.run_until_complete(serve())
    except Exception:
        log.exception("el procesador de mensajes falló")
        code = 1
    finally:
        logging.shutdown()
        os._exit(code)  # not asyncio.run: its executor shutdown would wait for threads still in a batch


# ---- the parent's side ------------------------------------------------------------------------------
class Supervisor:
    """Keeps one processor child running while the web process lives.

    `spawn()` may be called before the web server starts (`s7 serve` does, right after its
    checks): the child needs ~1 s to import and warm up, the web process ~2 s to build its pages,
    so the child is ready when the first webhook is acked instead of a second later
    (bench.reply_latency: the first second's replies waited ~0.7 s for it). `start()`, on the
    running loop, spawns it if it is not running and restarts it whenever it dies.
    """

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._stopping = False
        self.restarts = 0
        self._gauge: AckGauge | None = None

    def spawn(self) -> None:
        """Start the child now unless it runs (sync: callable before any event loop runs)."""
        fresh_gauge = self._gauge is None
        if fresh_gauge:
            try:
                self._gauge = AckGauge.create()
            except OSError:  # no temp space: the child just never steps aside for acks
                log.warning("no pude crear el contador de webhooks", exc_info=True)
        if self._child is not None and self._child.poll() is not None:
            self._note_death(self._child.returncode)  # it died while the web app was loading
        if self._child is None or self._child.poll() is not None:
            self._child = self._spawn_child()
        if fresh_gauge:
            # After the spawn: the web module (FastAPI and all) is imported here, not before the
            # child starts warming up.
            from s7.whatsapp import webhook

            webhook.publish_acks(self._gauge)

    def _spawn_child(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, PARENT_ENV: str(os.getpid())}
        env.pop(ACK_GAUGE_ENV, None)
        fds: tuple[int, ...] = ()
        if self._gauge is not None:
            env[ACK_GAUGE_ENV] = str(self._gauge.fd)
            fds = (self._gauge.fd,)
        return subprocess.Popen(
            [sys.executable, "-m", "s7.whatsapp.processor_process"], stdin=subprocess.DEVNULL, env=env, pass_fds=fds
        )

    def _note_death(self, code: int | None) -> None:
        self.restarts += 1
        log.error("el procesador de mensajes terminó (código %s); lo reinicio", code)

    def start(self) -> None:
        self._stopping = False
        self.spawn()
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="processor-supervisor")

    async def _watch(self) -> None:
        while not self._stopping and self._child is not None:
            code = await _exited(self._child)
            if self._stopping:
                return
            self._note_death(code)
            while not self._stopping:
                await asyncio.sleep(RESTART_PAUSE_SECONDS)
                try:
                    self._child = self._spawn_child()
                    break
                except OSError:  # out of processes or memory for a moment: try again
                    log.exception("no pude reiniciar el procesador de mensajes")

    async def stop(self) -> None:
        self._stopping = True
        if self._child is not None:
            await _stop_child(self._child)
            self._child = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # logged where it happened
                await self._task
            self._task = None
        if self._gauge is not None:
            from s7.whatsapp import webhook

            webhook.publish_acks(None)
            self._gauge.close()
            self._gauge = None


async def _stop_child(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        child.terminate()
    try:
        await asyncio.wait_for(_exited(child), SUPERVISOR_GRACE_SECONDS)
    except TimeoutError:
        log.warning("el procesador no terminó a tiempo; lo detengo")
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await _exited(child)


async def _exited(child: subprocess.Popen[bytes]) -> int:
    """The child's exit code, once it has exited (polled: a child's end is noticed in ≤ 0.2 s)."""
    while (code := child.poll()) is None:
        await asyncio.sleep(EXIT_POLL_SECONDS)
    return code


if __name__ == "__main__":
    main()
