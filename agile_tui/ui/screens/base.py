"""What every ritual screen shares: the room header on top, the footer of keys below, and a redraw
from the room's state whenever it changes (or when the screen comes back into view)."""

from __future__ import annotations

from textual.screen import Screen

from ..widgets.key_bar import KeyBar
from ..widgets.room_bar import RoomBar


class RitualScreen(Screen):
    TITLE_TEXT = "ritual"

    def on_screen_resume(self) -> None:
        self.show_state(self.app.session.state)

    def show_state(self, state) -> None:
        """Redraw from ``state``. Subclasses draw their body in ``draw``."""
        if not self.is_mounted:
            return
        self.query_one(RoomBar).show(state, self.app.today())
        self.draw(state)

    def on_descendant_focus(self, event) -> None:
        """Redraw the key bar in the same frame as the focus change (Textual's own signal comes a frame
        later, and would cost a second frame on every `a` and `escape`)."""
        for bar in self.query(KeyBar):
            bar.rebuild()

    def draw(self, state) -> None:  # pragma: no cover - each screen draws itself
        raise NotImplementedError
