"""Handlers for the room, members, sprints and backlog items."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from . import rank as ranks
from . import rules
from .errors import InvalidArgs, RuleViolation, UnknownEntity
from .model import ESTIMATES, ITEM_KINDS, ITEM_STATUSES, Item, Member, Room, Sprint
from .ops import Op
from .reducer import handles
from .tx import Tx


@handles("room.setup")
def room_setup(tx: Tx, args: Mapping, op: Op) -> None:
    name = rules.text(args, "name", what="The room name", max_len=rules.MAX_NAME, default=tx.room.name)
    team = rules.text(args, "team", what="The team name", max_len=rules.MAX_NAME, default=tx.room.team)
    tx.set_room(Room(name=name.strip() or tx.room.name, team=team.strip() or tx.room.team))


def _role(args: Mapping, default: str) -> str:
    role = rules.text(args, "role", what="A role", max_len=rules.MAX_NAME, default=default).strip()
    return role or "Member"


@handles("member.add")
def member_add(tx: Tx, args: Mapping, op: Op) -> None:
    member_id = rules.ident(args, "id", what="A member")
    if tx.get("members", member_id):
        raise RuleViolation(f"A member with id {member_id!r} already exists.")
    name = rules.text(args, "name", what="A member's name", max_len=rules.MAX_NAME, required=True).strip()
    if any(m.name.casefold() == name.casefold() and m.active for m in tx.all("members").values()):
        raise RuleViolation(f"There is already a member called {name!r}.")
    tx.put("members", Member(id=member_id, name=name, role=_role(args, "Member")))


@handles("member.update")
def member_update(tx: Tx, args: Mapping, op: Op) -> None:
    member = tx.require("members", args.get("id"))
    changes = {}
    if "name" in args:
        changes["name"] = rules.text(args, "name", what="A member's name", max_len=rules.MAX_NAME,
                                     required=True).strip()
    if "role" in args:
        changes["role"] = _role(args, member.role)
    if "active" in args:
        if not isinstance(args["active"], bool):
            raise InvalidArgs("Active must be true or false.")
        changes["active"] = args["active"]
    name, active = changes.get("name", member.name), changes.get("active", member.active)
    if active and any(m.name.casefold() == name.casefold() and m.active and m.id != member.id
                      for m in tx.all("members").values()):
        raise RuleViolation(f"There is already a member called {name!r}.")
    tx.update("members", member.id, **changes)


# ----------------------------------------------------------------------------- sprints


@handles("sprint.create")
def sprint_create(tx: Tx, args: Mapping, op: Op) -> None:
    sprint_id = rules.ident(args, "id", what="A sprint")
    if tx.get("sprints", sprint_id):
        raise RuleViolation(f"A sprint with id {sprint_id!r} already exists.")
    name = rules.text(args, "name", what="The sprint name", max_len=rules.MAX_NAME, required=True).strip()
    start = rules.iso_date(args, "start", what="The start date", default=op.date or None)
    days = rules.sprint_days(args, 14)
    goal = rules.text(args, "goal", what="The sprint goal", max_len=rules.MAX_TEXT).strip()
    if goal and (problem := rules.goal_problem(goal)):
        raise RuleViolation(problem)
    capacity = rules.number(args, "capacity", what="Capacity", default=0, minimum=0, maximum=10_000, integer=True)
    tx.put("sprints", Sprint(id=sprint_id, name=name, start=start, days=days, goal=goal, capacity=capacity))


@handles("sprint.update")
def sprint_update(tx: Tx, args: Mapping, op: Op) -> None:
    sprint = tx.require("sprints", args.get("id"))
    if sprint.status == "closed":
        raise RuleViolation(f"Sprint {sprint.name!r} is closed; it can no longer change.")
    changes = {}
    if "name" in args:
        changes["name"] = rules.text(args, "name", what="The sprint name", max_len=rules.MAX_NAME,
                                     required=True).strip()
    if "start" in args:
        changes["start"] = rules.iso_date(args, "start", what="The start date")
    if "days" in args:
        changes["days"] = rules.sprint_days(args)
    if "goal" in args:
        goal = rules.text(args, "goal", what="The sprint goal", max_len=rules.MAX_TEXT).strip()
        if goal or sprint.status == "active":
            if problem := rules.goal_problem(goal):
                raise RuleViolation(problem)
        changes["goal"] = goal
    if "capacity" in args:
        changes["capacity"] = rules.number(args, "capacity", what="Capacity", minimum=0, maximum=10_000,
                                           integer=True)
    tx.update("sprints", sprint.id, **changes)


@handles("sprint.start")
def sprint_start(tx: Tx, args: Mapping, op: Op) -> None:
    sprint = tx.require("sprints", args.get("id"))
    if sprint.status != "planned":
        raise RuleViolation(f"Sprint {sprint.name!r} is {sprint.status}; only a planned sprint can start.")
    if problem := rules.goal_problem(sprint.goal):
        raise RuleViolation(f"Sprint {sprint.name!r} cannot start. {problem}")
    for other in tx.all("sprints").values():
        if other.status == "active":
            raise RuleViolation(
                f"Sprint {other.name!r} is still active; close it before starting {sprint.name!r}."
            )
    tx.update("sprints", sprint.id, status="active", started_on=op.date or sprint.start)


@handles("sprint.close")
def sprint_close(tx: Tx, args: Mapping, op: Op) -> None:
    sprint = tx.require("sprints", args.get("id"))
    if sprint.status != "active":
        raise RuleViolation(f"Sprint {sprint.name!r} is {sprint.status}; only the active sprint can close.")
    carry = args.get("carry") or {}
    if not isinstance(carry, Mapping):
        raise InvalidArgs("Closing a sprint needs a decision (next or backlog) for each unfinished item.")
    unfinished = [i for i in tx.all("items").values() if i.sprint_id == sprint.id and i.status != "done"]
    missing = [i.title for i in unfinished if carry.get(i.id) not in ("next", "backlog")]
    if missing:
        raise RuleViolation(
            f"Decide next sprint or backlog for every unfinished item; {len(missing)} undecided "
            f"(first: {missing[0]!r})."
        )
    next_id = None
    if any(carry.get(i.id) == "next" for i in unfinished):
        next_id = _next_sprint(tx, sprint, args.get("next"), op)
    top = _last_rank(tx, next_id)
    for item in sorted(unfinished, key=lambda i: (i.rank, i.id)):
        if carry[item.id] == "next":
            top = ranks.after(top)
            tx.update("items", item.id, sprint_id=next_id, rank=top)
        else:
            tx.update("items", item.id, sprint_id=None, rank=ranks.after(_last_rank(tx, None)))
    velocity = sum(i.points for i in tx.all("items").values() if i.sprint_id == sprint.id and i.status == "done")
    tx.update("sprints", sprint.id, status="closed", velocity=velocity, closed_on=op.date or sprint.start)


def _next_sprint(tx: Tx, sprint: Sprint, spec, op: Op) -> str:
    """The sprint that unfinished work carries into: the given one, the next planned one, or a new one."""
    if spec is not None and not isinstance(spec, (str, Mapping)):
        raise InvalidArgs("The next sprint must be a sprint id or the new sprint's details.")
    if isinstance(spec, str):
        target = tx.require("sprints", spec)
        if target.status != "planned":
            raise RuleViolation(f"Work can only carry into a planned sprint; {target.name!r} is {target.status}.")
        return target.id
    planned = next_planned(tx.all("sprints").values(), after=sprint)
    if planned is not None and spec is None:
        return planned.id
    spec = dict(spec or {})
    spec.setdefault("id", free_sprint_id(tx, sprint.id + "-next"))
    spec.setdefault("name", f"After {sprint.name}"[: rules.MAX_NAME])
    spec.setdefault("start", (date.fromisoformat(sprint.start) + timedelta(days=sprint.days)).isoformat())
    spec.setdefault("days", sprint.days)
    spec.setdefault("capacity", sprint.capacity)
    sprint_create(tx, spec, op)
    return spec["id"]


def free_sprint_id(tx: Tx, wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``… whichever is not taken yet."""
    candidate, n = wanted[:60], 2
    while tx.get("sprints", candidate) is not None:
        candidate, n = f"{wanted[:60]}-{n}", n + 1
    return candidate


