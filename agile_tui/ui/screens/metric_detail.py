"""A metric in detail (enter on the board): a plotext line chart with the target line over a chosen span, and a
table per member. The chart resizes with the terminal; new samples redraw it in place."""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual_plotext import PlotextPlot

from ...domain.metrics import MetricDetail, format_value, metric_detail, span_start
from ..text import safe
from ..widgets.key_bar import KeyBar
from ..widgets.metric_board import STATUS_LABEL
from ..widgets.room_bar import RoomBar

STATUS_STYLE = {"green": "green", "amber": "yellow", "red": "red", "none": "dim"}
SPANS = {"week": (4, 12, 26, 52), "day": (14, 30, 90, 365)}


class MetricChart(PlotextPlot):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._shown: tuple | None = None

    def show(self, detail: MetricDetail, title: str) -> None:
        key = (detail.periods, detail.series, detail.target, title)
        if key == self._shown:
            return
        self._shown = key
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        xs = list(range(len(detail.periods)))
        points = [(x, v) for x, v in zip(xs, detail.series, strict=True) if v is not None]
        if points:
            plt.plot([x for x, _ in points], [v for _, v in points], label="value", marker="braille")
        if xs:
            plt.plot(xs, [detail.target] * len(xs), label="target", marker="braille")
            step = max(1, len(xs) // 6)
            plt.xticks(xs[::step], [p[5:] for p in detail.periods[::step]])
        self.refresh()


class MetricDetailScreen(Screen):
    TITLE_TEXT = "Metric detail"
    BINDINGS = [
        Binding("escape", "back", "Back", id="metric.detail_back"),
        Binding("w", "period", "Day/week", id="metric.detail_period"),
        Binding("s", "span(1)", "Longer", id="metric.detail_longer", tooltip="A longer span"),
        Binding("S", "span(-1)", "Shorter", id="metric.detail_shorter", tooltip="A shorter span"),
    ]

    def __init__(self, metric_id: str, period: str, member_id: str | None) -> None:
        super().__init__()
        self.metric_id, self.period, self.member_id = metric_id, period, member_id
        self._span = 1

    def compose(self) -> ComposeResult:
        yield RoomBar(id="room-bar")
        with Vertical(id="detail-body"):
            yield Static(id="detail-title", classes="list-heading")
            yield MetricChart(id="detail-chart")
            yield DataTable(id="detail-members", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self._draw(self.app.session.state)

    def on_screen_resume(self) -> None:
        self._draw(self.app.session.state)

    def show_state(self, state) -> None:
        """The room changed (a new sample, from anywhere): redraw in place."""
        if self.is_mounted:
            self._draw(state)

    def _draw(self, state) -> None:
        self.query_one(RoomBar).show(state, self.app.today())
        metric = state.metrics.get(self.metric_id)
        if metric is None:  # removed meanwhile
            self.app.pop_screen()
            return
        today: date = self.app.today()
        count = SPANS[self.period][self._span]
        detail = metric_detail(state, self.metric_id, period=self.period, start=span_start(today, self.period, count),
                               end=today, member_id=self.member_id)
        who = "the team"
        if detail.member_id is not None and detail.member_id in state.members:
            who = state.members[detail.member_id].name
        target = format_value(metric.target, metric.unit)
        title = f"{metric.name} · {who} · last {count} {self.period}s · target {target}"
        self.query_one("#detail-title", Static).update(Text.assemble(
            safe(title, style="bold"), ("   w day/week · s/S span · escape back", "dim")))
        self.query_one(MetricChart).show(detail, f"{metric.name} ({metric.unit or 'value'})")
        table = self.query_one("#detail-members", DataTable)
        table.clear(columns=not table.columns)
        if not table.columns:
            table.add_columns("Who", "Latest", "Over the span", "Samples", "Status")
        for line in detail.members:
            table.add_row(safe(line.name), safe(format_value(line.latest, metric.unit)),
                          safe(format_value(line.overall, metric.unit)), str(line.count),
                          Text(STATUS_LABEL[line.status], style=STATUS_STYLE[line.status]))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_period(self) -> None:
        self.period = "week" if self.period == "day" else "day"
        self.show_state(self.app.session.state)

    def action_span(self, step: int) -> None:
        self._span = max(0, min(len(SPANS[self.period]) - 1, self._span + step))
        self.show_state(self.app.session.state)
