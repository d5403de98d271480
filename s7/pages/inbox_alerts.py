"""Hot leads and "I want a person" requests: a sound, a toast, and a (N) badge on the tab title
that stays until the seller opens those chats.

The browser side is a fixed script (no data is spliced into it but small integers and JSON string
literals); while the tab is hidden, each alert is also a browser notification (asked once); the
chime is synthesised with WebAudio, so there is no media file to serve or block.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from nicegui import ui

from s7 import realtime
from s7.db import session_scope
from s7.domain.reads import inbox as inbox_queries
from s7.pages.layout import io
from s7.pages.live_reads import Coalesced

REASONS = {
    "hot": "🔥 Lead caliente",
    "handoff": "🙋 Pide hablar con una persona",
    "assigned": "📥 Te asignaron un chat",
    "reminder": "⏰ Recordatorio",
    "mention": "💬 Te mencionaron en una nota",
    "transfer": "↪️ Te pasaron un chat",
}

_SCRIPT = """
<script>
window.s7 = window.s7 || {};
s7.sounds = 0;
s7.alerts = 0;
s7.setBadge = function (n) {
  if (s7.baseTitle === undefined) s7.baseTitle = document.title.replace(/^\\(\\d+\\) /, '');
  s7.alerts = n;
  document.title = n > 0 ? '(' + n + ') ' + s7.baseTitle : s7.baseTitle;
};
s7.chime = function () {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    s7.audio = s7.audio || new Ctx();
    const ctx = s7.audio;
    if (ctx.state === 'suspended') ctx.resume();
    [880, 1320].forEach(function (freq, i) {
      const osc = ctx.createOscillator(), gain = ctx.createGain(), t = ctx.currentTime + i * 0.18;
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.35);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + 0.4);
    });
    s7.sounds += 1;
  } catch (e) { /* no audio device: the badge and the toast still tell */ }
};
s7.alert = function (n) { s7.setBadge(n); s7.chime(); };
// Browser notifications while this tab is open but hidden (another tab, the phone's home screen).
s7.notified = 0;
s7.notify = function (title, body, tag) {
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  if (document.visibilityState !== 'hidden') return;
  try {
    const n = new Notification(title, {body: body, tag: tag, icon: '/icons/icon-192.png'});
    n.onclick = function () { window.focus(); n.close(); };
    s7.notified += 1;
  } catch (e) { /* some phones only notify through the service worker: the badge still tells */ }
};
// Ask once (and only after a gesture, as browsers require); the answer is the browser's to keep.
s7.askNotifications = function () {
  if (!('Notification' in window) || Notification.permission !== 'default') return;
  if (localStorage.getItem('s7-notifications-asked')) return;
  localStorage.setItem('s7-notifications-asked', '1');
  Notification.requestPermission();
};
document.addEventListener('pointerdown', s7.askNotifications, {once: true});
// Browsers only let a page make sound after a user gesture: unlock on the first click or key.
['pointerdown', 'keydown'].forEach(function (name) {
  document.addEventListener(name, function () { if (s7.audio && s7.audio.state === 'suspended') s7.audio.resume(); });
});
</script>
"""


class Alerts:
    """The bell next to the chat list, and the tab-title badge."""

    def __init__(self, on_open: Callable[[int], Any], user_id: int | None = None) -> None:
        self.on_open = on_open
        self.user_id = user_id
        self.unseen: dict[int, str] = {}  # conversation id → reason, in arrival order
        self.names: dict[int, str] = {}
        self._fresh: list[int] = []
        self._reasons: dict[int, str] = {}  # the latest reason per chat, also for the one open here
        self.current: int | None = None  # the chat open in this tab
        ui.add_head_html(_SCRIPT)
        self.refresh = Coalesced(ui.context.client, self._flush)
        with ui.button(icon="notifications").props("flat round dense color=grey-8").mark("alerts") as self.bell:
            self.badge = ui.badge(color="red").props("floating rounded").mark("alert-count")
            self.menu = ui.menu()
        self._paint()

    def handle(self, event: realtime.Event) -> None:
        if event.kind != "alert" or not isinstance(event.get("conversation_id"), int):
            return
        if event.get("for_user") is not None and event.get("for_user") != self.user_id:
            return  # someone else's reminder, assignment or mention
        conversation_id = event.get("conversation_id")
        reason = str(event.get("reason") or "hot")
        self._reasons[conversation_id] = reason
        if conversation_id != self.current:
            self.unseen.pop(conversation_id, None)
            self.unseen[conversation_id] = reason
        self._fresh.append(conversation_id)
        self.refresh.poke()

    def seen(self, conversation_id: int) -> None:
        self.current = conversation_id
        if self.unseen.pop(conversation_id, None) is not None:
            self._paint()
            ui.run_javascript(f"s7.setBadge({len(self.unseen):d})")

    async def _flush(self) -> None:
        fresh, self._fresh = list(dict.fromkeys(self._fresh)), []
        missing = [cid for cid in {*fresh, *self.unseen} if cid not in self.names]
        if missing:
            self.names.update(await io(_names, missing))
        for conversation_id in fresh:
            reason = REASONS.get(self._reasons.get(conversation_id, "hot"), REASONS["hot"])
            name = self.names.get(conversation_id, "cliente")
            ui.notify(f"{reason}: {name}", type="warning", position="top-right")
            # Customer names are data: they reach the script only as JSON string literals.
            args = ", ".join(json.dumps(v) for v in (reason, name, f"s7-chat-{conversation_id}"))
            ui.run_javascript(f"s7.notify({args})")
        self._paint()
        ui.run_javascript(f"s7.alert({len(self.unseen):d})")

    def _paint(self) -> None:
        count = len(self.unseen)
        self.badge.set_text(str(count))
        self.badge.set_visibility(count > 0)
        self.bell.props(f"color={'red-7' if count else 'grey-8'}")
        self.menu.clear()
        with self.menu:
            if not self.unseen:
                ui.menu_item("Sin alertas pendientes").props("disable")
            for conversation_id, reason in reversed(self.unseen.items()):
                label = f"{REASONS.get(reason, REASONS['hot'])}: {self.names.get(conversation_id, 'cliente')}"
                ui.menu_item(label, on_click=lambda c=conversation_id: self.on_open(c)).mark("alert-item")


def _names(conversation_ids: list[int]) -> dict[int, str]:
    with session_scope() as session:
        return inbox_queries.conversation_names(session, conversation_ids)