def next_planned(sprints, after: Sprint | None = None) -> Sprint | None:
    planned = sorted((s for s in sprints if s.status == "planned"), key=lambda s: (s.start, s.id))
    if after is not None:
        later = [s for s in planned if s.start >= after.start and s.id != after.id]
        planned = later or planned
    return planned[0] if planned else None


# ----------------------------------------------------------------------------- items


def _last_rank(tx: Tx, sprint_id: str | None) -> str | None:
    last = None
    for item in tx.all("items").values():
        if item.sprint_id == sprint_id and (last is None or item.rank > last):
            last = item.rank
    return last


def _item_fields(tx: Tx, args: Mapping, current: Item | None) -> dict:
    out: dict = {}
    if "title" in args or current is None:
        out["title"] = rules.text(args, "title", what="A title", max_len=rules.MAX_TITLE, required=True).strip()
    if "owner" in args:
        owner = args.get("owner") or ""
        if owner and not isinstance(owner, str):
            raise InvalidArgs("An owner must be a member id.")
        if owner and tx.get("members", owner) is None:
            raise UnknownEntity(f"Unknown owner {owner!r}: add them to the team first.")
        out["owner"] = owner
    if "estimate" in args:
        estimate = args.get("estimate")
        estimate = "" if estimate in (None, "") else str(estimate)
        if estimate and estimate not in ESTIMATES:
            raise RuleViolation(f"An estimate comes from the deck {' '.join(ESTIMATES)}; {estimate!r} is not in it.")
        out["estimate"] = estimate
    if "kind" in args:
        out["kind"] = rules.choice(args, "kind", ITEM_KINDS, what="Kind", default="task")
    if "value" in args:
        out["value"] = rules.number(args, "value", what="A deal value", minimum=0, maximum=1e12)
    if "sprint_id" in args:
        sprint_id = args.get("sprint_id") or None
        if sprint_id is not None:
            sprint = tx.require("sprints", sprint_id)
            if sprint.status == "closed":
                raise RuleViolation(f"Sprint {sprint.name!r} is closed; plan work into an open sprint.")
        out["sprint_id"] = sprint_id
    if "rank" in args:
        if not ranks.is_rank(args["rank"]):
            raise InvalidArgs(f"{args['rank']!r} is not a valid rank.")
        out["rank"] = args["rank"]
    if "status" in args or "note" in args:
        status = rules.choice(args, "status", ITEM_STATUSES, what="Status",
                              default=current.status if current else "todo")
        note = rules.text(args, "note", what="The blocked note", max_len=rules.MAX_TEXT,
                          default=current.note if current else "").strip()
        if status == "blocked" and not note:
            raise RuleViolation("A blocked item needs a note saying what blocks it.")
        out["status"] = status
        out["note"] = note if status == "blocked" else ""
    return out


