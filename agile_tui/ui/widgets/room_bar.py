"""The header on every screen: room, sprint, goal and days left, and whether changes are saved."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from ...domain import planning
from ..text import safe


class RoomBar(Widget):
    """Two lines: where you are, then the sprint goal pinned."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._state = None
        self._today = None

    def show(self, state, today) -> None:
        self._state, self._today = state, today
        self.refresh()

    def render(self) -> Text:
        state, today = self._state, self._today
        line = Text(no_wrap=True, end="")
        line.append(" agile-tui ", style="bold reverse")
        if state is None:
            return line
        line.append("  room ")
        line.append_text(safe(state.room.name, style="bold"))
        line.append(" · ")
        line.append_text(safe(state.room.team))
        sprint = planning.planning_sprint(state)
        line.append("   ")
        if sprint is None:
            line.append("no sprint yet (n creates one)", style="italic")
            goal = Text("Goal: —", no_wrap=True)
        else:
            line.append_text(safe(sprint.name, style="bold"))
            if sprint.status == "active":
                left = planning.days_left(sprint, today)
                line.append(f" · {left} day{'s' if left != 1 else ''} left")
            else:
                line.append(f" · {sprint.status}, starts {sprint.start}")
            goal = Text("Goal: ", style="bold", no_wrap=True, overflow="ellipsis")
            goal.append_text(safe(sprint.goal) if sprint.goal else Text("not set yet (E edits the sprint)",
                                                                         style="italic"))
        status = self.app.save_status
        marker = Text({"saved": "✓ saved", "saving": "… saving"}.get(status, f"✗ {status}"),
                      style="bold" if status not in ("saved", "saving") else "")
        connection = getattr(self.app.session, "connection", None)
        if connection is not None:  # a shared room: the hub's side too
            marker.append("  ")
            marker.append(connection.label(), style="" if connection.status == "live" else "bold")
        width = self.size.width or 80
        marker.truncate(max(10, width // 2), overflow="ellipsis")
        room = width - marker.cell_len - 1
        if line.cell_len > room - 1:
            line.truncate(max(0, room - 1), overflow="ellipsis")
        line.append(" " * max(1, room - line.cell_len))
        line.append_text(marker)
        goal.pad_left(1)
        goal.truncate(width, overflow="ellipsis")
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        out.append_text(line)
        out.append("\n")
        out.append_text(goal)
        return out
