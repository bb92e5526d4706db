"""Dialogs of the retro: a new retro (sprint, template, anonymity, votes), its settings, an action item."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ...domain.model import RETRO_TEMPLATES
from ..text import safe
from .dialogs import FormScreen
from .safe_input import SafeInput

TEMPLATE_NAMES = {"went-well": "Went well / To improve / Try next", "start-stop-continue": "Start / Stop / Continue",
                  "4ls": "4Ls: Liked / Learned / Lacked / Longed for", "sailboat": "Sailboat: Wind / Anchors / "
                  "Rocks / Island", "glad-sad-mad": "Glad / Sad / Mad", "custom": "Custom columns (type them below)"}


class RetroSetupDialog(FormScreen):
    """A new retro of a sprint. ``on_start(sprint_id, template, columns_text, anonymous, votes, cap)`` returns a
    refusal or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("ctrl+s", "start", "Start", id="retro.dialog_start", priority=True),
    ]

    def __init__(self, sprints: list[tuple[str, str]], sprint_id: str | None,
                 on_start: Callable[..., str | None]) -> None:
        super().__init__()
        self._sprints, self._sprint_id, self._on_start = sprints, sprint_id, on_start

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(Text("A new retro", style="bold"), classes="dialog-title")
            yield Label("Sprint")
            yield OptionList(*(Option(safe(name), id=sid) for sid, name in self._sprints), id="retro-sprint")
            yield Label("Template")
            yield OptionList(*(Option(name, id=key) for key, name in TEMPLATE_NAMES.items()), id="retro-template")
            with Grid(classes="form-grid"):
                yield Label("Columns")
                yield SafeInput(id="retro-columns", max_length=200, placeholder="custom only: Keep, Drop, Try")
                yield Label("Votes")
                yield Input("5", id="retro-votes", type="integer", placeholder="per person, 1–12")
                yield Label("Per topic")
                yield Input("3", id="retro-cap", type="integer", placeholder="most on one topic, 1–12")
            yield Checkbox("Anonymous cards (authors hidden from others, exports too)", True, id="retro-anonymous")
            yield Label("", classes="dialog-error")
            yield Static("ctrl+s starts · tab next field · escape cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.show_error("")
        chooser = self.query_one("#retro-sprint", OptionList)
        ids = [sid for sid, _ in self._sprints]
        chooser.highlighted = ids.index(self._sprint_id) if self._sprint_id in ids else 0
        self.query_one("#retro-template", OptionList).highlighted = 0
        self.query_one("#retro-template", OptionList).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_start()

    def action_start(self) -> None:
        sprint = self.query_one("#retro-sprint", OptionList)
        template = self.query_one("#retro-template", OptionList)
        if sprint.highlighted is None:
            self.show_error("Pick the sprint this retro looks back on.")
            return
        error = self._on_start(sprint.get_option_at_index(sprint.highlighted).id,
                               template.get_option_at_index(template.highlighted or 0).id,
                               self.query_one("#retro-columns", Input).value,
                               self.query_one("#retro-anonymous", Checkbox).value,
                               self.query_one("#retro-votes", Input).value.strip(),
                               self.query_one("#retro-cap", Input).value.strip())
        if error:
            self.show_error(error)
        else:
            self.dismiss(True)


class RetroSettingsDialog(FormScreen):
    """Votes per person, most votes on one topic, and the phase timers (minutes)."""

    FIELDS = (("votes_per_person", "Votes"), ("max_votes_per_topic", "Per topic"), ("reflect_min", "Reflect"),
              ("group_min", "Group"), ("vote_min", "Vote"), ("discuss_min", "Discuss"))

    def __init__(self, values: dict[str, int], on_save: Callable[[dict[str, str]], str | None]) -> None:
        super().__init__()
        self._values, self._on_save = values, on_save

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text("Retro settings", style="bold"), classes="dialog-title")
            with Grid(classes="form-grid"):
                for key, label in self.FIELDS:
                    yield Label(label)
                    yield Input(str(self._values[key]), id=f"setting-{key}", type="integer",
                                placeholder="minutes" if key.endswith("_min") else "1–12")
            yield Label("", classes="dialog-error")
            yield Static("enter saves · mid-vote, nobody may end up over a new limit · escape cancels",
                         classes="dialog-hint")

    def on_mount(self) -> None:
        self.show_error("")
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _save(self) -> None:
        error = self._on_save({key: self.query_one(f"#setting-{key}", Input).value.strip() for key, _ in self.FIELDS})
        if error:
            self.show_error(error)
        else:
            self.dismiss(True)


class ActionDialog(FormScreen):
    """An action item: title, owner, due date. ``on_save(title, owner, due)`` returns a refusal or None."""

    def __init__(self, members: list[str], on_save: Callable[[str, str, str], str | None], topic: str = "") -> None:
        super().__init__()
        self._members, self._on_save, self._topic = members, on_save, topic

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text.assemble(("An action item", "bold"), *(
                (" from ", safe(self._topic, max_cells=50)) if self._topic else ())), classes="dialog-title")
            with Grid(classes="form-grid"):
                yield Label("Action")
                yield SafeInput(id="action-title", max_length=200, placeholder="What we will do")
                yield Label("Owner")
                yield SafeInput(id="action-owner", max_length=60, placeholder="who makes it happen",
                                suggester=SuggestFromList(self._members, case_sensitive=False))
                yield Label("Due")
                yield Input(id="action-due", max_length=10, placeholder="YYYY-MM-DD (optional)")
            yield Label("", classes="dialog-error")
            yield Static("enter saves · tab next field · escape cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.show_error("")
        self.query_one("#action-title", Input).focus()

    @on(Input.Submitted)
    def _save(self) -> None:
        values = [self.query_one(f"#action-{k}", Input).value.strip() for k in ("title", "owner", "due")]
        error = self._on_save(*values)
        if error:
            self.show_error(error)
        else:
            self.dismiss(True)


__all__ = ["RetroSetupDialog", "RetroSettingsDialog", "ActionDialog", "RETRO_TEMPLATES"]
