"""Who else has this chat open, and who is typing in it ("Help Scout's traffic cop").

Each open chat view announces itself on the realtime bus (`presence` events), so viewers on
other replicas hear it through the Postgres bridge like any other event. There is no central
registry to keep consistent: a newcomer says hello, everyone looking at the same chat answers,
announcements are repeated as a heartbeat, and an entry not refreshed in time simply expires
(a crashed replica's viewers fade away by themselves).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from nicegui import background_tasks, core

from s7 import realtime
from s7.clock import now

HEARTBEAT = timedelta(seconds=20)
EXPIRES = timedelta(seconds=50)
TYPING_FOR = timedelta(seconds=6)
TYPING_RESEND = timedelta(seconds=3)


@dataclass
class Viewer:
    user_id: int
    name: str
    seen_at: datetime
    typing_until: datetime | None = None

    def typing(self, at: datetime) -> bool:
        return self.typing_until is not None and at < self.typing_until


class ChatPresence:
    """One per open chat view: announces this tab and tracks the others on the same chat."""

    def __init__(self, conversation_id: int, user_id: int, user_name: str, on_change: Callable[[], None]) -> None:
        self.conversation_id = conversation_id
        self.user_id = user_id
        self.user_name = user_name
        self.key = uuid.uuid4().hex
        self.viewers: dict[str, Viewer] = {}
        self._on_change = on_change
        self._last_sent = now()
        self._last_typing_sent: datetime | None = None
        self.active = True

    # ---- what this tab says ------------------------------------------------------------------
    def join(self) -> None:
        self._announce("viewing", hello=True)

    def leave(self) -> None:
        if self.active:
            self.active = False
            self._announce("left")

    def typed(self) -> None:
        """The seller typed in the composer; repeated at most every few seconds."""
        at = now()
        if self._last_typing_sent is None or at - self._last_typing_sent >= TYPING_RESEND:
            self._last_typing_sent = at
            self._announce("typing")

    def tick(self) -> None:
        """Called every few seconds: heartbeat, and forget viewers whose tabs went quiet."""
        at = now()
        if self.active and at - self._last_sent >= HEARTBEAT:
            self._announce("viewing")
        stale = [k for k, v in self.viewers.items() if at - v.seen_at > EXPIRES]
        for key in stale:
            del self.viewers[key]
        if stale or any(v.typing_until and at >= v.typing_until for v in self.viewers.values()):
            for viewer in self.viewers.values():
                if viewer.typing_until and at >= viewer.typing_until:
                    viewer.typing_until = None
            self._on_change()

    def _announce(self, state: str, *, hello: bool = False) -> None:
        self._last_sent = now()
        data = {
            "conversation_id": self.conversation_id,
            "key": self.key,
            "user_id": self.user_id,
            "name": self.user_name,
            "state": state,
            "hello": hello,
        }
        if not core.is_loop_running() or core.app.is_stopped:
            return  # shutting down
        # publish() may NOTIFY other replicas (a blocking DB call): keep it off the event loop.
        background_tasks.create(_publish_off_loop(data), name="presence")

    # ---- what the others say -----------------------------------------------------------------
    def handle(self, event: realtime.Event) -> None:
        if event.kind != "presence" or event.get("conversation_id") != self.conversation_id:
            return
        key = event.get("key")
        if not isinstance(key, str) or key == self.key or not self.active:
            return
        state = event.get("state")
        at = now()
        if state == "left":
            if self.viewers.pop(key, None) is not None:
                self._on_change()
            return
        viewer = self.viewers.get(key)
        if viewer is None:
            viewer = self.viewers[key] = Viewer(int(event.get("user_id") or 0), str(event.get("name") or "")[:60], at)
        viewer.seen_at = at
        viewer.typing_until = at + TYPING_FOR if state == "typing" else None
        if event.get("hello"):
            self._announce("viewing")  # let the newcomer know we are here too
        self._on_change()

    def summary(self) -> str:
        """'Vendedor 2 está escribiendo…' / 'También lo está viendo: Vendedor 2' / ''."""
        at = now()
        others: dict[int, Viewer] = {}
        for viewer in self.viewers.values():
            if viewer.user_id == self.user_id:
                continue  # the same seller in another tab is not "someone else"
            known = others.get(viewer.user_id)
            if known is None or viewer.typing(at):
                others[viewer.user_id] = viewer
        typing = sorted(v.name for v in others.values() if v.typing(at))
        viewing = sorted(v.name for v in others.values() if not v.typing(at))
        parts = []
        if typing:
            parts.append(f"{_names(typing)} {'está' if len(typing) == 1 else 'están'} escribiendo…")
        if viewing:
            parts.append(f"También lo {'está' if len(viewing) == 1 else 'están'} viendo: {_names(viewing)}")
        return " · ".join(parts)


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" y {names[-1]}"


async def _publish_off_loop(data: dict[str, object]) -> None:
    import asyncio

    await asyncio.to_thread(lambda: realtime.publish("presence", **data))
