"""Dialogs of the metrics board: add a sample, define or edit a metric. What is typed is checked by the domain
(``parse_value``, the reducer); a refusal keeps the dialog open with everything typed."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Static

from ...domain.model import DIRECTIONS, SCOPES, SUMMARIES, MetricDef
from .dialogs import FormScreen


class SampleDialog(FormScreen):
    """A new sample: metric, value, member (blank: the team), date (default today).
    ``on_save(metric, value, member, date)`` returns a refusal or None."""

    def __init__(self, metrics: list[str], members: list[str], metric: str, today: str,
                 on_save: Callable[[str, str, str, str], str | None], member: str = "") -> None:
        super().__init__()
        self._metrics, self._members, self._metric, self._today = metrics, members, metric, today
        self._member = member
        self._on_save = on_save

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text("Add a sample", style="bold"), classes="dialog-title")
            with Grid(classes="form-grid"):
                yield Label("Metric")
                yield Input(self._metric, id="sample-metric", max_length=60,
                            suggester=SuggestFromList(self._metrics, case_sensitive=False))
                yield Label("Value")
                yield Input(id="sample-value", max_length=40, placeholder="a number, e.g. 72, 72%, 4:30, 16,500")
                yield Label("Member")
                yield Input(self._member, id="sample-member", max_length=60, placeholder="blank: the team",
                            suggester=SuggestFromList(self._members, case_sensitive=False))
                yield Label("Date")
                yield Input(self._today, id="sample-date", max_length=10, placeholder="YYYY-MM-DD")
            yield Label("", classes="dialog-error")
            yield Static("enter saves · tab next field · escape cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.show_error("")
        self.query_one("#sample-value", Input).focus()

    @on(Input.Submitted)
    def _save(self) -> None:
        values = [self.query_one(f"#sample-{k}", Input).value.strip() for k in ("metric", "value", "member", "date")]
        error = self._on_save(*values)
        if error:
            self.show_error(error)
        else:
            self.dismiss(True)


class MetricDialog(FormScreen):
    """Define a metric, or edit one: name, unit, target, direction, scope, period summary.
    ``on_save(fields)`` returns a refusal or None."""

    def __init__(self, metric: MetricDef | None, on_save: Callable[[dict[str, str]], str | None]) -> None:
        super().__init__()
        self.metric = metric
        self._on_save = on_save

    def compose(self) -> ComposeResult:
        m = self.metric
        fields = [
            ("name", "Name", m.name if m else "", "e.g. Demos booked", None),
            ("unit", "Unit", m.unit if m else "", "%, min, h, days, €, calls … or blank", None),
            ("target", "Target", f"{m.target:g}" if m else "", "a number", None),
            ("direction", "Better", m.direction if m else "higher", " or ".join(DIRECTIONS), DIRECTIONS),
            ("scope", "Scope", m.scope if m else "team", " or ".join(SCOPES) + " (per member)", SCOPES),
            ("summary", "Summary", m.summary if m else "mean", " / ".join(SUMMARIES) + " of a period", SUMMARIES),
        ]
        with Vertical(classes="dialog"):
            yield Static(Text("Edit metric" if m else "New metric", style="bold"), classes="dialog-title")
            with Grid(classes="form-grid"):
                for key, label, value, placeholder, options in fields:
                    yield Label(label)
                    yield Input(value, id=f"metric-{key}", max_length=60, placeholder=placeholder,
                                suggester=SuggestFromList(list(options), case_sensitive=False) if options else None)
            yield Label("", classes="dialog-error")
            yield Static("enter saves · tab next field · escape cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.show_error("")
        self.query_one("#metric-name", Input).focus()

    @on(Input.Submitted)
    def _save(self) -> None:
        keys = ("name", "unit", "target", "direction", "scope", "summary")
        error = self._on_save({k: self.query_one(f"#metric-{k}", Input).value.strip() for k in keys})
        if error:
            self.show_error(error)
        else:
            self.dismiss(True)
