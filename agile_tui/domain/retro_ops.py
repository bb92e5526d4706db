"""Handlers of the retrospective's flow: setup and settings, phases and their timer, readiness, the discussion,
and notes. Cards, topics and votes are in retro_board_ops.py; actions, the review of earlier actions and closing
in retro_action_ops.py; the read side is retro.py.

Every timed op carries ``at``, the retro's round time in seconds (see retro.py). Phase and topic changes may
carry ``expect`` (the phase or topic their author saw), so two presses never skip one."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from . import retro as q
from . import rules
from .errors import InvalidArgs, NotReady, RuleViolation
from .model import RETRO_TEMPLATES, Retro, Talk
from .ops import Op
from .reducer import handles
from .tx import Tx

TIMER_ACTIONS = ("start", "pause", "resume", "more")
DISCUSS_ACTIONS = ("next", "back", "jump")


# ----------------------------------------------------------------------------- helpers


def open_retro(tx: Tx, args: Mapping, key: str = "retro_id") -> Retro:
    retro = tx.require("retros", args.get(key))
    if retro.status == "closed":
        raise RuleViolation("That retro is closed.")
    return retro


def in_phase(retro: Retro, phases: tuple[str, ...], doing: str) -> None:
    if retro.phase not in phases:
        names = " or ".join(phases)
        raise RuleViolation(f"{doing} happens in the {names} phase; this retro is in {retro.phase}.")


def member_or_actor(tx: Tx, args: Mapping, op: Op, what: str) -> str:
    """``member_id`` (a facilitator acting as that member), else the op's actor."""
    member_id = rules.ident(args, "member_id", what=what, required=False)
    if member_id is None:
        return op.actor
    tx.require("members", member_id)
    return member_id


def round_time(args: Mapping, retro: Retro) -> float:
    return rules.round_time(args, retro.clock_at, what="The retro's round time", doing="A phase or timer change")


def _settings(tx: Tx, args: Mapping, retro: Retro) -> dict:
    """Validated setting changes. The votes per person stay >= the most votes on one topic >= 1; with votes
    cast, nobody may end up above a new budget and no count above a new cap; anonymity, once cards are written
    under it, stays on (turning it off would show who wrote them)."""
    changes: dict = {}
    limits = {"votes_per_person": "Votes per person", "max_votes_per_topic": "The most votes on one topic"}
    for key, what in limits.items():
        if key in args:
            changes[key] = rules.number(args, key, what=what, minimum=q.MIN_VOTES, maximum=q.MAX_VOTES,
                                        integer=True)
    for phase, key in q.MINUTES.items():
        if key in args:
            changes[key] = rules.number(args, key, what=f"The {phase} timer (minutes)", minimum=q.MIN_MINUTES,
                                        maximum=q.MAX_MINUTES, integer=True)
    if "anonymous" in args:
        if not isinstance(args["anonymous"], bool):
            raise InvalidArgs("Anonymous is on or off (true or false).")
        if retro.anonymous and not args["anonymous"] and retro.cards:
            raise RuleViolation("Cards were written anonymously; the retro stays anonymous so their authors stay "
                                "private.")
        changes["anonymous"] = args["anonymous"]
    if "participants" in args:
        people = args["participants"] or []
        if not isinstance(people, list) or not all(isinstance(p, str) for p in people):
            raise InvalidArgs("Participants must be a list of member ids.")
        if len(set(people)) != len(people):
            raise InvalidArgs("A participant is listed twice.")
        for member_id in people:
            tx.require("members", member_id)
        changes["participants"] = tuple(people)
    budget = changes.get("votes_per_person", retro.votes_per_person)
    cap = changes.get("max_votes_per_topic", retro.max_votes_per_topic)
    if cap > budget:
        raise RuleViolation(f"The most votes on one topic ({cap}) can't be more than the votes per person "
                            f"({budget}).")
    for member_id in q.voters(retro):
        used = q.votes_used(retro, member_id)
        if used > budget:
            who = q.name_of(tx.state, member_id) if retro.revealed else "Someone"
            raise RuleViolation(f"{who} has already used {used} votes; they must take "
                                f"some back before the votes per person can be {budget}.")
    for vote in retro.votes:
        if vote.count > cap:
            if not retro.revealed:  # votes are secret until the reveal: say that it conflicts, not whose or where
                raise RuleViolation(f"Someone already has {vote.count} votes on one topic; they must take some "
                                    f"back before the most votes on one topic can be {cap}.")
            raise RuleViolation(f"{q.name_of(tx.state, vote.member_id)} already has {vote.count} votes on "
                                f"{q.short(q.target_title(retro, vote.topic_id), 40)!r}; they must take some back "
                                f"before the most votes on one topic can be {cap}.")
    return changes


def stop_timer(retro: Retro, at: float) -> Retro:
    """Stop the timer, keeping the time it ran (and, in discuss, the topic's time and box in its talk)."""
    spent = round(q.spent_s(retro, at), 3)
    retro = dataclasses.replace(retro, timer_spent_s=spent, timer_since=None, clock_at=at)
    if retro.phase == "discuss" and retro.discussing:
        retro = with_talk(retro, retro.discussing, spent_s=spent, box_s=retro.timer_box_s)
    return retro


