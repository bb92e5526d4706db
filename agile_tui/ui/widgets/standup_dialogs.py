"""Dialogs of the standup: starting a round (who is present, length, order, facilitator), picking a person
or a blocker from a list, and a yes/no."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, OptionList, SelectionList, Static
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from ...domain.standup import DEFAULT_LENGTH_MIN, MAX_LENGTH_MIN, MIN_LENGTH_MIN
from ..text import plain, safe
from .dialogs import FormScreen


class StartStandupDialog(FormScreen):
    """Who is here (space toggles), the meeting length, shuffled or fixed order, and who facilitates.
    ``on_start(present, length_text, shuffled, facilitator_id)`` returns a refusal or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("ctrl+s", "start", "Start", id="standup.dialog_start", priority=True),
    ]

    def __init__(self, members: list[tuple[str, str]], facilitator_id: str | None, shuffled: bool,
                 on_start: Callable[[list[str], str, bool, str | None], str | None]) -> None:
        super().__init__()
        self._members = members
        self._facilitator = facilitator_id
        self._shuffled = shuffled
        self._on_start = on_start

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text("Start today's standup", style="bold"), classes="dialog-title")
            yield Label("Who is here? (space marks present or absent)")
            yield SelectionList[str](*(Selection(safe(name), member_id, True) for member_id, name in self._members),
                                     id="standup-present")
            with Grid(classes="form-grid"):
                yield Label("Minutes")
                yield Input(str(DEFAULT_LENGTH_MIN), id="standup-length", type="integer",
                            placeholder=f"{MIN_LENGTH_MIN}–{MAX_LENGTH_MIN}")
            yield Checkbox("Shuffle the speaking order", self._shuffled, id="standup-shuffle")
            yield Label("Facilitator (enter picks; the suggestion follows the rotation)")
            options = [Option(safe(name), id=member_id) for member_id, name in self._members]
            yield OptionList(*options, id="standup-facilitator")
            yield Label("", classes="dialog-error")
            yield Static("ctrl+s or enter in Minutes starts · tab next field · escape cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.show_error("")
        chooser = self.query_one("#standup-facilitator", OptionList)
        ids = [member_id for member_id, _ in self._members]
        if self._facilitator in ids:
            chooser.highlighted = ids.index(self._facilitator)
        self.query_one("#standup-present", SelectionList).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_start()

    @on(OptionList.OptionSelected, "#standup-facilitator")
    def _picked(self) -> None:
        self.action_start()

    def action_start(self) -> None:
        present = list(self.query_one("#standup-present", SelectionList).selected)
        chooser = self.query_one("#standup-facilitator", OptionList)
        facilitator = None
        if chooser.highlighted is not None:
            facilitator = chooser.get_option_at_index(chooser.highlighted).id
        error = self._on_start(present, self.query_one("#standup-length", Input).value.strip(),
                               self.query_one("#standup-shuffle", Checkbox).value, facilitator)
        if error:
            self.show_error(error)
        else:
            self.dismiss(True)


class PickDialog(ModalScreen):
    """Pick one of a list (a late joiner, a blocker to resolve, who helps); enter picks, escape cancels.
    ``on_pick(key)`` returns a refusal or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, title: str, choices: list[tuple[str, Text | str]], on_pick: Callable[[str], str | None],
                 hint: str = "enter picks · escape cancels") -> None:
        super().__init__()
        self._title, self._choices, self._on_pick, self._hint = title, choices, on_pick, hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(safe(self._title, style="bold"), classes="dialog-title")
            yield OptionList(*(Option(label if isinstance(label, Text) else safe(label), id=key)
                               for key, label in self._choices), id="pick-list")
            yield Label("", classes="dialog-error")
            yield Static(self._hint, classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(".dialog-error", Label).display = False
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _pick(self, event: OptionList.OptionSelected) -> None:
        error = self._on_pick(event.option.id or "")
        if error:
            label = self.query_one(".dialog-error", Label)
            label.update(Text(plain(error)))
            label.display = True
        else:
            self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question: y or enter says yes, n or escape says no."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self._question, self._detail = question, detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(safe(self._question, style="bold"), classes="dialog-title")
            if self._detail:
                yield Static(Text(self._detail))
            yield Static("y or enter: yes · n or escape: no", classes="dialog-hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
