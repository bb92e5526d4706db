"""The retro (4) until their live rituals land: each says plainly what is coming
and shows the records the room already holds."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from ..text import safe
from ..widgets.key_bar import KeyBar
from ..widgets.room_bar import RoomBar
from .base import RitualScreen


class RecordScreen(RitualScreen):
    COMING = ""

    def compose(self) -> ComposeResult:
        yield RoomBar(id="room-bar")
        with VerticalScroll(classes="records"):
            yield Static(Text(self.COMING), classes="coming")
            yield from self.body()
        yield KeyBar()

    def on_mount(self) -> None:
        self.show_state(self.app.session.state)

    def body(self) -> ComposeResult:  # pragma: no cover - overridden
        yield from ()

    @staticmethod
    def fill(table: DataTable, columns: tuple[str, ...], rows: list[tuple]) -> None:
        table.clear(columns=True)
        table.add_columns(*columns)
        for row in rows:
            table.add_row(*(cell if isinstance(cell, Text) else safe(cell) for cell in row))


def _name(state, member_id: str | None) -> str:
    member = state.members.get(member_id or "")
    return member.name if member else "—"


class RetroScreen(RecordScreen):
    TITLE_TEXT = "Retro"
    COMING = ("Coming next on this screen: the retrospective — private reflect, grouping by keyboard, dot "
              "voting hidden until reveal, discussion with timers, and action items that become sprint work. "
              "Below: the latest retro and where its actions stand.")

    def body(self) -> ComposeResult:
        yield Static(id="retro-summary", classes="list-heading")
        yield DataTable(id="actions-table", cursor_type="row", zebra_stripes=True)

    def draw(self, state) -> None:
        retros = sorted(state.retros.values(), key=lambda r: (r.closed_on or "9999", r.id))
        summary = self.query_one("#retro-summary", Static)
        if not retros:
            summary.update("No retro yet.")
            self.fill(self.query_one("#actions-table", DataTable), ("Action", "Owner", "Due", "Now"), [])
            return
        retro = retros[-1]
        sprint = state.sprints.get(retro.sprint_id)
        counts = ", ".join(f"{col}: {sum(1 for c in retro.cards if c.column == col)}" for col in retro.columns)
        summary.update(Text.assemble(("Retro of ", "bold"), safe(sprint.name if sprint else "?", style="bold"),
                                     f" · {retro.status} · cards — {counts}"))
        rows = []
        for action in retro.actions:
            item = state.items.get(action.item_id or "")
            where = "—"
            if item is not None:
                home = state.sprints.get(item.sprint_id or "")
                where = f"{item.status} in {home.name if home else 'backlog'}"
            rows.append((action.title, _name(state, action.owner), action.due or "—", where))
        self.fill(self.query_one("#actions-table", DataTable), ("Action", "Owner", "Due", "Now"), rows)



