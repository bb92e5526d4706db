"""The live metrics board (key 3): a row per metric, focus metrics first, against targets.

Rows are the domain's ``board_rows``; a row object that did not change is the same object, so a new sample (from
the keyboard, an import or the hub) redraws only its own row, in place."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...domain import apply_all, new_id
from ...domain.backlog_csv import decode
from ...domain.errors import OpRejected
from ...domain.metrics import board_rows, focus_metrics, parse_value
from ...domain.metrics_csv import parse_samples
from ...domain.planning import planning_sprint
from ..text import safe
from ..widgets.dialogs import PromptDialog
from ..widgets.key_bar import KeyBar
from ..widgets.metric_board import MetricRowView
from ..widgets.metric_dialogs import MetricDialog, SampleDialog
from ..widgets.room_bar import RoomBar
from ..widgets.standup_dialogs import PickDialog
from .base import RitualScreen
from .metric_detail import MetricDetailScreen

MAX_PROBLEMS_SHOWN = 6


class MetricsScreen(RitualScreen):
    TITLE_TEXT = "Metrics"
    FACILITATOR_ACTIONS = frozenset({"remove_metric"})
    BINDINGS = [
        Binding("j,down", "move(1)", "Down", id="metrics.down", show=False),
        Binding("k,up", "move(-1)", "Up", id="metrics.up", show=False),
        Binding("enter", "detail", "Detail", id="metrics.detail", tooltip="Chart and per-member table"),
        Binding("a", "add_sample", "Add sample", id="metrics.add_sample"),
        Binding("w", "period", "Day/week", id="metrics.period"),
        Binding("f", "filter", "Team/member", id="metrics.filter", tooltip="Show one member's values, or the team's"),
        Binding("asterisk", "focus_metric", "Focus", id="metrics.focus",
                tooltip="Make the metric one of the sprint's focus metrics (up to three), or not"),
        Binding("n", "new_metric", "New metric", id="metrics.new"),
        Binding("e", "edit_metric", "Edit", id="metrics.edit"),
        Binding("d", "remove_metric", "Remove", id="metrics.remove", tooltip="Remove the metric and its samples"),
        Binding("i", "import_csv", "Import CSV", id="metrics.import", show=False,
                tooltip="Import samples from a CSV file: date, metric, member, value"),
        Binding("u", "undo", "Undo", id="metrics.undo"),
        Binding("ctrl+r", "redo", "Redo", id="metrics.redo", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.period = "day"
        self.member_id: str | None = None
        self._ids: list[str] = []
        self._views: dict[str, MetricRowView] = {}
        self._heading: Text | None = None

    def compose(self) -> ComposeResult:
        yield RoomBar(id="room-bar")
        yield Static(id="board-heading", classes="list-heading")
        yield Static(id="board-columns")
        yield VerticalScroll(id="board")
        yield Static(id="board-empty")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#board-columns", Static).update(Text.assemble(
            ("  Metric".ljust(30), "bold"), ("Recent periods".ljust(30), "bold"), ("Latest".ljust(13), "bold"),
            ("Change".ljust(13), "bold"), ("Target".ljust(13), "bold"), ("Status", "bold")))
        self.show_state(self.app.session.state)

    # ------------------------------------------------------------------ drawing

    def draw(self, state) -> None:
        today = self.app.today()
        rows = board_rows(state, period=self.period, member_id=self.member_id, today=today)
        ids = [row.metric_id for row in rows]
        who = "the team"
        if self.member_id is not None and self.member_id in state.members:
            who = state.members[self.member_id].name
        focus = len(focus_metrics(state))
        heading = Text.assemble(("Metrics", "bold"), f" · by {self.period} · ", safe(who, style="bold"),
                                f" · {len(rows)} metrics, {focus} in focus (★)")
        if heading != self._heading:  # (an update is a layout of the screen: not for every new sample)
            self._heading = heading
            self.query_one("#board-heading", Static).update(heading)
        empty = self.query_one("#board-empty", Static)
        empty.display = not rows
        if not rows:
            empty.update("No metrics yet: n defines one (name, unit, target, direction, scope, summary).")
        if ids != self._ids:
            self._rebuild(ids)
        for row in rows:
            self._views[row.metric_id].show(row)

    def _rebuild(self, ids: list[str]) -> None:
        board = self.query_one("#board", VerticalScroll)
        focused = self.focused.metric_id if isinstance(self.focused, MetricRowView) else None
        old = self._views
        self._views = {metric_id: old.get(metric_id) or MetricRowView(metric_id) for metric_id in ids}
        for metric_id, view in old.items():
            if metric_id not in self._views:
                view.remove()
        new = [view for metric_id, view in self._views.items() if metric_id not in old]
        if new:
            board.mount(*new)
        for n, metric_id in enumerate(ids):  # the board's order (focus metrics first)
            view = self._views[metric_id]
            if n and view.parent is board:
                board.move_child(view, after=self._views[ids[n - 1]])
        self._ids = ids
        target = self._views.get(focused or "") or (self._views[ids[0]] if ids else None)
        if target is not None and not isinstance(self.focused, MetricRowView):
            self.call_after_refresh(target.focus)

    # ------------------------------------------------------------------ the selected metric

    def _selected(self) -> str | None:
        focused = self.focused
        if isinstance(focused, MetricRowView):
            return focused.metric_id
        return self._ids[0] if self._ids else None

    def action_move(self, step: int) -> None:
        if not self._ids:
            return
        current = self._selected()
        index = self._ids.index(current) if current in self._ids else 0
        view = self._views[self._ids[max(0, min(len(self._ids) - 1, index + step))]]
        view.focus()
        view.scroll_visible()

    @on(MetricRowView.Chosen)
    def _chosen(self, event: MetricRowView.Chosen) -> None:
        self._open_detail(event.metric_id)

    def action_detail(self) -> None:
        if (metric_id := self._selected()) is not None:
            self._open_detail(metric_id)

    def _open_detail(self, metric_id: str) -> None:
        self.app.push_screen(MetricDetailScreen(metric_id, "week" if self.period == "week" else "day",
                                                self.member_id))

    # ------------------------------------------------------------------ actions

    def action_period(self) -> None:
        self.period = "week" if self.period == "day" else "day"
        self.show_state(self.app.session.state)

    def action_filter(self) -> None:
        state = self.app.session.state
        choices = [("", "The team")] + [(m.id, m.name) for m in state.members.values() if m.active]

        def pick(member_id: str) -> None:
            self.member_id = member_id or None
            self.show_state(self.app.session.state)

        self.app.push_screen(PickDialog("Whose values? (per-member metrics)", choices, pick))

    def action_add_sample(self) -> None:
        state = self.app.session.state
        if not state.metrics:
            self.app.say("Define a metric first (n).", severity="warning")
            return
        selected = state.metrics.get(self._selected() or "")
        names = {m.name: m for m in state.metrics.values()}
        members = {m.name: m.id for m in state.members.values()}
        member_name = state.members[self.member_id].name if self.member_id in state.members else ""

        def save(metric_text: str, value_text: str, member_text: str, day: str) -> str | None:
            metric = names.get(metric_text) or next(
                (m for m in state.metrics.values() if m.name.casefold() == metric_text.casefold()
                 or m.id == metric_text), None)
            if metric is None:
                return f"There is no metric called {metric_text!r}."
            try:
                value = parse_value(value_text, metric)
            except ValueError as error:
                return f"{metric.name}: {error}."
            member_id = None
            if member_text:
                member_id = members.get(member_text) or next(
                    (m.id for m in state.members.values() if m.name.casefold() == member_text.casefold()), None)
                if member_id is None:
                    return f"There is nobody called {member_text!r} in the team."
            args = {"member_id": member_id} if member_id else {}
            return self.app.submit("metric.sample", id=new_id("sample-"), metric_id=metric.id, value=value,
                                   date=day, **args)

        self.app.push_screen(SampleDialog(sorted(names), sorted(members), selected.name if selected else "",
                                          self.app.today().isoformat(), save, member=member_name))

    def _metric_dialog(self, metric_id: str | None) -> None:
        metric = self.app.session.state.metrics.get(metric_id or "")

        def save(fields: dict[str, str]) -> str | None:
            if not fields["target"]:
                return "Give a target (0 if the metric is only tracked, not aimed at)."
            try:
                target = float(fields["target"])
            except ValueError:
                return f"The target must be a number; got {fields['target']!r}."
            return self.app.submit("metric.define", id=metric.id if metric else new_id("metric-"),
                                   name=fields["name"], unit=fields["unit"], target=target,
                                   direction=fields["direction"], scope=fields["scope"], summary=fields["summary"])

        self.app.push_screen(MetricDialog(metric, save))

    def action_new_metric(self) -> None:
        self._metric_dialog(None)

    def action_edit_metric(self) -> None:
        if (metric_id := self._selected()) is not None:
            self._metric_dialog(metric_id)

    def action_remove_metric(self) -> None:
        metric = self.app.session.state.metrics.get(self._selected() or "")
        if metric is not None and self.app.submit("metric.remove", id=metric.id) is None:
            self.app.say(Text.assemble("Removed ", safe(metric.name), " and its samples (u undoes)."), timeout=5)

    def action_focus_metric(self) -> None:
        state = self.app.session.state
        sprint = planning_sprint(state)
        metric_id = self._selected()
        if metric_id is None:
            self.app.say("No metrics yet: n defines one.", severity="warning")
            return
        if sprint is None:
            self.app.say("Focus metrics belong to a sprint: create one on planning first.", severity="warning")
            return
        current = list(focus_metrics(state, sprint.id))
        wanted = [m for m in current if m != metric_id] if metric_id in current else [*current, metric_id]
        self.app.submit("sprint.focus", id=sprint.id, metric_ids=wanted)

    def action_undo(self) -> None:
        self.app.take_back("undo")

    def action_redo(self) -> None:
        self.app.take_back("redo")

    # ------------------------------------------------------------------ CSV import

    def action_import_csv(self) -> None:
        if os.environ.get(RESTRICTED_ENV):  # a client the hub runs for someone over SSH: not their files
            self.app.say("Importing a file is not available over SSH: the file would be read on the hub's "
                         "machine. Post the samples to the hub's metrics API instead.", severity="warning", timeout=8)
            return

        def chosen(path: str) -> str | None:
            return self.import_csv(Path(path.strip()).expanduser())

        self.app.push_screen(PromptDialog("Import samples from a CSV file (date, metric, member, value)",
                                          "path/to/samples.csv", chosen))

    def import_csv(self, path: Path) -> str | None:
        """Check every row, then import all of them or none. Returns the refusal, shown in the dialog."""
        try:
            text = decode(read_small_file(path, MAX_CSV_BYTES))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            return f"Can't read {path}: {getattr(error, 'strerror', None) or error}"
        session = self.app.session
        result = parse_samples(text, session.state)
        if result.problems:
            shown = "; ".join(f"line {p.line}: {p.message}" for p in result.problems[:MAX_PROBLEMS_SHOWN])
            more = len(result.problems) - MAX_PROBLEMS_SHOWN
            return f"Nothing imported. {shown}" + (f"; and {more} more" if more > 0 else "")
        ops = [session.op("metric.sample", **args) for _line, args in result.rows]
        try:
            apply_all(session.state, ops)  # all or nothing: check the whole file first
        except OpRejected as refusal:
            return f"Nothing imported: {refusal.reason}"
        self._submit_all(ops, result.skipped, path.name)
        return None

    @work(exclusive=True, group="import", exit_on_error=False)
    async def _submit_all(self, ops, skipped: int, name: str) -> None:
        """Apply the checked ops, a batch at a time, with progress (the screen stays responsive)."""
        session = self.app.session
        for n, op in enumerate(ops, 1):
            try:
                session.submit_op(op)
            except OpRejected as refusal:  # the room changed meanwhile (e.g. the metric was removed)
                self.app.changed()
                self.app.say(f"Import of {name} stopped at sample {n:,} of {len(ops):,}: {refusal.reason} "
                             f"({n - 1:,} were imported).", severity="error", timeout=10)
                return
            if n % 250 == 0 and n < len(ops):
                self._heading = None  # (the board's own heading comes back with the next draw)
                self.query_one("#board-heading", Static).update(f"Importing {name}: {n:,} of {len(ops):,} samples…")
                await asyncio.sleep(0)
        self.app.changed()
        self.app.say(f"Imported {len(ops):,} samples from {name}" + (
            f" ({skipped:,} were already here)." if skipped else "."), timeout=6)


RESTRICTED_ENV = "AGILE_TUI_RESTRICTED"  # set by the hub's SSH server for the clients it runs
MAX_CSV_BYTES = 20 * 1024 * 1024


def read_small_file(path: Path, limit: int) -> bytes:
    """A regular file's bytes, at most ``limit`` (a device, a pipe or a huge file is refused, never read)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("that is not a regular file")
        if info.st_size > limit:
            raise ValueError(f"the file is {info.st_size // 1_000_000} MB; the limit is {limit // 1_000_000} MB")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ValueError(f"the file is over {limit // 1_000_000} MB")
    return data
