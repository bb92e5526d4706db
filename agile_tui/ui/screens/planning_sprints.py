"""The planning screen's sprint and team actions: new, edit, start and close a sprint; add a member."""

from __future__ import annotations

from ...domain import new_id, planning
from ...domain.model import ROLES
from ...domain.planning_ops import next_planned

# Each action imports its dialog when first used: the planning screen paints without ..widgets.dialogs.


class SprintActions:
    """Mixed into PlanningScreen, which provides ``app`` and ``_submit``."""

    def action_new_sprint(self) -> None:
        from ..widgets.dialogs import SprintDialog, next_start

        state = self.app.session.state
        number = len(state.sprints) + 1
        start = next_start(state.sprints.values(), self.app.today())
        self.app.push_screen(SprintDialog(None, start, f"Sprint {number}", self._save_sprint))

    def action_focus_metrics(self) -> None:
        """Choose the sprint's focus metrics (up to three) while planning: enter on a metric adds or drops it."""
        from ..widgets.standup_dialogs import PickDialog

        state = self.app.session.state
        sprint = planning.planning_sprint(state)
        if sprint is None:
            self.app.say("Create a sprint first (n): focus metrics belong to a sprint.", severity="warning")
            return
        if not state.metrics:
            self.app.say("No metrics yet: define them on the metrics screen (3, then n).", severity="warning")
            return
        focus = list(sprint.focus_metrics)
        choices = [(m.id, ("★ " if m.id in focus else "  ") + m.name)
                   for m in sorted(state.metrics.values(), key=lambda m: m.name.casefold())]

        def toggle(metric_id: str) -> str | None:
            wanted = [m for m in focus if m != metric_id] if metric_id in focus else [*focus, metric_id]
            return self._submit("sprint.focus", id=sprint.id, metric_ids=wanted)

        self.app.push_screen(PickDialog(f"Focus metrics of {sprint.name} (up to three; ★ = in focus)", choices,
                                        toggle, hint="enter adds or drops the metric · escape closes"))

    def action_edit_sprint(self) -> None:
        from ..widgets.dialogs import SprintDialog

        sprint = planning.planning_sprint(self.app.session.state)
        if sprint is None:
            self.action_new_sprint()
            return
        self.app.push_screen(SprintDialog(sprint, self.app.today(), sprint.name, self._save_sprint))

    def _save_sprint(self, sprint, values: dict) -> str | None:
        if sprint is None:
            return self._submit("sprint.create", id=new_id("sprint-"), **values)
        return self._submit("sprint.update", id=sprint.id, **values)

    def action_start_sprint(self) -> None:
        state = self.app.session.state
        sprint = next_planned(state.sprints.values())
        if sprint is None:
            self.app.say("No planned sprint to start: n creates one.", severity="warning")
            return
        if not self._submit("sprint.start", id=sprint.id):
            self.app.say(f"Started {sprint.name}. Go!")

    def action_close_sprint(self) -> None:
        from ..widgets.dialogs import CloseSprintDialog

        state = self.app.session.state
        sprint = planning.active_sprint(state)
        if sprint is None:
            self.app.say("No active sprint to close.", severity="warning")
            return
        items = planning.items_in(state, sprint.id)
        unfinished = [i for i in items if i.status != "done"]
        done = planning.points(i for i in items if i.status == "done")

        def close(sprint, carry: dict) -> str | None:
            error = self._submit("sprint.close", id=sprint.id, carry=carry)
            if not error:
                closed = self.app.session.state.sprints[sprint.id]
                self.app.say(f"Closed {closed.name} · velocity {closed.velocity} points")
            return error

        after = next_planned(state.sprints.values(), after=sprint)
        next_name = after.name if after is not None else f"new sprint “After {sprint.name}”"
        self.app.push_screen(CloseSprintDialog(sprint, unfinished, done, close, next_name))

    def action_add_member(self) -> None:
        from ..widgets.dialogs import MemberDialog

        def save(name: str, role: str) -> str | None:
            known = {r.casefold(): r for r in ROLES}
            role = known.get(role.strip().casefold(), role.strip())
            error = self._submit("member.add", id=new_id("member-"), name=name, role=role)
            if not error:
                self.app.say(f"Added {name.strip()} ({role or 'Member'}) to the team")
            return error

        self.app.push_screen(MemberDialog(list(ROLES), save))
