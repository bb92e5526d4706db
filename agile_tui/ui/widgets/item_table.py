"""A backlog or sprint list drawn line by line (Textual's line API). It keeps one rendered line per item and
re-renders only the items that changed, so a key press costs the same with 50 items or 5,000."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...domain.model import Item
from ..text import plain

STATUS_LOOK = {
    "todo": ("○ todo", "status-todo"),
    "doing": ("◐ doing", "status-doing"),
    "done": ("● done", "status-done"),
    "blocked": ("✗ blocked", "status-blocked"),
}
KIND_MARK = {"deal": "◆ ", "milestone": "⚑ "}
OWNER_CELLS = 16
ESTIMATE_CELLS = 3
STATUS_CELLS = 17
GAP = 2


@dataclass(frozen=True)
class Layout:
    width: int
    title: int
    owner: int


class ItemTable(ScrollView, can_focus=True):
    """Rows of items in rank order under a fixed header; ``j``/``k`` move, ``enter`` selects."""

    COMPONENT_CLASSES = {"item-table--header", "item-table--cursor", "item-table--even"}
    BINDINGS = [
        Binding("down,j", "cursor(1)", "Down", show=False, id="list.down"),
        Binding("up,k", "cursor(-1)", "Up", show=False, id="list.up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="list.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="list.page_up"),
        Binding("home,g", "edge(0)", "Top", show=False, id="list.top"),
        Binding("end,G", "edge(1)", "Bottom", show=False, id="list.bottom"),
        Binding("enter", "select", "Edit", show=False, id="list.select"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False, init=False)

    @dataclass
    class Selected(Message):
        table: ItemTable
        item_id: str

        @property
        def control(self) -> ItemTable:
            return self.table

    def __init__(self, list_id: str | None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.list_id = list_id  # sprint id, or None for the backlog
        self._items: list[Item] = []
        self._index: dict[str, int] = {}
        self._names: dict[str, str] = {}
        self._ages: dict[str, int] = {}
        self._styles: dict[str, str] = {}
        self._lines: dict[str, tuple[Item, tuple, Strip]] = {}
        self._layout: Layout | None = None
        self._base: Style | None = None
        self._looks: tuple | None = None
        self._remembered: str | None = None

    # ------------------------------------------------------------------ reading

    @property
    def row_count(self) -> int:
        return len(self._items)

    @property
    def ids(self) -> list[str]:
        return [item.id for item in self._items]

    @property
    def selected_id(self) -> str | None:
        if not self._items:
            return None
        return self._items[min(self.cursor, len(self._items) - 1)].id

    # ------------------------------------------------------------------ updating

    def sync(self, items: list[Item], names: dict[str, str], ages: dict[str, int],
             status_styles: dict[str, str]) -> None:
        """Show exactly ``items`` in this order; only lines whose item changed are drawn again."""
        selected = self.selected_id
        if names is not self._names or status_styles != self._styles:
            self._names, self._styles = names, status_styles
            self._lines.clear()
            self._layout = None
        old = self._items
        self._items = items
        self._ages = ages
        if [i.id for i in old] != [i.id for i in items]:
            self._index = {item.id: n for n, item in enumerate(items)}
            self._set_rows(len(items) + 1)
            self.refresh()
        else:
            visible = range(int(self.scroll_offset.y), int(self.scroll_offset.y) + self.size.height)
            for n, (before, after) in enumerate(zip(old, items, strict=True)):
                if before is not after or after.id in ages and n in visible:
                    self._refresh_row(n)
        if selected is None:
            selected = self._remembered  # the list was empty (filtered to nothing): keep the old choice
        if selected in self._index:
            self._set_cursor(self._index[selected])
        else:
            self._set_cursor(min(self.cursor, max(0, len(items) - 1)))
        if selected is not None:
            self._remembered = selected

    def _set_rows(self, rows: int) -> None:
        """A new row count. ``virtual_size`` is a layout reactive: setting it re-lays out the whole screen
        (every widget repainted) and the relayout repaints the scrollbar once more, a frame later. Unless the
        scrollbar appears or goes, nothing moves: the scrollbar's length and the scroll limit are all that
        change, so those are updated here and the screen is left as it is."""
        size = Size(0, rows)
        height = self.container_size.height
        if not height or self.show_vertical_scrollbar != (rows > height):
            self.virtual_size = size
            self.call_after_refresh(self._scroll_to_cursor)  # the scroll limit is known after the layout
            return
        self.set_reactive(ItemTable.virtual_size, size)
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.window_virtual_size = rows
        self.scroll_y = self.scroll_y  # validated against the new limit

    def select(self, item_id: str) -> None:
        if item_id in self._index:
            self._set_cursor(self._index[item_id])

    def _set_cursor(self, row: int) -> None:
        if row != self.cursor:
            self.cursor = row
        self._scroll_to_cursor()

    def watch_cursor(self, old: int, new: int) -> None:
        self._refresh_row(old)
        self._refresh_row(new)

    def _refresh_row(self, row: int) -> None:
        y = row + 1 - int(self.scroll_offset.y)
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _scroll_to_cursor(self) -> None:
        rows = max(1, self.size.height - 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + rows:
            self.scroll_to(y=self.cursor - rows + 1, animate=False, immediate=True)

    def on_resize(self) -> None:
        self._layout = None
        self._lines.clear()
        self.virtual_size = Size(0, len(self._items) + 1)
        self._scroll_to_cursor()

    def notify_style_update(self) -> None:
        """Restyled (a focus move, a theme): the next draw checks whether the lines kept are still right."""
        super().notify_style_update()
        self._base = None

    def on_focus(self) -> None:
        self._refresh_row(self.cursor)  # only the cursor row looks different with focus

    def on_blur(self) -> None:
        self._refresh_row(self.cursor)

    # ------------------------------------------------------------------ keys and mouse

    def action_cursor(self, delta: int) -> None:
        if self._items:
            self._set_cursor(max(0, min(len(self._items) - 1, self.cursor + delta)))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.size.height - 2))

    def action_edge(self, end: int) -> None:
        if self._items:
            self._set_cursor(len(self._items) - 1 if end else 0)

    def action_select(self) -> None:
        if self.selected_id is not None:
            self.post_message(self.Selected(self, self.selected_id))

    def on_click(self, event: events.Click) -> None:
        row = event.y - 1 + int(self.scroll_offset.y)
        if event.y >= 1 and 0 <= row < len(self._items):
            self._set_cursor(row)
            if event.chain == 2:
                self.action_select()

    # ------------------------------------------------------------------ drawing

    def _fit(self) -> Layout:
        width = self.scrollable_content_region.width
        if self._layout is None or self._layout.width != width:
            owner = min(OWNER_CELLS, max([5, *(cell_len(plain(n)) for n in self._names.values())]))
            fixed = owner + ESTIMATE_CELLS + STATUS_CELLS + 4 * GAP
            self._layout = Layout(width, max(8, width - fixed), owner)
        return self._layout

    def _cells(self, layout: Layout, cells: list[tuple[Text, int, str]], style: Style) -> Strip:
        line = Text(" " * (GAP // 2), end="")
        for text, width, justify in cells:
            text = text.copy()
            text.no_wrap = True
            text.truncate(width, overflow="ellipsis")
            pad = width - text.cell_len
            if justify == "right":
                line.append(" " * pad)
                line.append_text(text)
            else:
                line.append_text(text)
                line.append(" " * pad)
            line.append(" " * GAP)
        segments = list(line.render(self.app.console))
        return Strip(Segment.apply_style(segments, style), line.cell_len).adjust_cell_length(layout.width, style)

    def render_line(self, y: int) -> Strip:
        layout = self._fit()
        if self._base is None:
            self._base = self.rich_style
            # A focus move restyles the table but changes only the cursor row's look (part of that row's
            # cache key): the other lines drawn stay valid, and are only drawn again if a style they use
            # changed (a theme).
            looks = (self._base, self.get_component_rich_style("item-table--header"),
                     self.get_component_rich_style("item-table--even"))
            if looks != self._looks:
                self._lines.clear()
                self._looks = looks
        base = self._base
        if y == 0:
            style = base + self.get_component_rich_style("item-table--header")
            return self._cells(layout, [(Text("Title"), layout.title, "left"),
                                        (Text("Owner"), layout.owner, "left"),
                                        (Text("Est"), ESTIMATE_CELLS, "right"),
                                        (Text("Status"), STATUS_CELLS, "left")], style)
        row = y - 1 + int(self.scroll_offset.y)
        if row >= len(self._items):
            return Strip.blank(layout.width, base)
        item = self._items[row]
        is_cursor = row == self.cursor
        cursor_look = self.get_component_rich_style("item-table--cursor") if is_cursor else None
        key = (self._ages.get(item.id), cursor_look, row % 2, layout)
        cached = self._lines.get(item.id)
        if cached is not None and cached[0] is item and cached[1] == key:
            return cached[2]
        style = base
        if row % 2:
            style = style + self.get_component_rich_style("item-table--even")
        if is_cursor:
            style = style + cursor_look
        strip = self._cells(layout, self._row(item), style)
        self._lines[item.id] = (item, key, strip)
        return strip

    def _row(self, item: Item) -> list[tuple[Text, int, str]]:
        label, variable = STATUS_LOOK.get(item.status, (item.status, "status-todo"))
        status = Text(label, style=self._styles.get(variable, ""), end="")
        age = self._ages.get(item.id)
        if age is not None:
            status.append(f" day {age}", style="bold")
        title = Text(end="")
        title.append(KIND_MARK.get(item.kind, ""), style="bold")
        title.append(plain(item.title))
        if item.note:
            title.append(" — ", style="dim")
            title.append(plain(item.note), style="italic")
        owner = Text(plain(self._names.get(item.owner, "—" if not item.owner else "?")), end="")
        return [(title, self._fit().title, "left"), (owner, self._fit().owner, "left"),
                (Text(item.estimate or "–", end=""), ESTIMATE_CELLS, "right"), (status, STATUS_CELLS, "left")]
