"""Handlers of the retro's outcome: action items, the review of earlier retros' actions, and closing (the
actions become items of the next sprint, and the next retro reviews them)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, timedelta

from . import rank as ranks
from . import retro as q
from . import rules
from .errors import InvalidArgs, RuleViolation
from .model import Action, Item, Retro, Sprint
from .ops import Op
from .planning_ops import _last_rank, free_sprint_id, next_planned, sprint_create
from .reducer import handles
from .retro_ops import open_retro, stop_timer
from .tx import Tx

# ----------------------------------------------------------------------------- actions and review


def _action_fields(tx: Tx, args: Mapping, retro: Retro, new: bool) -> dict:
    fields: dict = {}
    if new or "title" in args:
        fields["title"] = rules.text(args, "title", what="An action", max_len=rules.MAX_TITLE,
                                     required=True).strip()
    if "owner" in args:
        owner = rules.ident(args, "owner", what="The action's owner", required=False)
        fields["owner"] = tx.require("members", owner).id if owner else ""
    if "due" in args:
        fields["due"] = rules.iso_date(args, "due", what="The due date") if args.get("due") else None
    if "topic_id" in args:
        topic_id = rules.ident(args, "topic_id", what="The topic", required=False)
        if topic_id is not None and not q.is_target(retro, topic_id):
            raise RuleViolation(f"This retro has no topic {topic_id!r}.")
        fields["topic_id"] = topic_id
    return fields


@handles("retro.action")
def retro_action(tx: Tx, args: Mapping, op: Op) -> None:
    """A new action item: title, owner, due date, and optionally the topic it came out of."""
    retro = open_retro(tx, args)
    action_id = rules.ident(args, "id", what="An action")
    if any(a.id == action_id for a in retro.actions):
        raise RuleViolation(f"This retro already has an action with id {action_id!r}.")
    action = Action(id=action_id, **_action_fields(tx, args, retro, new=True))
    tx.put("retros", dataclasses.replace(retro, actions=(*retro.actions, action)))


@handles("retro.action_update")
def retro_action_update(tx: Tx, args: Mapping, op: Op) -> None:
    """Change the fields given of an action item, or remove it (``delete``)."""
    retro = open_retro(tx, args)
    action = next((a for a in retro.actions if a.id == args.get("id")), None)
    if action is None:
        raise RuleViolation(f"This retro has no action {args.get('id')!r}.")
    if args.get("delete"):
        tx.put("retros", dataclasses.replace(retro, actions=tuple(a for a in retro.actions if a.id != action.id)))
        return
    fields = _action_fields(tx, args, retro, new=False)
    actions = tuple(dataclasses.replace(a, **fields) if a.id == action.id else a for a in retro.actions)
    tx.put("retros", dataclasses.replace(retro, actions=actions))


@handles("retro.review")
def retro_review(tx: Tx, args: Mapping, op: Op) -> None:
    """Mark an earlier action ``done`` (its item is completed too, if still open) or ``carried`` (it stays on
    the list: if its item is in the backlog when this retro closes, it moves into the next sprint); "" unmarks.
    ``from_retro`` picks the entry when two earlier retros had an action with the same id."""
    retro = open_retro(tx, args)
    action_id = rules.ident(args, "action_id", what="The reviewed action")
    from_retro = rules.ident(args, "from_retro", what="The earlier retro", required=False)
    outcome = rules.choice(args, "outcome", (*q.OUTCOMES, ""), what="A review outcome", default="done")
    entries = q.review_entry(retro, action_id, from_retro)
    if not entries:
        raise RuleViolation(f"There is no earlier action {action_id!r} to review.")
    if len(entries) > 1:
        raise InvalidArgs(f"Two earlier retros have an action {action_id!r}: say which (from_retro).")
    entry = entries[0]
    review = tuple(dataclasses.replace(e, outcome=outcome) if e is entry else e for e in retro.review)
    tx.put("retros", dataclasses.replace(retro, review=review))
    item = tx.get("items", entry.item_id)
    if outcome == "done" and item is not None and item.status != "done":
        tx.update("items", item.id, status="done", note="", done_on=op.date or item.created_on)


# ----------------------------------------------------------------------------- close


@handles("retro.close")
def retro_close(tx: Tx, args: Mapping, op: Op) -> None:
    """Close the retro (from any phase: it is explicit and final). Each action item becomes an item of the next
    sprint (created if needed) with its owner; reviewed actions marked carried whose item sits in the backlog
    move into that sprint too. The next retro reviews them."""
    retro = tx.require("retros", args.get("id"))
    if retro.status == "closed":
        raise RuleViolation("That retro is already closed.")
    sprint: Sprint = tx.require("sprints", retro.sprint_id)
    carried = [item for e in retro.review if e.outcome == "carried" and (item := tx.get("items", e.item_id))
               is not None and item.status != "done" and item.sprint_id is None]
    target = _sprint_after(tx, sprint, op) if retro.actions or carried else None
    rank = _last_rank(tx, target)
    actions = []
    for action in retro.actions:
        rank = ranks.after(rank)
        base = f"{retro.id}-{action.id}"[:60]
        item_id, suffix = base, 2
        while tx.get("items", item_id) is not None:
            item_id, suffix = f"{base}-{suffix}", suffix + 1
        tx.put("items", Item(id=item_id, title=action.title, rank=rank, owner=action.owner, sprint_id=target,
                             created_on=op.date))
        actions.append(dataclasses.replace(action, item_id=item_id))
    for item in carried:
        rank = ranks.after(rank)
        tx.update("items", item.id, sprint_id=target, rank=rank)
    if retro.timer_since is not None:
        at = rules.number(args, "at", what="The retro's round time", minimum=0) or 0.0
        retro = stop_timer(retro, max(float(at), retro.clock_at))
    tx.put("retros", dataclasses.replace(retro, status="closed", phase="close", ready=(), actions=tuple(actions),
                                         closed_on=op.date))


def _sprint_after(tx: Tx, sprint: Sprint, op: Op) -> str:
    sprints = tx.all("sprints").values()
    later = [s for s in sprints if s.status == "active" and s.start >= sprint.start and s.id != sprint.id]
    if later:
        return later[0].id
    planned = next_planned(sprints, after=sprint)
    if planned is not None:
        return planned.id
    spec = {"id": free_sprint_id(tx, f"{sprint.id}-next"), "name": f"After {sprint.name}"[: rules.MAX_NAME],
            "start": (date.fromisoformat(sprint.start) + timedelta(days=sprint.days)).isoformat(),
            "days": sprint.days, "capacity": sprint.capacity}
    sprint_create(tx, spec, op)
    return spec["id"]
