"""A backlog or sprint list: a DataTable updated in place (only changed rows are touched), so a key
press stays fast with thousands of items."""

from __future__ import annotations

from datetime import date

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from ...domain.model import Item
from ..text import KeyedText, safe

STATUS_LOOK = {
    "todo": ("○ todo", "status-todo"),
    "doing": ("◐ doing", "status-doing"),
    "done": ("● done", "status-done"),
    "blocked": ("✗ blocked", "status-blocked"),
}
COLUMNS = (("title", "Title"), ("owner", "Owner"), ("estimate", "Est"), ("status", "Status"))
KIND_MARK = {"deal": ("◆ ", "deal"), "milestone": ("⚑ ", "milestone")}
# Cells besides the title and owner: estimate 3 + status 15, 2 of padding per column, border and scrollbar.
OTHER_CELLS = 3 + 15 + 2 * len(COLUMNS) + 3
OWNER_CELLS = 16


class ItemTable(DataTable):
    """Rows keyed by item id, in rank order."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="list.down"),
        Binding("k", "cursor_up", "Up", show=False, id="list.up"),
        Binding("g", "scroll_top", "Top", show=False, id="list.top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="list.bottom"),
    ]

    def __init__(self, list_id: str | None, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.list_id = list_id  # sprint id, or None for the backlog
        self._shown: dict[str, Item] = {}
        self._order: list[str] = []
        self._names: dict[str, str] | None = None
        self._title_cells = 44
        self._status_styles: dict[str, str] = {}
        self._last_sync: tuple | None = None

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    @property
    def selected_id(self) -> str | None:
        if not self._order or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key((self.cursor_row, 0))
        return row_key.value

    def on_resize(self) -> None:
        self._fit_titles()

    def _fit_titles(self) -> None:
        """Titles take the width the other columns leave."""
        owner = min(OWNER_CELLS, max([5, *(cell_len(n) for n in (self._names or {}).values())]))
        cells = max(16, self.size.width - OTHER_CELLS - owner)
        if cells != self._title_cells and self.size.width:
            self._title_cells = cells
            self._shown = {}
            self._order = []
            self.clear(columns=True)  # column widths follow the new title width
            for key, label in COLUMNS:
                self.add_column(label, key=key)
            if self._last_sync is not None:
                self.sync(*self._last_sync)

    def _row(self, item: Item, names: dict[str, str], ages: dict[str, int]) -> list[Text]:
        label, variable = STATUS_LOOK.get(item.status, (item.status, "status-todo"))
        status = Text(label, style=self._status_styles.get(variable, ""), no_wrap=True, end="")
        if item.id in ages:
            status.append(f" day {ages[item.id]}", style="bold")
        mark = KIND_MARK.get(item.kind)
        title = KeyedText.keyed(mark[0] if mark else "", (item.rank, item.id), style="bold")
        title.append_text(safe(item.title))
        if item.note:
            title.append(" — ", style="dim")
            title.append_text(safe(item.note, style="italic"))
        if title.cell_len > self._title_cells:
            title.truncate(self._title_cells, overflow="ellipsis")
        return [title, safe(names.get(item.owner, "—" if not item.owner else "?"), max_cells=OWNER_CELLS),
                Text(item.estimate or "–", justify="right"), status]

    def sync(self, items: list[Item], names: dict[str, str], ages: dict[str, int],
             status_styles: dict[str, str]) -> None:
        """Show exactly ``items`` in this order, touching only rows that changed."""
        self._last_sync = (items, names, ages, status_styles)
        selected = self.selected_id
        if names is not self._names or status_styles != self._status_styles:
            self._names = names
            self._status_styles = status_styles
            self._shown = {}
            self._fit_titles()
        wanted = {item.id: item for item in items}
        for gone in [key for key in self._order if key not in wanted]:
            self.remove_row(gone)
            self._shown.pop(gone, None)
        existing = set(self._order) & wanted.keys()
        for item in items:
            if self._shown.get(item.id) is item and item.id not in ages:
                continue
            cells = self._row(item, names, ages)
            if item.id in existing:
                for (key, _), cell in zip(COLUMNS, cells):
                    self.update_cell(item.id, key, cell)
            else:
                self.add_row(*cells, key=item.id)
            self._shown[item.id] = item
        order = [item.id for item in items]
        if order != self._order and self.row_count:
            current = [row.key.value for row in self.ordered_rows]
            if current != order:
                self.sort("title", key=lambda title: title.sort_key)
        self._order = order
        if selected in wanted:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    def select(self, item_id: str) -> None:
        if item_id in self._shown:
            self.move_cursor(row=self.get_row_index(item_id), animate=False)
