"""Entities of a room, as immutable values. The reducer builds new values; nothing mutates them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

SCHEMA_VERSION = 1

ESTIMATES = ("0", "1", "2", "3", "5", "8", "13", "21", "?")
ITEM_STATUSES = ("todo", "doing", "done", "blocked")
ITEM_KINDS = ("task", "deal", "milestone")
SPRINT_STATUSES = ("planned", "active", "closed")
ROLES = ("SDR", "AE", "Solutions", "Marketing", "Manager", "Member")
DIRECTIONS = ("higher", "lower")
SCOPES = ("team", "member")
SUMMARIES = ("mean", "sum", "last")
RETRO_TEMPLATES: dict[str, tuple[str, ...]] = {
    "went-well": ("Went well", "To improve", "Try next"),
    "start-stop-continue": ("Start", "Stop", "Continue"),
    "4ls": ("Liked", "Learned", "Lacked", "Longed for"),
    "sailboat": ("Wind", "Anchors", "Rocks", "Island"),
    "glad-sad-mad": ("Glad", "Sad", "Mad"),
}


class Entity:
    """Plain-data conversion shared by every entity (JSON-ready dicts, tolerant of unknown keys)."""

    nested: ClassVar[dict[str, type]] = {}

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        names = cls.__dict__.get("_field_names")
        if names is None:
            names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
            cls._field_names = names
        return names

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.field_names():
            value = getattr(self, name)
            if isinstance(value, tuple):
                value = [v.to_dict() if isinstance(v, Entity) else v for v in value]
            out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]):
        known = cls.field_names()
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                continue
            if isinstance(value, list):
                sub = cls.nested.get(key)
                value = tuple(sub.from_dict(v) if sub else v for v in value)
            kwargs[key] = value
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class Member(Entity):
    id: str
    name: str
    role: str = "Member"
    active: bool = True


@dataclass(frozen=True, slots=True)
class Sprint(Entity):
    id: str
    name: str
    start: str  # ISO date
    days: int
    goal: str = ""
    status: str = "planned"
    capacity: int = 0
    velocity: int | None = None
    started_on: str | None = None
    closed_on: str | None = None
    focus_metrics: tuple[str, ...] = ()  # up to three metric ids, shown first on the metrics board


@dataclass(frozen=True, slots=True)
class Item(Entity):
    id: str
    title: str
    rank: str
    owner: str = ""  # member id, "" when nobody owns it yet
    estimate: str = ""  # one of ESTIMATES, "" when not estimated
    status: str = "todo"
    kind: str = "task"
    sprint_id: str | None = None  # None: the backlog
    note: str = ""  # why it is blocked
    value: float | None = None  # deal value
    created_on: str = ""
    done_on: str | None = None

    @property
    def points(self) -> int:
        return int(self.estimate) if self.estimate.isdigit() else 0


@dataclass(frozen=True, slots=True)
class Blocker(Entity):
    id: str
    member_id: str
    text: str
    opened_on: str
    item_id: str | None = None
    helper_id: str | None = None
    resolved_on: str | None = None
    standup_id: str | None = None  # the standup it was raised in, if any


@dataclass(frozen=True, slots=True)
class Update(Entity):
    member_id: str
    yesterday: str = ""
    today: str = ""
    blockers: str = ""
    airtime_s: float = 0.0
    box_s: float = 0.0
    absent: bool = False
    late: bool = False  # joined after the round started


@dataclass(frozen=True, slots=True)
class Standup(Entity):
    nested: ClassVar[dict[str, type]] = {"updates": Update}
    id: str
    date: str
    sprint_id: str | None
    facilitator_id: str = ""
    length_min: int = 15
    updates: tuple[Update, ...] = ()
    parking: tuple[str, ...] = ()
    # The live round. Times are "round seconds": seconds since the round started, on the clock of whoever
    # runs it (see domain/standup.py RoundTime); ops carry them as `at`, so the reducer never reads a clock.
    status: str = "closed"  # "live" while the round runs
    order: tuple[str, ...] = ()  # speaking order (member ids); absent members are not in it
    current: int = 0  # index into order; len(order) means after the last speaker
    running_since: float | None = None  # round seconds when the current turn last (re)started; None: paused
    clock_at: float = 0.0  # the latest round time seen
    started_at: str = ""  # wall clock (ISO) when the round started
    started_mono: float | None = None  # the starting client's monotonic clock then
    clock_source: str = ""  # which monotonic clock that was (a boot id)
    ended_after_s: float | None = None  # the meeting's total length, once ended
    shuffled: bool = False


@dataclass(frozen=True, slots=True)
class MetricDef(Entity):
    id: str
    name: str
    unit: str = ""
    target: float = 0.0
    direction: str = "higher"
    scope: str = "team"
    summary: str = "mean"


@dataclass(frozen=True, slots=True)
class Sample(Entity):
    id: str
    metric_id: str
    date: str
    value: float
    member_id: str | None = None


@dataclass(frozen=True, slots=True)
class Card(Entity):
    id: str
    column: str
    text: str
    author: str = ""  # who wrote it (a member id, or the actor's id); kept from others when the retro is anonymous


@dataclass(frozen=True, slots=True)
class Action(Entity):
    id: str
    title: str
    owner: str = ""
    due: str | None = None
    item_id: str | None = None  # the item it became when the retro closed
    topic_id: str | None = None  # the topic it came out of, if any


@dataclass(frozen=True, slots=True)
class Topic(Entity):
    """Cards merged in the group phase. A card is in at most one topic; a card in none is a topic of its own
    (its id is the vote target), so topic ids and card ids never collide within a retro."""

    id: str
    title: str
    card_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Vote(Entity):
    """A member's votes on one topic (or ungrouped card): set, never incremented; never zero."""

    member_id: str
    topic_id: str
    count: int


