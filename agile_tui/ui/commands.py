"""The app's own commands in the command palette (ctrl+p): the rituals, each screen's actions, the shared
room's commands, themes."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from .app import AgileApp

RITUALS = {"planning": "1", "standup": "2", "metrics": "3", "retro": "4"}


class RitualCommands(Provider):
    """The app's own commands in the palette: rituals, sprint actions, undo, themes."""

    def _commands(self) -> list[tuple[str, str, object]]:
        app: AgileApp = self.app  # type: ignore[assignment]
        commands = [(f"Go to {mode}", f"Open the {mode} screen (key {key})", partial(app.action_ritual, mode))
                    for mode, key in RITUALS.items()]
        planning_actions = [
            ("New sprint", "Create a sprint (n on planning)", "new_sprint"),
            ("Edit sprint and goal", "Name, dates, capacity and the one-sentence goal (E)", "edit_sprint"),
            ("Start sprint", "Start the planned sprint; needs a goal (S)", "start_sprint"),
            ("Close sprint", "Close the active sprint, carrying unfinished work (C)", "close_sprint"),
            ("Add item", "Add an item to the focused list (a)", "add"),
            ("Add team member", "A name and a role (T)", "add_member"),
            ("Undo", "Take back your last change (u)", "undo"),
            ("Redo", "Do again what undo took back (ctrl+r)", "redo"),
            ("Toggle burndown", "Show or hide the burndown chart (B)", "toggle_chart"),
        ]
        hidden = _facilitator_actions() if getattr(app.session, "role", "") == "participant" else {}
        for name, help_text, action in planning_actions:
            if action not in hidden.get("planning", ()):
                commands.append((name, help_text, partial(app.planning_action, action)))
        standup_actions = [
            ("Start standup", "Today's round: who is here, length, order (s on standup)", "start"),
            ("Next speaker", "Move the standup on to the next speaker (n)", "turn('next')"),
            ("Pause or resume the speaker's clock", "(space on standup)", "pause"),
            ("Park a topic", "Add a topic to the standup's parking lot (p)", "park"),
            ("Late joiner", "Someone arrived: to the end of the standup queue (l)", "late"),
            ("Resolve a blocker", "Mark an open blocker resolved (r on standup)", "resolve"),
            ("End standup", "End the round and show its summary (e)", "end"),
        ]
        for name, help_text, action in standup_actions:
            if action.split("(")[0] not in hidden.get("standup", ()):
                commands.append((name, help_text, partial(app.ritual_action, "standup", action)))
        metrics_actions = [
            ("Add a metric sample", "A value for a metric, a member and a date (a on metrics)", "add_sample"),
            ("Import metrics CSV", "Samples from a CSV file: date, metric, member, value (i on metrics)", "import_csv"),
            ("New metric", "Name, unit, target, direction, scope, summary (n on metrics)", "new_metric"),
            ("Metrics by day or week", "Toggle the board's periods (w on metrics)", "period"),
            ("Metrics of one member", "Filter the board to one member or the team (f on metrics)", "filter"),
        ]
        for name, help_text, action in metrics_actions:
            commands.append((name, help_text, partial(app.ritual_action, "metrics", action)))
        if getattr(app.session, "shared", False):
            commands.append(("Who's here", "Show or hide the panel of who is here (W)", app.action_toggle_presence))
            if app.session.role == "facilitator":
                commands.append(("Hand over the facilitator role", "Make another participant the facilitator",
                                 app.action_hand_over))
            if app.session.link.invite:
                commands.append(("Show the invite", "The `agile-tui join` line for your team (copied too)",
                                 app.action_invite))
        for theme in sorted(app.available_themes):
            commands.append((f"Theme: {theme}", "Switch to this theme (remembered)", partial(app.set_theme, theme)))
        commands.append(("Keys", "List every key of this screen (?)", app.action_help))
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


def _facilitator_actions() -> dict[str, frozenset[str]]:
    """Per ritual, the actions of the facilitator's (a participant's palette leaves them out)."""
    from .screens.planning import PlanningScreen
    from .screens.standup import StandupScreen

    return {"planning": PlanningScreen.FACILITATOR_ACTIONS, "standup": StandupScreen.FACILITATOR_ACTIONS}
