"""The chat list: filters, search, and one row per chat that updates in place.

A realtime event only marks chat ids dirty; shortly after a burst the list re-reads just those
rows (for this seller, with the current filter and search) and updates, moves, adds or removes
single rows. The whole list is rebuilt only when the seller changes the filter or the search.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from s7 import realtime
from s7.auth import CurrentUser
from s7.domain.reads import inbox as inbox_queries
from s7.domain.reads.inbox import FILTERS, PAGE_SIZE, ChatRow
from s7.pages.inbox_format import LEAD_COLOR, LEAD_LABEL, owner, short_time
from s7.pages.layout import io
from s7.pages.live_reads import Coalesced, shared_read

_ROW = "s7-chat-row w-full min-w-0 overflow-hidden px-3 py-2 border-b border-slate-200 cursor-pointer hover:bg-slate-50"
_SELECTED = "bg-teal-50 border-l-4 border-l-teal-600"


class ChatItem:
    """One row: name, time, last message, unread count, mode, lead, assignee."""

    def __init__(self, row: ChatRow, on_click: Callable[[int], Any]) -> None:
        self.row = row
        with ui.element("div").classes(_ROW) as self.root:
            with ui.row().classes("w-full min-w-0 items-center no-wrap gap-2"):
                self.name = ui.label().classes("font-semibold truncate grow min-w-0")
                self.time = ui.label().classes("text-xs text-slate-500 shrink-0")
            with ui.row().classes("w-full min-w-0 items-center no-wrap gap-2"):
                self.preview = ui.label().classes("text-sm text-slate-600 truncate grow min-w-0")
                self.unread = ui.badge(color="green-7").props("rounded").classes("shrink-0").mark("unread")
            with ui.row().classes("w-full min-w-0 items-center no-wrap gap-1 mt-1"):
                # One ownership line (who has it), then the lead: never "BOT · HUMANO · Pide vendedor" at once.
                self.owner_icon = ui.icon("smart_toy", size="14px").classes("shrink-0")
                self.owner = ui.label().classes("text-xs font-medium truncate min-w-0").mark("owner")
                self.lead = ui.badge().classes("text-[10px] shrink-0").mark("lead")
        self.root.on("click", lambda: on_click(self.row.id))
        self.root.mark(f"chat-{row.id}")
        self._shown: ChatRow | None = None
        self.update(row)

    def update(self, row: ChatRow) -> None:
        """Touch only what changed: every touched element is re-sent to the browser and
        re-rendered there, in every open tab."""
        old, self.row = self._shown, row
        self._shown = row
        if old is None or old.name != row.name:
            self.name.set_text(row.name)
        if old is None or old.sort_at != row.sort_at:
            self.time.set_text(short_time(row.sort_at))
        if old is None or old.preview != row.preview:
            self.preview.set_text(row.preview)
        if old is None or old.unread != row.unread:
            self.unread.set_text(str(row.unread) if row.unread < 100 else "99+")
            self.unread.set_visibility(row.unread > 0)
        if old is None or old.lead != row.lead:
            self.lead.set_text(LEAD_LABEL.get(row.lead, ""))
            self.lead.props(f"color={LEAD_COLOR.get(row.lead, 'grey')}")
            self.lead.set_visibility(row.lead in ("HOT", "HOT_LOST"))
        fields = ("mode", "assignee_name", "human_source", "awaiting_human")
        if old is None or any(getattr(old, f) != getattr(row, f) for f in fields):
            who = owner(row.mode, row.assignee_name, row.human_source, row.awaiting_human)
            self.owner.set_text(who.text)
            self.owner.classes(replace=f"text-xs font-medium truncate min-w-0 text-{who.color}")
            self.owner_icon.set_name(who.icon)
            self.owner_icon.props(f"color={who.color}")

    def select(self, selected: bool) -> None:
        if selected:
            self.root.classes(add=_SELECTED)
        else:
            self.root.classes(remove=_SELECTED)


def _key(row: ChatRow) -> tuple[Any, int]:
    return (row.sort_at, row.id)


class ChatList:
    """The left column of the inbox for one seller's tab."""

    def __init__(self, user: CurrentUser, on_open: Callable[[int], Any]) -> None:
        self.user = user
        self.on_open = on_open
        self.filter_key = "all"
        self.query = ""
        self.limit = PAGE_SIZE
        self.items: dict[int, ChatItem] = {}
        self.order: list[int] = []  # ids as displayed, newest first
        self.selected: int | None = None
        self._dirty: set[int] = set()
        self._full = True
        self.refresh = Coalesced(ui.context.client, self._flush)

        with ui.column().classes("w-full h-full gap-0 no-wrap") as self.root:
            with ui.column().classes("w-full gap-1 p-2 border-b border-slate-200 bg-white"):
                self.search = (
                    ui.input(placeholder="Buscar nombre, teléfono o texto", on_change=self._search_changed)
                    .props("dense outlined clearable debounce=300")
                    .classes("w-full")
                    .mark("search")
                )
                with self.search.add_slot("prepend"):
                    ui.icon("search")
                with ui.row().classes("gap-1"):
                    self.chips = {
                        key: ui.chip(label, on_click=lambda k=key: self.set_filter(k))
                        .props("dense clickable")
                        .classes("text-xs")
                        .mark(f"filter-{key}")
                        for key, label in FILTERS.items()
                    }
            # A plain overflow box (not ui.scroll_area): rows stay as wide as the column and truncate.
            with ui.element("div").classes("w-full grow min-h-0 overflow-y-auto overflow-x-hidden bg-white"):
                self.column = ui.column().classes("w-full gap-0").mark("chat-list")
                self.empty = ui.label("No hay conversaciones acá.").classes("p-4 text-slate-500").mark("empty-list")
                self.more = ui.button("Ver más", on_click=self._more).props("flat no-caps").classes("w-full")
        self._paint_chips()

    # ---- seller actions ----------------------------------------------------------------------
    def set_filter(self, key: str) -> None:
        self.filter_key = key if key in FILTERS else "all"
        self.limit = PAGE_SIZE
        self._paint_chips()
        self.reload()

    def _search_changed(self, _event: Any) -> None:
        self.query = (self.search.value or "").strip()
        self.limit = PAGE_SIZE
        self.reload()

    def _more(self) -> None:
        self.limit = min(self.limit + PAGE_SIZE, inbox_queries.MAX_ROWS)
        self.reload()

    def _paint_chips(self) -> None:
        for key, chip in self.chips.items():
            active = key == self.filter_key
            chip.props(f"color={'teal-7' if active else 'grey-3'} text-color={'white' if active else 'grey-9'}")

    def select(self, conversation_id: int | None) -> None:
        if self.selected in self.items:
            self.items[self.selected].select(False)
        self.selected = conversation_id
        if conversation_id in self.items:
            self.items[conversation_id].select(True)

    # ---- live updates --------------------------------------------------------------------------
    def reload(self) -> None:
        self._full = True
        self.refresh.poke()

    def handle(self, event: realtime.Event) -> None:
        if event.kind == "resync":
            self.reload()
            return
        if event.kind not in ("message", "conversation"):
            return
        reader = event.get("read_by")
        if reader is not None and reader != self.user.id:
            return  # another seller read it: nothing changes in my list
        conversation_id = event.get("conversation_id")
        if isinstance(conversation_id, int):
            self._dirty.add(conversation_id)
            self.refresh.poke(event)

    async def _flush(self) -> None:
        if self._full:
            self._full = False
            self._dirty.clear()
            rows = await io(self._read, None)
            self._rebuild(rows)
            return
        ids, self._dirty = sorted(self._dirty), set()
        if ids:
            # Tabs of the same seller with the same view share one query per event.
            key = ("list", self.user.id, self.filter_key, self.query, tuple(ids), self.refresh.stamp)
            rows = await shared_read(key, self._read, ids)
            self._apply(ids, rows)

    def _read(self, only_ids: list[int] | None) -> list[ChatRow]:
        from s7.db import session_scope

        with session_scope() as session:
            return inbox_queries.list_chats(
                session,
                self.user.id,
                filter_key=self.filter_key,
                query=self.query,
                limit=self.limit if only_ids is None else len(only_ids),
                only_ids=only_ids,
            )

    def _rebuild(self, rows: list[ChatRow]) -> None:
        self.column.clear()
        self.items.clear()
        self.order = []
        with self.column:
            for row in rows:
                self.items[row.id] = ChatItem(row, self.on_open)
                self.order.append(row.id)
        self.select(self.selected)
        self.more.set_visibility(len(rows) >= self.limit and self.limit < inbox_queries.MAX_ROWS)
        self._paint_empty()

    def _apply(self, ids: list[int], rows: list[ChatRow]) -> None:
        found = {row.id: row for row in rows}
        for conversation_id in ids:
            row = found.get(conversation_id)
            item = self.items.get(conversation_id)
            if row is None:
                if item is not None:  # left the current filter/search
                    self.order.remove(conversation_id)
                    self.column.remove(item.root)
                    del self.items[conversation_id]
                continue
            if item is None:
                with self.column:  # appended last
                    item = self.items[conversation_id] = ChatItem(row, self.on_open)
                if conversation_id == self.selected:
                    item.select(True)
                was = len(self.order)
            else:
                was = self.order.index(conversation_id)
                self.order.remove(conversation_id)
                item.update(row)
            index = next(
                (i for i, other in enumerate(self.order) if _key(self.items[other].row) < _key(row)), len(self.order)
            )
            self.order.insert(index, conversation_id)
            if index != was:  # a move re-sends the whole column to the browser
                item.root.move(self.column, target_index=index)
        self._paint_empty()

    def _paint_empty(self) -> None:
        self.empty.set_visibility(not self.items)
