"""The metrics board: one row per metric (name, sparkline of recent periods, latest value, change, target and a
status that honours direction). A row redraws only when its domain row changed, so a new sample updates one row
in place."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from ...domain.metrics import MetricRow, format_value
from ..text import safe

STATUS_LABEL = {"green": "● on target", "amber": "● 50–99%", "red": "● below 50%", "none": "○ no data"}
NAME_CELLS = 28


def sparkline_data(series) -> list[float]:
    """The sparkline's bars: periods without data are left out (a gap is not a zero)."""
    return [v for v in series if v is not None] or [0.0]


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

    def compose(self) -> ComposeResult:
        with Horizontal(classes="metric-cells"):
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
        self._ready = True  # (the cells exist from here on)
        if self.row is not None:
            self._draw(self.row)

    def _draw(self, row: MetricRow) -> None:
        name = Text("★ " if row.focus else "  ", style="bold")
        name.append_text(safe(row.name, max_cells=NAME_CELLS - 2))
        self.query_one(".metric-name", Static).update(name)
        self.query_one(".metric-spark", Sparkline).data = sparkline_data(row.series)
        self.query_one(".metric-latest", Static).update(Text(format_value(row.latest, row.unit), style="bold"))
        change = self.query_one(".metric-change", Static)
        change.update(change_text(row))
        change.set_class(row.better is True, "-better")
        change.set_class(row.better is False, "-worse")
        self.query_one(".metric-target", Static).update(target_text(row))
        status = self.query_one(".metric-status", Static)
        status.update(STATUS_LABEL[row.status])
        for name_ in ("green", "amber", "red", "none"):
            status.set_class(row.status == name_, f"-{name_}")

    def on_click(self, event) -> None:
        self.focus()
        if event.chain == 2:  # a double click opens the detail, as enter does
            self.post_message(self.Chosen(self.metric_id))