@dataclass(frozen=True, slots=True)
class Talk(Entity):
    """The discussion of one topic (or ungrouped card): its notes and its timer (see domain/retro.py)."""

    topic_id: str
    notes: str = ""
    spent_s: float = 0.0  # time discussed before the current stretch
    box_s: float = 0.0  # its time box: the discuss minutes, plus each extension


@dataclass(frozen=True, slots=True)
class ReviewEntry(Entity):
    """An action of an earlier retro, reviewed at this one: marked done or carried ("" until marked)."""

    retro_id: str
    action_id: str
    title: str
    owner: str = ""
    due: str | None = None
    item_id: str | None = None
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class Retro(Entity):
    nested: ClassVar[dict[str, type]] = {"cards": Card, "actions": Action, "topics": Topic, "votes": Vote,
                                         "talks": Talk, "review": ReviewEntry}
    id: str
    sprint_id: str
    template: str = "went-well"
    columns: tuple[str, ...] = RETRO_TEMPLATES["went-well"]
    status: str = "open"
    anonymous: bool = True
    cards: tuple[Card, ...] = ()
    actions: tuple[Action, ...] = ()
    closed_on: str | None = None
    # Settings (domain/retro.py has the limits).
    votes_per_person: int = 5
    max_votes_per_topic: int = 3
    reflect_min: int = 5
    group_min: int = 5
    vote_min: int = 3
    discuss_min: int = 5  # per topic
    participants: tuple[str, ...] = ()  # who is expected to tick ready; empty: the team's active members
    # The flow. A retro from before phases existed opens in reflect, where it was.
    phase: str = "reflect"
    ready: tuple[str, ...] = ()  # who ticked ready (finished) in this phase; cleared when the phase changes
    topics: tuple[Topic, ...] = ()
    votes: tuple[Vote, ...] = ()  # sorted by (member_id, topic_id)
    revealed: bool = False
    talks: tuple[Talk, ...] = ()
    discussing: str = ""  # the topic (or card) under discussion
    review: tuple[ReviewEntry, ...] = ()
    # Time, in round seconds since the retro was created, as for a standup (domain/standup.py RoundTime): ops
    # carry it as `at`. One timer: the phase's, or in discuss the current topic's. It runs only once started.
    phase_started_at: float = 0.0
    timer_box_s: float = 0.0  # 0: this phase has no timer
    timer_spent_s: float = 0.0  # run before timer_since
    timer_since: float | None = None  # when it last (re)started; None: not started, or paused
    clock_at: float = 0.0  # the latest round time seen
    started_at: str = ""  # wall clock (ISO) when the retro was created
    started_mono: float | None = None
    clock_source: str = ""


COLLECTIONS: dict[str, type] = {
    "members": Member,
    "sprints": Sprint,
    "items": Item,
    "blockers": Blocker,
    "standups": Standup,
    "metrics": MetricDef,
    "samples": Sample,
    "retros": Retro,
}


@dataclass(frozen=True, slots=True)
class Room(Entity):
    name: str = "room"
    team: str = "Team"


@dataclass(frozen=True)
class State:
    """The whole room. Collections map id -> entity; they are replaced, never mutated."""

    room: Room = field(default_factory=Room)
    members: Mapping[str, Member] = field(default_factory=dict)
    sprints: Mapping[str, Sprint] = field(default_factory=dict)
    items: Mapping[str, Item] = field(default_factory=dict)
    blockers: Mapping[str, Blocker] = field(default_factory=dict)
    standups: Mapping[str, Standup] = field(default_factory=dict)
    metrics: Mapping[str, MetricDef] = field(default_factory=dict)
    samples: Mapping[str, Sample] = field(default_factory=dict)
    retros: Mapping[str, Retro] = field(default_factory=dict)
    # Per actor: the inverse of each of their undoable ops (newest last), and what undo took back.
    undo: Mapping[str, tuple[dict, ...]] = field(default_factory=dict)
    redo: Mapping[str, tuple[dict, ...]] = field(default_factory=dict)

    def content(self) -> dict[str, Any]:
        """Everything but the undo history, as plain data (what a user sees as "the room")."""
        data = self.to_dict()
        data.pop("undo")
        data.pop("redo")
        return data

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": SCHEMA_VERSION, "room": self.room.to_dict()}
        for name in COLLECTIONS:
            out[name] = {key: value.to_dict() for key, value in getattr(self, name).items()}
        out["undo"] = {actor: list(stack) for actor, stack in self.undo.items()}
        out["redo"] = {actor: list(stack) for actor, stack in self.redo.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> State:
        kwargs: dict[str, Any] = {"room": Room.from_dict(data.get("room", {}))}
        for name, kind in COLLECTIONS.items():
            kwargs[name] = {key: kind.from_dict(value) for key, value in data.get(name, {}).items()}
        kwargs["undo"] = {a: tuple(s) for a, s in data.get("undo", {}).items()}
        kwargs["redo"] = {a: tuple(s) for a, s in data.get("redo", {}).items()}
        return cls(**kwargs)