def with_talk(retro: Retro, target_id: str, **changes) -> Retro:
    talks, found = [], False
    for talk in retro.talks:
        if talk.topic_id == target_id:
            talk, found = dataclasses.replace(talk, **changes), True
        talks.append(talk)
    if not found:
        talks.append(Talk(topic_id=target_id, **changes))
    return dataclasses.replace(retro, talks=tuple(talks))


def _enter_topic(retro: Retro, target_id: str, at: float) -> Retro:
    """Discuss ``target_id``: its clock carries on from where it was, running if the clock was running."""
    running = retro.timer_since is not None
    retro = stop_timer(retro, at)
    talk = q.talk_of(retro, target_id)
    if talk is None:
        retro = with_talk(retro, target_id)
        talk = q.talk_of(retro, target_id)
    return dataclasses.replace(retro, discussing=target_id, timer_box_s=talk.box_s or q.phase_box_s(retro, "discuss"),
                               timer_spent_s=talk.spent_s, timer_since=at if running else None)


def _enter_phase(retro: Retro, phase: str, at: float) -> Retro:
    retro = stop_timer(retro, at)
    retro = dataclasses.replace(retro, phase=phase, ready=(), phase_started_at=at, timer_spent_s=0.0,
                                timer_box_s=q.phase_box_s(retro, phase))
    if phase == "discuss":  # back to the topic discussed last, if any (its time was banked above)
        order = q.discussion_order(retro)
        target = retro.discussing if retro.discussing in order else (order[0] if order else "")
        retro = dataclasses.replace(retro, revealed=True, discussing="")
        if target:
            retro = _enter_topic(retro, target, at)
    return retro


# ----------------------------------------------------------------------------- setup and settings


@handles("retro.create")
def retro_create(tx: Tx, args: Mapping, op: Op) -> None:
    """A retro of a sprint: it opens in review when an earlier retro left actions to review, else in reflect."""
    retro_id = rules.ident(args, "id", what="A retro")
    if tx.get("retros", retro_id):
        raise RuleViolation(f"A retro with id {retro_id!r} already exists.")
    sprint = tx.require("sprints", args.get("sprint_id"))
    if any(r.status == "open" for r in q.retros_of(tx.state, sprint.id)):
        raise RuleViolation(f"Sprint {sprint.name!r} already has an open retro.")
    template = rules.choice(args, "template", (*RETRO_TEMPLATES, "custom"), what="Template", default="went-well")
    if template == "custom":
        columns = args.get("columns")
        if (not isinstance(columns, list) or not 1 <= len(columns) <= 6
                or not all(isinstance(c, str) and c.strip() and len(c) <= 40 for c in columns)):
            raise InvalidArgs("Custom columns: 1 to 6 names of at most 40 characters.")
        columns = tuple(c.strip() for c in columns)
        if len(set(columns)) != len(columns):
            raise InvalidArgs("Two custom columns have the same name.")
    else:
        columns = RETRO_TEMPLATES[template]
    settings = {k: v for k, v in args.items() if k != "anonymous"}
    retro = Retro(id=retro_id, sprint_id=sprint.id, template=template, columns=columns,
                  anonymous=bool(args.get("anonymous", True)), started_at=op.ts,
                  started_mono=rules.number(args, "started_mono", what="The monotonic start"),
                  clock_source=rules.text(args, "clock_source", what="The clock source", max_len=100))
    retro = dataclasses.replace(retro, **_settings(tx, settings, retro))
    review = q.review_for(tx.state, sprint, exclude=retro_id)
    phase = "review" if review else "reflect"
    tx.put("retros", dataclasses.replace(retro, review=review, phase=phase, timer_box_s=q.phase_box_s(retro, phase)))


@handles("retro.settings")
def retro_settings(tx: Tx, args: Mapping, op: Op) -> None:
    retro = open_retro(tx, args)
    changes = _settings(tx, args, retro)
    updated = dataclasses.replace(retro, **changes)
    untouched = retro.timer_since is None and retro.timer_spent_s == 0
    if untouched and retro.phase in q.MINUTES:  # a timer not yet started follows its new length
        talk = q.talk_of(retro, retro.discussing) if retro.phase == "discuss" else None
        if talk is None or not talk.box_s:
            updated = dataclasses.replace(updated, timer_box_s=q.phase_box_s(updated, retro.phase))
    tx.put("retros", updated)


# ----------------------------------------------------------------------------- phases, timer, readiness


