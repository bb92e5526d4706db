"""Handlers of the live standup round: start, turns, the timer, notes, the parking lot, the end.

Every timer op carries ``at``, the round time in seconds (see standup.py); a turn change may carry ``expect``,
the speaker index its author saw, so two presses of "next" never skip a person."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from . import rules
from .errors import InvalidArgs, RuleViolation
from .model import Standup, Update
from .ops import Op
from .planning import active_sprint
from .reducer import handles
from .standup import MAX_LENGTH_MIN, MIN_LENGTH_MIN, box_for_turn, last_today, live_standup, update_of
from .tx import Tx

TURN_ACTIONS = ("next", "back", "skip", "join")
TIMER_ACTIONS = ("pause", "resume", "more")
MAX_PARKING = 200


def _live(tx: Tx, args: Mapping) -> Standup:
    standup = tx.require("standups", args.get("id"))
    if standup.status != "live":
        raise RuleViolation(f"The standup of {standup.date} has ended.")
    return standup


def _at(args: Mapping, standup: Standup) -> float:
    return rules.round_time(args, standup.clock_at, what="The round time", doing="A timer change")


def _with_update(standup: Standup, member_id: str, **changes) -> Standup:
    updates = []
    found = False
    for update in standup.updates:
        if update.member_id == member_id:
            update = dataclasses.replace(update, **changes)
            found = True
        updates.append(update)
    if not found:
        updates.append(Update(member_id=member_id, **changes))
    return dataclasses.replace(standup, updates=tuple(updates))


def _absent(standup: Standup, member_id: str) -> bool:
    update = update_of(standup, member_id)
    return update is not None and update.absent and update.airtime_s <= 0


def _leave(standup: Standup, at: float) -> Standup:
    """Stop the current speaker's clock, adding the time they spoke to their airtime."""
    member_id = standup.order[standup.current] if standup.current < len(standup.order) else None
    if member_id is None or standup.running_since is None:
        return dataclasses.replace(standup, running_since=None, clock_at=at)
    spoken = (update_of(standup, member_id) or Update(member_id)).airtime_s + max(0.0, at - standup.running_since)
    standup = _with_update(standup, member_id, airtime_s=round(spoken, 3))
    return dataclasses.replace(standup, running_since=None, clock_at=at)


def _enter(standup: Standup, index: int, at: float) -> Standup:
    """Start the turn at ``index`` (running), or stop after the last speaker."""
    standup = dataclasses.replace(standup, current=index, clock_at=at)
    if index >= len(standup.order):
        return dataclasses.replace(standup, current=len(standup.order), running_since=None)
    member_id = standup.order[index]
    update = update_of(standup, member_id) or Update(member_id)
    changes = {"absent": False}
    if update.box_s <= 0 and update.airtime_s <= 0:
        changes["box_s"] = round(box_for_turn(standup, at), 3)
    standup = _with_update(standup, member_id, **changes)
    return dataclasses.replace(standup, running_since=at)


@handles("standup.start")
def standup_start(tx: Tx, args: Mapping, op: Op) -> None:
    if (running := live_standup(tx.state)) is not None:
        raise RuleViolation(f"The standup of {running.date} is still running; end it first (e).")
    standup_id = rules.ident(args, "id", what="A standup")
    if tx.get("standups", standup_id):
        raise RuleViolation(f"A standup with id {standup_id!r} already exists.")
    day = rules.iso_date(args, "date", what="The standup date", default=op.date or None)
    sprint_id = rules.ident(args, "sprint_id", what="The sprint", required=False)
    if sprint_id is not None:
        tx.require("sprints", sprint_id)
    elif (sprint := active_sprint(tx.state)) is not None:
        sprint_id = sprint.id
    facilitator = rules.ident(args, "facilitator_id", what="The facilitator", required=False) or ""
    if facilitator:
        tx.require("members", facilitator)
    length = rules.number(args, "length_min", what="Meeting length (minutes)", default=15,
                          minimum=MIN_LENGTH_MIN, maximum=MAX_LENGTH_MIN, integer=True)
    order = args.get("order")
    if not isinstance(order, list) or not all(isinstance(m, str) for m in order):
        raise InvalidArgs("A standup needs its speaking order: a list of member ids.")
    if not order:
        raise RuleViolation("Nobody is marked present: mark at least one speaker.")
    if len(set(order)) != len(order):
        raise RuleViolation("Someone is in the speaking order twice.")
    for member_id in order:
        tx.require("members", member_id)
    started_mono = rules.number(args, "started_mono", what="The monotonic start")
    source = rules.text(args, "clock_source", what="The clock source", max_len=100)
    updates = []
    absent = [m.id for m in tx.all("members").values() if m.active and m.id not in order]
    for member_id in order:
        updates.append(Update(member_id=member_id, yesterday=last_today(tx.state, member_id, day)))
    updates.extend(Update(member_id=member_id, absent=True) for member_id in absent)
    standup = Standup(id=standup_id, date=day, sprint_id=sprint_id, facilitator_id=facilitator,
                      length_min=length, updates=tuple(updates), status="live", order=tuple(order),
                      started_at=op.ts, started_mono=started_mono, clock_source=source,
                      shuffled=bool(args.get("shuffled", False)))
    tx.put("standups", _enter(standup, 0, 0.0))


