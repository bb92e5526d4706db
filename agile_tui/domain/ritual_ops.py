"""Handlers for standup records, blockers and metrics (the records the rituals leave behind). The live standup
is in standup_ops.py, the retro in retro_ops.py and its neighbours."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, timedelta

from . import metric_values, metrics, rules
from .errors import InvalidArgs, RuleViolation
from .model import (
    DIRECTIONS,
    SCOPES,
    SUMMARIES,
    Blocker,
    MetricDef,
    Sample,
    Standup,
    Update,
)
from .ops import Op
from .reducer import handles
from .tx import Tx


def _new_id(tx: Tx, coll: str, args: Mapping, what: str) -> str:
    key = rules.ident(args, "id", what=what)
    if tx.get(coll, key):
        raise RuleViolation(f"A {what.lower().removeprefix('a ')} with id {key!r} already exists.")
    return key


def _member(tx: Tx, args: Mapping, key: str, what: str, required: bool = True) -> str | None:
    member_id = rules.ident(args, key, what=what, required=required)
    if member_id is not None:
        tx.require("members", member_id)
    return member_id


# ----------------------------------------------------------------------------- blockers


@handles("blocker.open")
def blocker_open(tx: Tx, args: Mapping, op: Op) -> None:
    """A blocker record, open until resolved. Linked to an item, it may also mark the item blocked
    (``block_item``); an item's blocker needs no person (it belongs to the item's owner, if any)."""
    blocker_id = _new_id(tx, "blockers", args, "A blocker")
    text = rules.text(args, "text", what="A blocker", required=True).strip()
    item_id = rules.ident(args, "item_id", what="The linked item", required=False)
    item = tx.require("items", item_id) if item_id is not None else None
    member_id = _member(tx, args, "member_id", "A blocker's owner", required=item is None) or (
        item.owner if item is not None else "")
    if item is not None and args.get("block_item"):
        tx.update("items", item.id, status="blocked", note=text[:rules.MAX_TEXT], done_on=None)
    helper_id = _member(tx, args, "helper_id", "Who helps", required=False)
    opened_on = rules.iso_date(args, "opened_on", what="The opening date", default=op.date or None)
    standup_id = rules.ident(args, "standup_id", what="The standup", required=False)
    if standup_id is not None:
        standup = tx.require("standups", standup_id)
        update = next((u for u in standup.updates if u.member_id == member_id), None)
        said = "\n".join(t for t in ((update.blockers if update else ""), text) if t)
        updates = tuple(dataclasses.replace(u, blockers=said) if u.member_id == member_id else u
                        for u in standup.updates)
        if update is None:
            updates = (*updates, Update(member_id=member_id, blockers=said))
        tx.put("standups", dataclasses.replace(standup, updates=updates))
    tx.put("blockers", Blocker(id=blocker_id, member_id=member_id, text=text, opened_on=opened_on,
                               item_id=item_id, helper_id=helper_id, standup_id=standup_id))


@handles("blocker.update")
def blocker_update(tx: Tx, args: Mapping, op: Op) -> None:
    blocker = tx.require("blockers", args.get("id"))
    changes = {}
    if "text" in args:
        changes["text"] = rules.text(args, "text", what="A blocker", required=True).strip()
    if "helper_id" in args:
        changes["helper_id"] = _member(tx, args, "helper_id", "Who helps", required=False)
    if "item_id" in args:
        item_id = rules.ident(args, "item_id", what="The linked item", required=False)
        if item_id is not None:
            tx.require("items", item_id)
        changes["item_id"] = item_id
    blocker = tx.update("blockers", blocker.id, **changes)
    item = tx.get("items", blocker.item_id)
    if "text" in changes and item is not None and item.status == "blocked":
        tx.update("items", item.id, note=blocker.text)


@handles("blocker.resolve")
def blocker_resolve(tx: Tx, args: Mapping, op: Op) -> None:
    blocker = tx.require("blockers", args.get("id"))
    if blocker.resolved_on:
        raise RuleViolation(f"That blocker was already resolved on {blocker.resolved_on}.")
    tx.update("blockers", blocker.id, resolved_on=op.date or blocker.opened_on)
    item = tx.get("items", blocker.item_id)
    still_blocked = any(b.item_id == blocker.item_id and not b.resolved_on for b in tx.all("blockers").values())
    if item is not None and item.status == "blocked" and not still_blocked:
        tx.update("items", item.id, status="doing", note="")  # nothing blocks it any more


# ----------------------------------------------------------------------------- standups


@handles("standup.record")
def standup_record(tx: Tx, args: Mapping, op: Op) -> None:
    standup_id = _new_id(tx, "standups", args, "A standup")
    day = rules.iso_date(args, "date", what="The standup date", default=op.date or None)
    sprint_id = rules.ident(args, "sprint_id", what="The sprint", required=False)
    if sprint_id is not None:
        tx.require("sprints", sprint_id)
    facilitator = _member(tx, args, "facilitator_id", "The facilitator", required=False) or ""
    length = rules.number(args, "length_min", what="Meeting length", default=15, minimum=5, maximum=30,
                          integer=True)
    raw_updates = args.get("updates") or []
    if not isinstance(raw_updates, list):
        raise InvalidArgs("A standup's updates must be a list.")
    updates = []
    for raw in raw_updates:
        if not isinstance(raw, Mapping):
            raise InvalidArgs("Each standup update must be a mapping.")
        updates.append(Update(
            member_id=_member(tx, raw, "member_id", "A speaker"),
            yesterday=rules.text(raw, "yesterday", what="Yesterday"),
            today=rules.text(raw, "today", what="Today"),
            blockers=rules.text(raw, "blockers", what="Blockers"),
            airtime_s=rules.number(raw, "airtime_s", what="Airtime", default=0.0, minimum=0) or 0.0,
            box_s=rules.number(raw, "box_s", what="Time box", default=0.0, minimum=0) or 0.0,
            absent=bool(raw.get("absent", False)),
        ))
    parking = args.get("parking") or []
    if not isinstance(parking, list) or not all(isinstance(p, str) for p in parking):
        raise InvalidArgs("The parking lot must be a list of topics.")
    tx.put("standups", Standup(id=standup_id, date=day, sprint_id=sprint_id, facilitator_id=facilitator,
                               length_min=length, updates=tuple(updates), parking=tuple(parking)))


# ----------------------------------------------------------------------------- metrics


@handles("metric.define")
def metric_define(tx: Tx, args: Mapping, op: Op) -> None:
    metric_id = rules.ident(args, "id", what="A metric")
    name = rules.text(args, "name", what="A metric's name", max_len=rules.MAX_NAME, required=True).strip()
    for other in tx.all("metrics").values():
        if other.name.casefold() == name.casefold() and other.id != metric_id:
            raise RuleViolation(f"There is already a metric called {name!r}.")
    metric = MetricDef(
        id=metric_id,
        name=name,
        unit=rules.text(args, "unit", what="A unit", max_len=20),
        target=rules.number(args, "target", what="A target", default=0.0, minimum=0) or 0.0,  # None: no target
        direction=rules.choice(args, "direction", DIRECTIONS, what="Direction", default="higher"),
        scope=rules.choice(args, "scope", SCOPES, what="Scope", default="team"),
        summary=rules.choice(args, "summary", SUMMARIES, what="Summary", default="mean"),
    )
    old = tx.get("metrics", metric_id)
    recorded = metrics.samples_of(tx.all("samples"), metric_id) if old is not None and old.unit != metric.unit else ()
    if problem := metric_values.definition_problem(metric, recorded):
        raise RuleViolation(_sentence(problem))
    tx.put("metrics", metric)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


@handles("metric.sample")
def metric_sample(tx: Tx, args: Mapping, op: Op) -> None:
    sample_id = _new_id(tx, "samples", args, "A sample")
    metric = tx.require("metrics", args.get("metric_id"))
    value = rules.number(args, "value", what=f"A value of {metric.name}")
    if value is None:
        raise InvalidArgs(f"A value of {metric.name} is required.")
    if problem := metric_values.value_problem(metric, value):
        raise RuleViolation(_sentence(problem))
    day = rules.iso_date(args, "date", what="The sample date", default=op.date or None)
    if op.date and date.fromisoformat(day) > date.fromisoformat(op.date) + timedelta(days=1):
        raise RuleViolation(f"The sample date {day} is in the future; samples record what happened.")
    tx.put("samples", Sample(
        id=sample_id,
        metric_id=metric.id,
        date=day,
        value=value,
        member_id=_member(tx, args, "member_id", "The member", required=False),
    ))


@handles("metric.remove")
def metric_remove(tx: Tx, args: Mapping, op: Op) -> None:
    """Remove a metric, its samples and its place among the sprints' focus metrics: one step, undone as one."""
    metric = tx.require("metrics", args.get("id"))
    for sample in metrics.samples_of(tx.all("samples"), metric.id):
        tx.delete("samples", sample.id)
    for sprint in list(tx.all("sprints").values()):
        if metric.id in sprint.focus_metrics:
            tx.update("sprints", sprint.id, focus_metrics=tuple(m for m in sprint.focus_metrics if m != metric.id))
    tx.delete("metrics", metric.id)


MAX_FOCUS = 3


@handles("sprint.focus")
def sprint_focus(tx: Tx, args: Mapping, op: Op) -> None:
    """Choose a sprint's focus metrics (up to three, in order; an empty list clears them)."""
    sprint = tx.require("sprints", args.get("id"))
    chosen = args.get("metric_ids") or []
    if not isinstance(chosen, (list, tuple)) or not all(isinstance(m, str) for m in chosen):
        raise InvalidArgs("Focus metrics must be a list of metric ids.")
    if len(set(chosen)) != len(chosen):
        raise InvalidArgs("A focus metric is listed twice.")
    if len(chosen) > MAX_FOCUS:
        raise RuleViolation(f"A sprint has at most {MAX_FOCUS} focus metrics; {len(chosen)} were chosen.")
    for metric_id in chosen:
        tx.require("metrics", metric_id)
    tx.update("sprints", sprint.id, focus_metrics=tuple(chosen))
