"""The metrics board: one row per metric (name, sparkline of recent periods, latest value, change, target and a
status that honours direction). A row redraws only when its domain row changed, so a new sample updates one row
in place."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from ...domain.metrics import MetricRow, format_value
from ..text import safe

STATUS_LABEL = {"green": "● on target", "amber": "● 50–99%", "red": "● below 50%", "none": "○ no data"}
NAME_CELLS = 28


def sparkline_data(series) -> list[float]:
    """The sparkline's bars: periods without data are left out (a gap is not a zero). With no data it is empty
    (the row says "no data"); one value alone draws a low bar, not a full one."""
    values = [v for v in series if v is not None]
    return [0.0, values[0]] if len(values) == 1 and values[0] > 0 else values


BLOCKS = "▁▂▃▄▅▆▇█"


def spark_text(series) -> str:
    """A sparkline as text (for places that show several in a line of text, like the standup)."""
    values = [v for v in series if v is not None]
    if not values:
        return "no data"
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(BLOCKS[min(7, int((v - low) / span * 7.999))] for v in values)


def change_text(row: MetricRow) -> Text:
    """Change since the previous period with data; its colour (better or worse) comes from the CSS class."""
    if row.change is None:
        return Text("–", style="dim")
    arrow = "▲" if row.change > 0 else "▼" if row.change < 0 else "="
    return Text(f"{arrow} {format_value(abs(row.change), row.unit)}")


def target_text(row: MetricRow) -> Text:
    sign = "≥" if row.direction == "higher" else "≤"
    return Text(f"{sign} {format_value(row.target, row.unit)}", style="dim")


class MetricRowView(Widget, can_focus=True):
    """One metric on the board. Focusable: j/k move, enter opens the detail."""

    DEFAULT_CSS = """
    MetricRowView { height: 1; layout: horizontal; }
    """

    class Chosen(Message):
        def __init__(self, metric_id: str) -> None:
            super().__init__()
            self.metric_id = metric_id

    def __init__(self, metric_id: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.metric_id = metric_id
        self.row: MetricRow | None = None
        self._ready = False
        self._cells: dict[str, Static] = {}
        self._spark: Sparkline | None = None
        self._shown: dict[str, Text | str] = {}  # what each cell shows

    def compose(self) -> ComposeResult:
        # The cells side by side in the row itself (layout: horizontal), without a container of their own: every
        # widget on the board adds to the time of each frame and of opening the board.
        yield Static(classes="metric-name")
        yield Sparkline([0.0], classes="metric-spark")
        yield Static(classes="metric-latest")
        yield Static(classes="metric-change")
        yield Static(classes="metric-target")
        yield Static(classes="metric-status")

    def show(self, row: MetricRow) -> bool:
        """Draw ``row``; returns whether anything was redrawn (the same row object: nothing to do)."""
        if row is self.row:
            return False
        self.row = row
        if self._ready:
            self._draw(row)
        return True

    def on_mount(self) -> None:
        self._cells = {name: self.query_one(f".metric-{name}", Static)
                       for name in ("name", "latest", "change", "target", "status")}
        self._spark = self.query_one(".metric-spark", Sparkline)
        self._ready = True  # (the cells exist from here on)
        if self.row is not None:
            self._draw(self.row)

    def _draw(self, row: MetricRow) -> None:
        name = Text("★ " if row.focus else "  ", style="bold")
        name.append_text(safe(row.name, max_cells=NAME_CELLS - 2))
        self._put("name", name)
        self._spark.data = sparkline_data(row.series)  # (a reactive: redraws only when the values differ)
        self._put("latest", Text(format_value(row.latest, row.unit), style="bold"))
        self._put("change", change_text(row))
        change = self._cells["change"]
        change.set_class(row.better is True, "-better")
        change.set_class(row.better is False, "-worse")
        self._put("target", target_text(row))
        self._put("status", STATUS_LABEL[row.status])
        status = self._cells["status"]
        for name_ in ("green", "amber", "red", "none"):
            status.set_class(row.status == name_, f"-{name_}")

    def _put(self, cell: str, content: Text | str) -> None:
        """Show ``content`` in a cell, unless it shows that already (each redrawn cell adds to the next frame).
        The cells have fixed sizes (app.tcss; one line), so once drawn, new text needs a repaint of the cell, not a
        layout of the screen: Static.update's default (a layout) cost a reflow and a repaint of the whole screen."""
        shown = self._shown.get(cell)
        # (a Text's equality leaves out its own style: compare that too)
        if shown != content or getattr(shown, "style", None) != getattr(content, "style", None):
            self._shown[cell] = content
            self._cells[cell].update(content, layout=shown is None)

    def on_click(self, event) -> None:
        self.focus()
        if event.chain == 2:  # a double click opens the detail, as enter does
            self.post_message(self.Chosen(self.metric_id))
