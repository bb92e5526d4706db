"""The inline editor of a backlog item: title first, then owner, estimate and kind, all on one line.
`enter` saves from any field, `tab` moves on, `escape` leaves. A refused save keeps what was typed.

The editor is always on screen (two lines at the bottom): `a` only moves the focus into it, so opening it
never re-lays out the lists; that keeps it as quick with 5,000 items as with 50."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Label

from ...domain.model import ESTIMATES, ITEM_KINDS

IDLE_HINT = "a adds an item · e edits the selected one · enter saves · escape leaves"


class Field(Input):
    """One field of the editor. Textual's Input keeps the width of its text in ``virtual_size``, a *layout*
    reactive: every change of the text (each typed key, each ``value =``) re-lays out the whole screen, and
    the relayout repaints every widget and costs a second frame (the lists' scrollbars are refreshed by it).
    A field here has a fixed size in a fixed line, so a repaint of the field is all a change needs."""

    virtual_size = Reactive(Size(0, 0), layout=False)

    def show(self, value: str) -> None:
        """Put ``value`` in the field without asking the suggester: it would only suggest what is already
        there, from a worker whose answer repaints the field a frame later."""
        suggester, self.suggester = self.suggester, None
        try:
            self.value = value
        finally:
            self.suggester = suggester


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
        self.is_open = False
        self._heading = ""

    def compose(self) -> ComposeResult:
        yield Label(IDLE_HINT, id="editor-label")
        with Horizontal(id="editor-fields"):
            yield Field(placeholder="Title", id="editor-title", max_length=200)
            yield Field(placeholder="Owner", id="editor-owner")
            yield Field(placeholder="Est", id="editor-estimate",
                        suggester=SuggestFromList(list(ESTIMATES), case_sensitive=False))
            yield Field(placeholder="Kind", id="editor-kind",
                        suggester=SuggestFromList(list(ITEM_KINDS), case_sensitive=False))

    def open(self, *, heading: str, item_id: str | None, list_id: str | None, members: list[str],
             title: str = "", owner: str = "", estimate: str = "", kind: str = "task") -> None:
        self.item_id, self.list_id = item_id, list_id
        self._heading = heading
        self.is_open = True
        self._say(heading, error=False)
        self.query_one("#editor-owner", Field).suggester = SuggestFromList(members, case_sensitive=False)
        for field_id, value in (("title", title), ("owner", owner), ("estimate", estimate), ("kind", kind)):
            self.query_one(f"#editor-{field_id}", Field).show(value)
        self._focus(self.query_one("#editor-title", Field))

    def _focus(self, field: Field) -> None:
        """Move the focus now rather than through the app's queue (``Widget.focus``): what the move repaints
        then reaches the screen before its next frame, not one frame after it."""
        if field is not self.screen.focused:
            self.screen.set_focus(field)

    def _say(self, text, error: bool) -> None:
        label = self.query_one("#editor-label", Label)
        label.update(text, layout=False)  # one fixed line: no relayout
        label.set_class(error, "-error")

    def show_error(self, message: str) -> None:
        """A refusal: said on the editor's own line; what was typed stays."""
        self._say(message or self._heading, error=bool(message))

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        value = {f: self.query_one(f"#editor-{f}", Input).value for f in ("title", "owner", "estimate", "kind")}
        self.post_message(self.Submitted(self, self.item_id, self.list_id, **value))

    def action_field(self, step: int) -> None:
        """tab and shift+tab go round the four fields; focus never leaves an open editor by accident."""
        inputs = [self.query_one(f"#editor-{name}", Field) for name in self.FIELDS]
        current = next((n for n, field in enumerate(inputs) if field is self.screen.focused), 0)
        self._focus(inputs[(current + step) % len(inputs)])

    def action_close(self) -> None:
        """Leave the editor: the fields empty, the line says how to come back, the list gets the focus."""
        self.is_open = False
        for name in self.FIELDS:
            self.query_one(f"#editor-{name}", Field).show("")
        self._say(IDLE_HINT, error=False)
        self.post_message(self.Closed(self))