@handles("retro.phase")
def retro_phase(tx: Tx, args: Mapping, op: Op) -> None:
    """Move to the next phase (``action`` next) or back. Out of reflect, group and vote, while someone has not
    ticked ready, it is refused with ``NotReady`` unless ``force`` (the facilitator confirmed). Entering discuss
    reveals the votes and starts on the most voted topic."""
    retro = open_retro(tx, args)
    action = rules.choice(args, "action", ("next", "back"), what="A phase change", default="next")
    at = round_time(args, retro)
    expect = args.get("expect")
    if expect is not None and expect != retro.phase:
        raise RuleViolation(f"The retro has already moved to {retro.phase}; look again.")
    if action == "next":
        target = q.phase_after(retro.phase)
        if target is None:
            raise RuleViolation("This is the last phase: closing the retro turns its actions into items.")
        waiting = q.not_ready(tx.state, retro)
        if waiting and not args.get("force"):
            names = ", ".join(q.name_of(tx.state, m) for m in waiting)
            raise NotReady(f"Not ready yet: {names}. Move on to {target} anyway?", tuple(waiting))
    else:
        target = q.phase_before(retro.phase)
        if target is None or (target == "review" and not retro.review):
            raise RuleViolation("This is the first phase." if target is None else
                                "This is the first phase: there are no earlier actions to review.")
    tx.put("retros", _enter_phase(retro, target, at))


@handles("retro.timer")
def retro_timer(tx: Tx, args: Mapping, op: Op) -> None:
    """The phase's timer (in discuss, the current topic's): start (from zero), pause, resume, more (seconds,
    default two minutes in discuss and one elsewhere). Time's up only turns it red: nothing advances by itself."""
    retro = open_retro(tx, args)
    action = rules.choice(args, "action", TIMER_ACTIONS, what="A timer change", default="start")
    at = round_time(args, retro)
    if retro.timer_box_s <= 0:
        raise RuleViolation(f"The {retro.phase} phase has no timer.")
    running = retro.timer_since is not None
    if action == "start":
        retro = dataclasses.replace(stop_timer(retro, at), timer_spent_s=0.0, timer_since=at)
    elif action == "pause":
        if not running:
            raise RuleViolation("The timer is not running.")
        retro = stop_timer(retro, at)
    elif action == "resume":
        if running:
            raise RuleViolation("The timer is already running.")
        retro = dataclasses.replace(retro, timer_since=at, clock_at=at)
    else:
        seconds = rules.number(args, "seconds", what="Extra time (seconds)",
                               default=q.DEFAULT_MORE_S.get(retro.phase, q.MORE_S), minimum=1, maximum=1800)
        retro = dataclasses.replace(retro, timer_box_s=round(retro.timer_box_s + seconds, 3), clock_at=at)
        if retro.phase == "discuss" and retro.discussing:
            retro = with_talk(retro, retro.discussing, box_s=retro.timer_box_s)
    tx.put("retros", retro)


@handles("retro.ready")
def retro_ready(tx: Tx, args: Mapping, op: Op) -> None:
    """Tick (``ready`` true, the default) or untick ready for this phase; in vote it means "finished"."""
    retro = open_retro(tx, args)
    who = member_or_actor(tx, args, op, "Who is ready")
    ready = args.get("ready", True)
    if not isinstance(ready, bool):
        raise InvalidArgs("Ready is true or false.")
    ticked = set(retro.ready)
    if (who in ticked) == ready:
        return
    ticked = ticked | {who} if ready else ticked - {who}
    tx.put("retros", dataclasses.replace(retro, ready=tuple(sorted(ticked))))


# ----------------------------------------------------------------------------- discussion


@handles("retro.discuss")
def retro_discuss(tx: Tx, args: Mapping, op: Op) -> None:
    """Go to the next or previous topic in vote order, or ``jump`` to ``topic_id``. The clock keeps running
    (or paused) across the change; each topic keeps its own time."""
    retro = open_retro(tx, args)
    in_phase(retro, ("discuss",), "Discussing topics")
    action = rules.choice(args, "action", DISCUSS_ACTIONS, what="A topic change", default="next")
    at = round_time(args, retro)
    if args.get("expect") is not None and args["expect"] != retro.discussing:
        raise RuleViolation("The topic has already changed; look again.")
    order = q.discussion_order(retro)
    if not order:
        raise RuleViolation("There is nothing to discuss: no cards were written.")
    current = order.index(retro.discussing) if retro.discussing in order else -1
    if action == "next":
        if current + 1 >= len(order):
            raise RuleViolation("That was the last topic: move on to close.")
        target = order[current + 1]
    elif action == "back":
        if current <= 0:
            raise RuleViolation("This is the first topic.")
        target = order[current - 1]
    else:
        target = rules.ident(args, "topic_id", what="The topic")
        if target not in order:
            raise RuleViolation(f"This retro has no topic {target!r}.")
    tx.put("retros", _enter_topic(retro, target, at))


@handles("retro.note")
def retro_note(tx: Tx, args: Mapping, op: Op) -> None:
    """A topic's notes, set whole (the last writer wins)."""
    retro = open_retro(tx, args)
    in_phase(retro, q.NOTE_PHASES, "Taking notes")
    target = rules.ident(args, "topic_id", what="The topic")
    if not q.is_target(retro, target):
        raise RuleViolation(f"This retro has no topic {target!r}.")
    notes = rules.text(args, "text", what="The notes").strip()
    tx.put("retros", with_talk(retro, target, notes=notes))
