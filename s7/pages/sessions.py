"""Open panel tabs end when their session does, and no action runs on an ended session.

A NiceGUI tab lives on a websocket opened once; the gate (s7.auth.AuthGate) saw the session
only then. So, for every tab that `layout.frame` builds:

- `watch` ties the tab to its session (user, session_version, session id). When a
  `session_ended` event names that user (password reset, deactivation, "cerrar sesión en todos
  los dispositivos") or that session (a logout), on this replica or another one through the
  Postgres bridge, the server ends the tab itself: it sends the browser to /login for the
  person in front of it and, a moment later, disconnects the tab's sockets and deletes its
  client, so a browser that ignores the redirect has nothing left to talk to (its reconnect
  meets the gate with a dead session).
- `install` puts a guard in front of NiceGUI's socket `event` handler: before each panel
  action the session is re-checked in the database (`s7.auth.session_alive`: active, same
  session_version, not logged out); an action on an ended session is dropped and the tab is
  ended. Events of one tab stay in order: each waits for the previous one of the same tab.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from nicegui import Client, background_tasks, core, ui
from nicegui import nicegui as nicegui_module

from s7 import realtime
from s7.auth import CurrentUser, session_alive

log = logging.getLogger(__name__)

GRACE_SECONDS = 0.5  # time for the redirect to reach the browser before its sockets are cut


@dataclass
class _Tab:
    user: CurrentUser
    ended: bool = False


_tabs: dict[str, _Tab] = {}
_chains: dict[str, asyncio.Future[None]] = {}


def watch(client: Client, user: CurrentUser) -> None:
    """Tie this tab to its session: ended by the server when the session ends."""
    _tabs[client.id] = _Tab(user)

    def on_event(event: realtime.Event) -> None:
        if event.kind != "session_ended" or event.get("user_id") != user.id:
            return
        if event.get("session_id") not in (None, user.session_id):
            return  # another session of the same user logged out
        end_tab(client)

    unsubscribe = realtime.subscribe(lambda event: _on_loop(client, on_event, event))

    def forget() -> None:
        unsubscribe()
        _tabs.pop(client.id, None)

    client.on_delete(forget)


def _on_loop(client: Client, handler: Any, event: realtime.Event) -> None:
    if not client.is_deleted:
        handler(event)


def leaving(client: Client) -> None:
    """This tab is logging out by itself (its form posts to /auth/logout): it takes no further
    action and is not redirected again when its own logout's event arrives."""
    tab = _tabs.get(client.id)
    if tab is not None:
        tab.ended = True


def end_tab(client: Client) -> None:
    """Send the browser to /login, then cut its sockets and drop the tab's server state."""
    tab = _tabs.get(client.id)
    if tab is not None:
        if tab.ended:
            return
        tab.ended = True
    if client.is_deleted:
        return
    with client:
        ui.navigate.to("/login?ended=1")
    background_tasks.create(_cut(client), name="end-tab")


async def _cut(client: Client) -> None:
    await asyncio.sleep(GRACE_SECONDS)
    sio = core.sio
    for socket_id in list(client._socket_to_document_id):  # noqa: SLF001 - NiceGUI keeps no public list
        try:
            await sio.disconnect(socket_id)
        except Exception:  # already gone
            log.debug("socket %s already closed", socket_id)
    if not client.is_deleted:
        client.delete()


def install() -> None:
    """Guard NiceGUI's socket `event` handler (idempotent; `configure` calls it)."""
    core.sio.on("event", handler=_guarded_event)


def _dispatch(msg: dict[str, Any]) -> None:
    nicegui_module._on_event("", msg)  # noqa: SLF001 - NiceGUI's own handler, unchanged


async def _guarded_event(socket_id: str, msg: dict[str, Any]) -> None:
    client_id = msg.get("client_id") if isinstance(msg, dict) else None
    tab = _tabs.get(client_id) if isinstance(client_id, str) else None
    if tab is None:
        _dispatch(msg)  # not a panel tab of ours (or a test client): NiceGUI as it is
        return
    # Keep this tab's events in order while each waits for its database check.
    previous = _chains.get(client_id)
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    _chains[client_id] = done
    try:
        if previous is not None:
            await previous
        if tab.ended or not await asyncio.to_thread(session_alive, tab.user):
            log.info("panel action refused: the session of user %s ended", tab.user.id)
            client = Client.instances.get(client_id)
            if client is not None:
                end_tab(client)
            return
        _dispatch(msg)
    finally:
        done.set_result(None)
        if _chains.get(client_id) is done:
            del _chains[client_id]


def tab_count() -> int:
    return len(_tabs)
