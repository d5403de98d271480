"""How many webhooks the web process has received, readable by its processor child.

The ack is what Meta times out on; applying stored events can wait a few milliseconds. When
the processor ran in the web process it asked `webhook.busy()` between batches. `s7 serve` on
Postgres runs it in a child process (s7.whatsapp.processor_process), where that count is not
visible: during a burst of webhooks the child took half the CPU the acks needed (bench.webhook:
app/baseline 0.50 with the child working, 0.99 with it stopped). A count of received webhooks
now lives in an 8-byte shared memory map that the web process writes on every webhook; the
child turns it into a rate (`webhook.AckRate`) between batches. One writer, one aligned word:
no lock needed.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
import tempfile
from pathlib import Path

ENV = "S7_ACK_GAUGE"  # the map's path, given to the child by its supervisor
_WORD = struct.Struct("q")


class AckGauge:
    """One integer shared between processes. `create()` in the writer, `attach(path)` in a reader."""

    def __init__(self, path: Path, *, owner: bool) -> None:
        self.path = path
        self.owner = owner
        fd = os.open(path, os.O_RDWR if owner else os.O_RDONLY)
        try:
            self._map = mmap.mmap(fd, _WORD.size, access=mmap.ACCESS_WRITE if owner else mmap.ACCESS_READ)
        finally:
            os.close(fd)

    @classmethod
    def create(cls) -> AckGauge:
        _remove_orphans()
        # A private temp file (0600, O_EXCL); the page cache is what both processes share.
        fd, name = tempfile.mkstemp(prefix=f"s7-acks-{os.getpid()}-")
        try:
            os.write(fd, bytes(_WORD.size))
        finally:
            os.close(fd)
        return cls(Path(name), owner=True)

    @classmethod
    def attach(cls, path: str | Path) -> AckGauge:
        return cls(Path(path), owner=False)

    def set(self, value: int) -> None:
        _WORD.pack_into(self._map, 0, value)

    def get(self) -> int:
        return int(_WORD.unpack_from(self._map, 0)[0])

    def close(self) -> None:
        if not self._map.closed:
            self._map.close()
        if self.owner:
            self.path.unlink(missing_ok=True)


def _remove_orphans() -> None:
    """Gauges of web processes that were killed outright (kill -9 skips `close`)."""
    for path in Path(tempfile.gettempdir()).glob("s7-acks-*-*"):
        pid = path.name.split("-")[2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists() and Path("/proc/self").exists():
            with contextlib.suppress(OSError):  # another user's, or gone meanwhile
                path.unlink()