@handles("item.add")
def item_add(tx: Tx, args: Mapping, op: Op) -> None:
    item_id = rules.ident(args, "id", what="An item")
    if tx.get("items", item_id):
        raise RuleViolation(f"An item with id {item_id!r} already exists.")
    fields = _item_fields(tx, args, None)
    if "rank" not in fields:  # callers that know the list pass the rank (a scan of every item otherwise)
        fields["rank"] = ranks.after(_last_rank(tx, fields.get("sprint_id")))
    status = fields.get("status", "todo")
    tx.put("items", Item(id=item_id, created_on=op.date, done_on=op.date if status == "done" else None, **fields))


def _not_history(tx: Tx, item: Item) -> None:
    sprint = tx.get("sprints", item.sprint_id)
    if sprint is not None and sprint.status == "closed":
        raise RuleViolation(f"{item.title!r} belongs to the closed sprint {sprint.name!r}; closed sprints are "
                            "history and do not change.")


@handles("item.update")
def item_update(tx: Tx, args: Mapping, op: Op) -> None:
    item = tx.require("items", args.get("id"))
    _not_history(tx, item)
    fields = _item_fields(tx, args, item)
    if "status" in fields and fields["status"] != item.status:
        fields["done_on"] = (op.date or item.created_on) if fields["status"] == "done" else None
    if "sprint_id" in fields and fields["sprint_id"] != item.sprint_id and "rank" not in fields:
        fields["rank"] = ranks.after(_last_rank(tx, fields["sprint_id"]))
    tx.update("items", item.id, **fields)


@handles("item.delete")
def item_delete(tx: Tx, args: Mapping, op: Op) -> None:
    item = tx.require("items", args.get("id"))
    _not_history(tx, item)
    tx.delete("items", item.id)
    for blocker in list(tx.all("blockers").values()):  # a blocker outlives its item, unlinked
        if blocker.item_id == item.id:
            tx.update("blockers", blocker.id, item_id=None)
