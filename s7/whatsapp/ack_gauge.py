"""How many customer messages the web process has received, readable by its processor child.

The ack is what Meta times out on; applying stored events can wait a few milliseconds. When
the processor ran in the web process it asked `webhook.busy()` between batches. `s7 serve` on
Postgres runs it in a child process (s7.whatsapp.processor_process), where that count is not
visible: during a burst of webhooks the child took half the CPU the acks needed (bench.webhook:
app/baseline 0.50 with the child working, 0.99 with it stopped). A count of the customer messages
received in signed webhooks now lives in an 8-byte shared map that the web process writes;
the child turns it into a rate (`webhook.AckRate`) between batches. One writer, one aligned
word: no lock needed.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
import tempfile

ENV = "S7_ACK_GAUGE"  # the descriptor number the child inherits (`Popen(pass_fds=...)`)
_WORD = struct.Struct("q")


class AckGauge:
    """One integer shared between processes: an unlinked temp file (no path anyone could
    remove or that could outlive us), mapped by the web process and inherited by its children
    as an open descriptor. `create()` in the writer, `attach(fd)` in a reader."""

    def __init__(self, fd: int, *, owner: bool) -> None:
        self.fd = fd
        self.owner = owner
        self._map = mmap.mmap(fd, _WORD.size, access=mmap.ACCESS_WRITE if owner else mmap.ACCESS_READ)

    @classmethod
    def create(cls) -> AckGauge:
        with tempfile.TemporaryFile(prefix="s7-acks-") as file:  # unlinked at once on POSIX
            file.write(bytes(_WORD.size))
            file.flush()
            fd = os.dup(file.fileno())
        os.set_inheritable(fd, True)
        return cls(fd, owner=True)

    @classmethod
    def attach(cls, where: int | str) -> AckGauge:
        """A reader: an inherited descriptor, or a path to one (`/proc/<pid>/fd/<n>`)."""
        fd = where if isinstance(where, int) else os.open(where, os.O_RDONLY)
        return cls(fd, owner=False)

    def set(self, value: int) -> None:
        _WORD.pack_into(self._map, 0, value)

    def get(self) -> int:
        return int(_WORD.unpack_from(self._map, 0)[0])

    def close(self) -> None:
        if not self._map.closed:
            self._map.close()
        with contextlib.suppress(OSError):
            os.close(self.fd)
