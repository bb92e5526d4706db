"""Dialogs of the planning screen: a sprint's details, closing a sprint, a blocked note, a yes/no."""

from __future__ import annotations

from datetime import date, timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Static

from ...domain.model import Item, Sprint
from ...domain.rules import MAX_GOAL
from ..text import plain, safe


class FormScreen(ModalScreen):
    """A modal form whose result is checked by the caller; a refusal keeps the dialog and what was typed."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def show_error(self, message: str) -> None:
        label = self.query_one(".dialog-error", Label)
        label.update(Text(plain(message)))  # messages quote user text: never markup
        label.display = bool(message)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SprintDialog(FormScreen):
    """Create or edit a sprint: name, start, length in days, capacity in points, goal."""

    def __init__(self, sprint: Sprint | None, default_start: date, default_name: str, on_save) -> None:
        super().__init__()
        self.sprint = sprint
        self._default_start = default_start
        self._default_name = default_name
        self._on_save = on_save

    def compose(self) -> ComposeResult:
        s = self.sprint
        with Vertical(classes="dialog"):
            yield Static(Text("Edit sprint" if s else "New sprint", style="bold"), classes="dialog-title")
            yield Label("", classes="dialog-error")
            with Grid(classes="form-grid"):
                yield Label("Name")
                yield Input(s.name if s else self._default_name, id="sprint-name", max_length=60)
                yield Label("Start")
                yield Input(s.start if s else self._default_start.isoformat(), id="sprint-start",
                            placeholder="YYYY-MM-DD")
                yield Label("Days")
                yield Input(str(s.days) if s else "14", id="sprint-days", type="integer",
                            placeholder="5–21 (1–3 weeks)")
                yield Label("Capacity")
                yield Input(str(s.capacity) if s else "0", id="sprint-capacity", type="integer",
                            placeholder="points the team can take")
                yield Label("Goal")
                yield Input(s.goal if s else "", id="sprint-goal", max_length=MAX_GOAL,
                            placeholder="One sentence: what this sprint achieves")
            yield Label("", id="goal-count", classes="dialog-hint")
            yield Static("enter saves · tab next field · escape cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.show_error("")
        self._count()
        self.query_one("#sprint-goal" if self.sprint else "#sprint-name", Input).focus()

    @on(Input.Changed, "#sprint-goal")
    def _count(self) -> None:
        goal = self.query_one("#sprint-goal", Input).value
        self.query_one("#goal-count", Label).update(f"goal: {len(goal)}/{MAX_GOAL} characters, one sentence")

    @on(Input.Submitted)
    def _save(self) -> None:
        values = {k: self.query_one(f"#sprint-{k}", Input).value.strip()
                  for k in ("name", "start", "days", "capacity", "goal")}
        try:
            days = int(values["days"])
            capacity = int(values["capacity"] or 0)
        except ValueError:
            self.show_error("Days and capacity must be whole numbers.")
            return
        error = self._on_save(self.sprint, dict(name=values["name"], start=values["start"], days=days,
                                                capacity=capacity, goal=values["goal"]))
        if error:
            self.show_error(error)
        else:
            self.dismiss(True)


class CloseSprintDialog(FormScreen):
    """For each unfinished item: next sprint or backlog (space toggles, n all next, b all backlog)."""

    BINDINGS = [
        Binding("space", "toggle", "Toggle", id="close.toggle"),
        Binding("n", "all('next')", "All next", id="close.all_next"),
        Binding("b", "all('backlog')", "All backlog", id="close.all_backlog"),
        Binding("enter", "confirm", "Close sprint", id="close.confirm", priority=True),
    ]

    def __init__(self, sprint: Sprint, unfinished: list[Item], done_points: int, on_close,
                 next_name: str = "next sprint") -> None:
        super().__init__()
        self.next_name = next_name
        self.sprint = sprint
        self.unfinished = unfinished
        self.choice = {item.id: "next" for item in unfinished}
        self.done_points = done_points
        self._on_close = on_close

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(Text.assemble(("Close ", "bold"), safe(self.sprint.name, style="bold"),
                                       f" · {self.done_points} points done"), classes="dialog-title")
            if self.unfinished:
                yield Static(f"{len(self.unfinished)} unfinished items: where does each go?", classes="dialog-hint")
            else:
                yield Static("Every item is done.", classes="dialog-hint")
            table = DataTable(id="carry-table", cursor_type="row")
            table.add_column("Item", key="item")
            table.add_column("Goes to", key="to")
            for item in self.unfinished:
                table.add_row(safe(item.title, max_cells=50), safe(self.next_name, max_cells=34), key=item.id)
            yield table
            yield Label("", classes="dialog-error")
            yield Static("space toggles · n all next · b all backlog · enter closes the sprint · escape cancels",
                         classes="dialog-hint")

    def on_mount(self) -> None:
        self.show_error("")
        self.query_one(DataTable).focus()

    def _show(self, item_id: str) -> None:
        label = self.next_name if self.choice[item_id] == "next" else "backlog"
        self.query_one(DataTable).update_cell(item_id, "to", safe(label, max_cells=34))

    def action_toggle(self) -> None:
        table = self.query_one(DataTable)
        if not self.unfinished:
            return
        item_id = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        self.choice[item_id] = "backlog" if self.choice[item_id] == "next" else "next"
        self._show(item_id)

    def action_all(self, where: str) -> None:
        for item_id in self.choice:
            self.choice[item_id] = where
            self._show(item_id)

    def action_confirm(self) -> None:
        error = self._on_close(self.sprint, dict(self.choice))
        if error:
            self.show_error(error)
        else:
            self.dismiss(True)


class PromptDialog(FormScreen):
    """One line of text, e.g. what blocks an item."""

    def __init__(self, title: str, placeholder: str, on_submit, value: str = "") -> None:
        super().__init__()
        self._title, self._placeholder, self._on_submit, self._value = title, placeholder, on_submit, value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(safe(self._title, style="bold"), classes="dialog-title")
            yield Input(self._value, placeholder=self._placeholder, id="prompt-input", max_length=2000)
            yield Label("", classes="dialog-error")
            yield Static("enter saves · escape cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.show_error("")
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _save(self, event: Input.Submitted) -> None:
        error = self._on_submit(event.value)
        if error:
            self.show_error(error)
        else:
            self.dismiss(True)


def next_start(sprints, today: date) -> date:
    """A new sprint starts when the latest one ends, or today."""
    ends = [date.fromisoformat(s.start) + timedelta(days=s.days) for s in sprints if s.status != "closed"]
    return max([today, *ends])


class MemberDialog(FormScreen):
    """Add a team member: a name and a role (SDR, AE, Solutions, Marketing, Manager…)."""

    def __init__(self, roles: list[str], on_save) -> None:
        super().__init__()
        self._roles = roles
        self._on_save = on_save

    def compose(self) -> ComposeResult:
        from textual.suggester import SuggestFromList

        with Vertical(classes="dialog"):
            yield Static(Text("Add a team member", style="bold"), classes="dialog-title")
            with Grid(classes="form-grid"):
                yield Label("Name")
                yield Input(id="member-name", max_length=60, placeholder="e.g. 王芳 or Sam Okafor")
                yield Label("Role")
                yield Input(id="member-role", max_length=60, placeholder=", ".join(self._roles),
                            suggester=SuggestFromList(self._roles, case_sensitive=False))
            yield Label("", classes="dialog-error")
            yield Static("enter saves · tab next field · escape cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.show_error("")
        self.query_one("#member-name", Input).focus()

    @on(Input.Submitted)
    def _save(self) -> None:
        name = self.query_one("#member-name", Input).value
        role = self.query_one("#member-role", Input).value
        error = self._on_save(name, role)
        if error:
            self.show_error(error)
        else:
            self.dismiss(True)
