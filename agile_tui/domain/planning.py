"""Read-only questions the planning screen asks of a room: lists in rank order, points, days left,
the burndown, and the ops a key press should produce (so the UI holds no rules of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from . import rank as ranks
from .model import ESTIMATES, Item, Sprint, State

STATUS_CYCLE = ("todo", "doing", "done")


def active_sprint(state: State) -> Sprint | None:
    return next((s for s in state.sprints.values() if s.status == "active"), None)


def planning_sprint(state: State) -> Sprint | None:
    """The sprint the planning screen shows: the active one, else the first planned one."""
    active = active_sprint(state)
    if active is not None:
        return active
    planned = sorted((s for s in state.sprints.values() if s.status == "planned"), key=lambda s: (s.start, s.id))
    return planned[0] if planned else None


_lists_memo: tuple[object, dict[str | None, list[Item]]] | None = None


def _lists(state: State) -> dict[str | None, list[Item]]:
    """Every list (backlog and each sprint) in rank order; memoised on the items mapping, which the reducer
    replaces whenever an item changes, so one key press sorts at most once."""
    global _lists_memo
    memo = _lists_memo
    if memo is not None and memo[0] is state.items:
        return memo[1]
    groups: dict[str | None, list[Item]] = {}
    for item in state.items.values():
        groups.setdefault(item.sprint_id, []).append(item)
    for group in groups.values():
        group.sort(key=lambda i: (i.rank, i.id))
    _lists_memo = (state.items, groups)
    return groups


def items_in(state: State, sprint_id: str | None) -> list[Item]:
    return list(_lists(state).get(sprint_id, ()))


def append_rank(state: State, sprint_id: str | None) -> str:
    """The rank that puts an item at the end of a list."""
    items = _lists(state).get(sprint_id)
    return ranks.after(items[-1].rank if items else None)


def matches(state: State, item: Item, query: str) -> bool:
    """Filter by text, owner or status: every word must match the title, the owner's name or the status.
    ``owner:NAME`` and ``status:STATUS`` narrow to one field."""
    owner = state.members.get(item.owner)
    owner_name = owner.name.casefold() if owner else ""
    for word in query.casefold().split():
        if word.startswith("owner:"):
            if word[6:] not in owner_name:
                return False
        elif word.startswith("status:"):
            if not item.status.startswith(word[7:]):
                return False
        elif word not in item.title.casefold() and word not in owner_name and word != item.status:
            return False
    return True


def points(items) -> int:
    return sum(i.points for i in items)


def days_left(sprint: Sprint, today: date) -> int:
    end = date.fromisoformat(sprint.start) + timedelta(days=sprint.days)
    return max(0, (end - max(today, date.fromisoformat(sprint.start))).days)


def next_status(status: str) -> str:
    """`space` cycles todo → doing → done → todo; a blocked item goes back to doing."""
    if status not in STATUS_CYCLE:
        return "doing"
    return STATUS_CYCLE[(STATUS_CYCLE.index(status) + 1) % len(STATUS_CYCLE)]


def moved_rank(state: State, item_id: str, delta: int, shown: list[str] | None = None) -> str | None:
    """The rank that moves an item ``delta`` places (-1 up, +1 down) within its list, or None at an end.
    With ``shown`` (the ids a filter leaves visible) it passes the next *visible* item, so a move is never
    spent on a row the user cannot see."""
    item = state.items[item_id]
    rest = [s for s in items_in(state, item.sprint_id) if s.id != item_id]
    order = [s.id for s in items_in(state, item.sprint_id) if shown is None or s.id in shown or s.id == item_id]
    target = order.index(item_id) + delta
    if not 0 <= target < len(order):
        return None
    neighbour = state.items[order[target]]
    at = next(n for n, s in enumerate(rest) if s.id == neighbour.id)
    if delta < 0:  # just above the neighbour
        below = rest[at - 1].rank if at > 0 else None
        above = neighbour.rank
    else:  # just below the neighbour
        below = neighbour.rank
        above = rest[at + 1].rank if at + 1 < len(rest) else None
    if below is not None and above is not None and not below < above:
        return None  # equal ranks from concurrent edits: nothing sensible to do
    if below is None:
        return ranks.before(above)
    if above is None:
        return ranks.after(below)
    return ranks.between(below, above)


@dataclass(frozen=True)
class Burndown:
    days: list[str]
    remaining: list[int]  # open points at the end of each day so far
    ideal: list[float]  # the straight line from the committed total to zero


def burndown(state: State, sprint: Sprint, today: date) -> Burndown:
    start = date.fromisoformat(sprint.start)
    items = [i for i in state.items.values() if i.sprint_id == sprint.id]
    total = points(items)
    days = [start + timedelta(days=n) for n in range(sprint.days + 1)]
    ideal = [round(total * (1 - n / sprint.days), 2) for n in range(sprint.days + 1)]
    remaining = []
    for day in days:
        if day > today:
            break
        stamp = day.isoformat()
        remaining.append(sum(i.points for i in items if not (i.status == "done" and (i.done_on or "") <= stamp)))
    return Burndown(days=[d.isoformat() for d in days], remaining=remaining, ideal=ideal)


def parse_estimate(text: str) -> str:
    """What a user typed as an estimate, or "" when blank; raises ValueError with the deck otherwise."""
    text = text.strip()
    if text and text not in ESTIMATES:
        raise ValueError(f"Pick an estimate from the deck: {' '.join(ESTIMATES)}")
    return text


def open_blocker_days(state: State, item_id: str, today: date) -> int | None:
    """The age in days of the oldest open blocker linked to an item ("day 3"), if any."""
    ages = [
        (today - date.fromisoformat(b.opened_on)).days
        for b in state.blockers.values()
        if b.item_id == item_id and not b.resolved_on
    ]
    return max(ages) if ages else None

