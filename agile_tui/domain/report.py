"""Exports of a room: JSON with the whole state (for scripts) and a Markdown sprint report (for people)."""

from __future__ import annotations

import json
from datetime import date

from . import planning
from .model import State


def public_content(state: State) -> dict:
    """The whole room as plain data, private where a retro is: an anonymous retro's cards carry no author, and
    votes that were never revealed are left out (only their count stays)."""
    data = state.content()
    for retro in data.get("retros", {}).values():
        if retro.get("anonymous", True):
            for card in retro.get("cards", []):
                card["author"] = ""
        if not retro.get("revealed", False) and retro.get("votes"):
            retro["votes_hidden"] = sum(v.get("count", 0) for v in retro["votes"])
            retro["votes"] = []
    return data


def to_json(state: State, seq: int) -> str:
    """The whole room, for scripts (see ``public_content``)."""
    data = public_content(state)
    data["seq"] = seq
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(state: State, today: date) -> str:
    lines = [f"# {state.room.team} — room {state.room.name}", ""]
    sprint = planning.planning_sprint(state)
    names = {m.id: m.name for m in state.members.values()}
    if sprint is None:
        lines += ["No sprint is planned yet.", ""]
    else:
        items = planning.items_in(state, sprint.id)
        done = [i for i in items if i.status == "done"]
        lines += [
            f"## {sprint.name} ({sprint.status})",
            "",
            f"**Goal:** {sprint.goal or '(not set)'}",
            "",
            f"- Dates: {sprint.start}, {sprint.days} days, {planning.days_left(sprint, today)} days left",
            f"- Committed: {planning.points(items)} points against a capacity of {sprint.capacity}",
            f"- Done: {planning.points(done)} points in {len(done)} of {len(items)} items",
            "",
            "| # | Item | Owner | Est. | Status |",
            "|---|------|-------|------|--------|",
        ]
        for n, item in enumerate(items, 1):
            status = item.status + (f" ({_cell(item.note)})" if item.note else "")
            lines.append(f"| {n} | {_cell(item.title)} | {_cell(names.get(item.owner, ''))} | "
                         f"{item.estimate or '–'} | {status} |")
        lines.append("")
    backlog = planning.items_in(state, None)
    lines += [f"## Backlog ({len(backlog)} items)", ""]
    for item in backlog:
        owner = names.get(item.owner)
        lines.append(f"- {_cell(item.title)}" + (f" — {_cell(owner)}" if owner else "")
                     + (f" [{item.estimate}]" if item.estimate else ""))
    open_blockers = [b for b in state.blockers.values() if not b.resolved_on]
    if open_blockers:
        lines += ["", "## Open blockers", ""]
        for b in sorted(open_blockers, key=lambda b: b.opened_on):
            age = (today - date.fromisoformat(b.opened_on)).days
            lines.append(f"- day {age}: {_cell(b.text)} — {_cell(names.get(b.member_id, '?'))}")
    closed = [s for s in state.sprints.values() if s.status == "closed"]
    if closed:
        lines += ["", "## Velocity", ""]
        for s in sorted(closed, key=lambda s: s.start):
            lines.append(f"- {s.name}: {s.velocity} points")
    return "\n".join(lines) + "\n"
