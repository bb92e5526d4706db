"""The inline editor of a backlog item: title first, then owner, estimate and kind, all on one line.
`enter` saves from any field, `tab` moves on, `escape` closes. A refused save keeps what was typed."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Label

from ...domain.model import ESTIMATES, ITEM_KINDS


class ItemEditor(Widget):
    BINDINGS = [
        Binding("escape", "close", "Close editor", id="editor.close"),
        Binding("tab", "field(1)", "Next field", show=False, id="editor.next_field"),
        Binding("shift+tab", "field(-1)", "Previous field", show=False, id="editor.previous_field"),
    ]
    FIELDS = ("title", "owner", "estimate", "kind")

    @dataclass
    class Submitted(Message):
        editor: ItemEditor
        item_id: str | None  # None: a new item
        list_id: str | None
        title: str
        owner: str
        estimate: str
        kind: str

    @dataclass
    class Closed(Message):
        editor: ItemEditor

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.item_id: str | None = None
        self.list_id: str | None = None

    def compose(self) -> ComposeResult:
        yield Label("", id="editor-label")
        with Horizontal(id="editor-fields"):
            yield Input(placeholder="Title", id="editor-title", max_length=200)
            yield Input(placeholder="Owner", id="editor-owner")
            yield Input(placeholder="Est", id="editor-estimate",
                        suggester=SuggestFromList(list(ESTIMATES), case_sensitive=False))
            yield Input(placeholder="Kind", id="editor-kind",
                        suggester=SuggestFromList(list(ITEM_KINDS), case_sensitive=False))
        yield Label("", id="editor-error")

    def open(self, *, heading: str, item_id: str | None, list_id: str | None, members: list[str],
             title: str = "", owner: str = "", estimate: str = "", kind: str = "task") -> None:
        self.item_id, self.list_id = item_id, list_id
        with self.app.batch_update():  # one frame for the whole change
            self.query_one("#editor-label", Label).update(heading)
            self.query_one("#editor-owner", Input).suggester = SuggestFromList(members, case_sensitive=False)
            for field_id, value in (("title", title), ("owner", owner), ("estimate", estimate), ("kind", kind)):
                self.query_one(f"#editor-{field_id}", Input).value = value
            self.show_error("")
            self.display = True
            self.query_one("#editor-title", Input).focus()

    def show_error(self, message: str) -> None:
        label = self.query_one("#editor-error", Label)
        label.update(message)
        label.display = bool(message)

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        value = {f: self.query_one(f"#editor-{f}", Input).value for f in ("title", "owner", "estimate", "kind")}
        self.post_message(self.Submitted(self, self.item_id, self.list_id, **value))

    def action_field(self, step: int) -> None:
        """tab and shift+tab go round the four fields; focus never leaves an open editor by accident."""
        inputs = [self.query_one(f"#editor-{name}", Input) for name in self.FIELDS]
        current = next((n for n, field in enumerate(inputs) if field.has_focus), 0)
        inputs[(current + step) % len(inputs)].focus()

    def action_close(self) -> None:
        self.display = False
        self.post_message(self.Closed(self))