@handles("standup.turn")
def standup_turn(tx: Tx, args: Mapping, op: Op) -> None:
    standup = _live(tx, args)
    action = rules.choice(args, "action", TURN_ACTIONS, what="A turn change", default="next")
    at = _at(args, standup)
    expect = args.get("expect")
    if expect is not None and expect != standup.current and action != "join":
        raise RuleViolation("The speaker has already changed; look again.")
    last = len(standup.order)
    if action == "next":
        if standup.current >= last:
            raise RuleViolation("That was the last speaker: e ends the standup.")
        following = next((n for n in range(standup.current + 1, last) if not _absent(standup, standup.order[n])),
                         last)  # past anyone marked absent
        standup = _enter(_leave(standup, at), following, at)
    elif action == "back":
        previous = [n for n in range(standup.current - 1, -1, -1) if not _absent(standup, standup.order[n])]
        if not previous:
            raise RuleViolation("This is the first speaker." if standup.current <= 0 else
                                "Everyone before is marked absent; l brings someone back.")
        standup = _enter(_leave(standup, at), previous[0], at)
    elif action == "skip":
        # Not speaking now: this turn's seconds are not airtime; someone who has not spoken at all is absent.
        if standup.current >= last:
            raise RuleViolation("There is nobody left to skip.")
        member_id = standup.order[standup.current]
        standup = dataclasses.replace(standup, running_since=None, clock_at=at)
        if (update_of(standup, member_id) or Update(member_id)).airtime_s <= 0:
            standup = _with_update(standup, member_id, absent=True)
        following = next((n for n in range(standup.current + 1, last) if not _absent(standup, standup.order[n])),
                         last)
        standup = _enter(standup, following, at)
    else:  # join: a late joiner (or someone skipped as absent) goes to the end of the queue
        member_id = rules.ident(args, "member_id", what="The late joiner")
        member = tx.require("members", member_id)
        if member_id in standup.order and not _absent(standup, member_id):
            if member_id in standup.order[standup.current:]:
                raise RuleViolation(f"{member.name} is already in the queue.")
            raise RuleViolation(f"{member.name} has had their turn; b goes back to them.")
        order = list(standup.order)
        current = standup.current
        if member_id in order:  # skipped as absent: out of their old place
            index = order.index(member_id)
            order.pop(index)
            if index < current:
                current -= 1
        after_last = current >= len(order)
        standup = dataclasses.replace(standup, order=(*order, member_id), current=current)
        update = update_of(standup, member_id)
        yesterday = update.yesterday if update and update.yesterday else last_today(tx.state, member_id, standup.date,
                                                                                      exclude=standup.id)
        standup = _with_update(standup, member_id, absent=False, late=True, yesterday=yesterday)
        standup = _enter(standup, current, at) if after_last else dataclasses.replace(standup, clock_at=at)
    tx.put("standups", standup)


@handles("standup.timer")
def standup_timer(tx: Tx, args: Mapping, op: Op) -> None:
    standup = _live(tx, args)
    action = rules.choice(args, "action", TIMER_ACTIONS, what="A timer change", default="pause")
    at = _at(args, standup)
    member_id = standup.order[standup.current] if standup.current < len(standup.order) else None
    if member_id is None:
        raise RuleViolation("Nobody is speaking: b goes back to the last speaker.")
    if action == "pause":
        if standup.running_since is None:
            raise RuleViolation("The clock is already paused.")
        standup = _leave(standup, at)
    elif action == "resume":
        if standup.running_since is not None:
            raise RuleViolation("The clock is already running.")
        standup = dataclasses.replace(standup, running_since=at, clock_at=at)
    else:
        seconds = rules.number(args, "seconds", what="Extra time", default=60, minimum=1, maximum=600)
        update = update_of(standup, member_id) or Update(member_id)
        standup = _with_update(standup, member_id, box_s=round(update.box_s + seconds, 3))
        standup = dataclasses.replace(standup, clock_at=at)
    tx.put("standups", standup)


@handles("standup.end")
def standup_end(tx: Tx, args: Mapping, op: Op) -> None:
    standup = _live(tx, args)
    at = _at(args, standup)
    standup = _leave(standup, at)
    tx.put("standups", dataclasses.replace(standup, status="closed", ended_after_s=round(at, 3)))


@handles("standup.note")
def standup_note(tx: Tx, args: Mapping, op: Op) -> None:
    """What a speaker said: yesterday, today, blockers (any of them). Works during and after the round."""
    standup = tx.require("standups", args.get("id"))
    member_id = rules.ident(args, "member_id", what="The speaker")
    tx.require("members", member_id)
    changes = {key: rules.text(args, key, what=key.capitalize()) for key in ("yesterday", "today", "blockers")
               if key in args}
    if not changes:
        raise InvalidArgs("A note needs yesterday, today or blockers.")
    update = update_of(standup, member_id)
    if update is not None and all(getattr(update, k) == v for k, v in changes.items()):
        return
    tx.put("standups", _with_update(standup, member_id, **changes))


@handles("standup.park")
def standup_park(tx: Tx, args: Mapping, op: Op) -> None:
    standup = tx.require("standups", args.get("id"))
    topic = rules.text(args, "text", what="A parking-lot topic", max_len=rules.MAX_TITLE, required=True).strip()
    if len(standup.parking) >= MAX_PARKING:
        raise RuleViolation(f"The parking lot is full ({MAX_PARKING} topics).")
    tx.put("standups", dataclasses.replace(standup, parking=(*standup.parking, topic)))
