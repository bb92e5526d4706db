"""`?`: every key of the current screen, with what it does."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, title: str, rows: list[tuple[str, str, str, str]]) -> None:
        super().__init__()
        self._title = title
        self._rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(Text(f"Keys · {self._title}", style="bold"), id="help-title")
            table = DataTable(id="help-table", cursor_type="row", zebra_stripes=True)
            table.add_columns("Key", "Does", "Where", "Binding id")
            for key, description, where, binding_id in self._rows:
                table.add_row(Text(key, style="bold"), Text(description), Text(where, style="dim"),
                              Text(binding_id, style="dim"))
            yield table
            yield Static("escape closes · remap any key in keymap.toml: binding-id = \"keys\"", id="help-hint")
