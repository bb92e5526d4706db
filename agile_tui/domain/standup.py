"""The daily standup, read side: the live round's clock, who speaks, the summary, blocker ages.

Timekeeping. A round's times are *round seconds*: seconds since the round started. The reducer never reads a
clock; each timer op carries its round time as ``at``. A client turns its own clock into round seconds with
``RoundTime``: the first time it sees a round it anchors the round's start on its monotonic clock (from the
recorded monotonic start when it is the same clock, e.g. the app was quit and reopened on the same machine;
otherwise from the wall clock), and from then on only the monotonic clock moves it, so a changed wall clock
cannot make the timer jump.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from .clock import Clock
from .model import Blocker, Item, Member, Standup, State, Update

AMBER_AT_S = 15.0  # seconds left when the clock turns amber (and the bell rings)
DEFAULT_LENGTH_MIN = 15
MIN_LENGTH_MIN, MAX_LENGTH_MIN = 5, 30
MONO_TRUST_S = 86_400.0  # a recorded monotonic start older than this is not trusted


def live_standup(state: State) -> Standup | None:
    """The round that is running, if any (the newest, should there somehow be two)."""
    live = [s for s in state.standups.values() if s.status == "live"]
    return max(live, key=lambda s: (s.date, s.started_at)) if live else None


def standups_by_date(state: State) -> list[Standup]:
    """Every standup, newest first."""
    return sorted(state.standups.values(), key=lambda s: (s.date, s.started_at), reverse=True)


def update_of(standup: Standup, member_id: str) -> Update | None:
    return next((u for u in standup.updates if u.member_id == member_id), None)


def current_speaker(standup: Standup) -> str | None:
    return standup.order[standup.current] if 0 <= standup.current < len(standup.order) else None


def speaker_share_s(standup: Standup) -> float:
    """Meeting length ÷ speakers."""
    return standup.length_min * 60.0 / max(1, len(standup.order))


def box_for_turn(standup: Standup, at: float) -> float:
    """A speaker's box: their share, capped by the time the meeting has left (never below zero)."""
    left = standup.length_min * 60.0 - at
    return max(0.0, min(speaker_share_s(standup), left))


def clock_band(remaining_s: float) -> str:
    """A ritual clock's colour: green, amber (15 s or less left: the bell) or red (time is up; nothing moves on
    by itself)."""
    if remaining_s <= 0:
        return "red"
    return "amber" if remaining_s <= AMBER_AT_S else "green"


@dataclass(frozen=True)
class TurnClock:
    member_id: str
    box_s: float
    elapsed_s: float
    paused: bool

    @property
    def remaining_s(self) -> float:
        return self.box_s - self.elapsed_s

    @property
    def band(self) -> str:
        return clock_band(self.remaining_s)


def turn_clock(standup: Standup, now: float) -> TurnClock | None:
    """The current speaker's clock at round time ``now``; None after the last speaker."""
    member_id = current_speaker(standup)
    if member_id is None:
        return None
    update = update_of(standup, member_id)
    spoken = update.airtime_s if update else 0.0
    box = update.box_s if update else 0.0
    running = standup.running_since
    if running is not None and standup.status == "live":
        spoken += max(0.0, now - running)
    return TurnClock(member_id=member_id, box_s=box, elapsed_s=spoken, paused=running is None)


def clock_text(seconds: float) -> str:
    """Time left as 3:05, counting down on the current second (2.4 s left reads 0:03); once time is up, the
    overtime counter as +0:23."""
    if seconds < 0:
        over = int(-seconds)
        return f"+{over // 60}:{over % 60:02d}"
    whole = math.ceil(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def duration_text(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


class RoundTime:
    """Turns a client's clock into a round's seconds (see the module docstring)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._anchor: dict[str, float] = {}

    def started(self) -> dict:
        """What a new round records about its start: the wall clock, and this monotonic clock."""
        return {"started_mono": self.clock.monotonic(), "clock_source": getattr(self.clock, "source", "")}

    def now(self, standup: Standup) -> float:
        anchor = self._anchor.get(standup.id)
        if anchor is None:
            anchor = self.clock.monotonic() - self._elapsed_at_first_sight(standup)
            self._anchor[standup.id] = anchor
        return max(standup.clock_at, self.clock.monotonic() - anchor)

    def _elapsed_at_first_sight(self, standup: Standup) -> float:
        mono = self.clock.monotonic()
        source = getattr(self.clock, "source", "")
        if (standup.started_mono is not None and source and standup.clock_source == source
                and 0.0 <= mono - standup.started_mono < MONO_TRUST_S):
            return mono - standup.started_mono
        try:
            started = datetime.fromisoformat(standup.started_at)
        except ValueError:
            return standup.clock_at
        return max(0.0, (self.clock.now() - started).total_seconds())


# ----------------------------------------------------------------------------- who, what, since when


def members_in_order(state: State) -> list[Member]:
    return [m for m in state.members.values() if m.active]


def last_today(state: State, member_id: str, before: str, exclude: str = "") -> str:
    """What a member said as "today" at their latest standup before a date (their next "yesterday")."""
    best: tuple[tuple[str, str], str] | None = None
    for standup in state.standups.values():
        if standup.id == exclude or standup.date > before:
            continue
        update = update_of(standup, member_id)
        key = (standup.date, standup.started_at)
        if update and update.today.strip() and (best is None or key > best[0]):
            best = (key, update.today)
    return best[1] if best else ""


def next_facilitator(state: State) -> str | None:
    """Rotation: the active member after the one who facilitated the latest standup."""
    members = [m.id for m in members_in_order(state)]
    if not members:
        return None
    history = standups_by_date(state)
    last = history[0].facilitator_id if history else ""
    if last not in members:
        return members[0]
    return members[(members.index(last) + 1) % len(members)]


def blocker_age(blocker: Blocker, today: date) -> int:
    return max(0, (today - date.fromisoformat(blocker.opened_on)).days)


def open_blockers(state: State, member_id: str | None = None) -> list[Blocker]:
    found = [b for b in state.blockers.values()
             if not b.resolved_on and (member_id is None or b.member_id == member_id)]
    return sorted(found, key=lambda b: (b.opened_on, b.id))


def open_items_of(state: State, member_id: str, sprint_id: str | None) -> list[Item]:
    items = [i for i in state.items.values()
             if i.owner == member_id and i.sprint_id == sprint_id and i.status != "done" and sprint_id is not None]
    return sorted(items, key=lambda i: i.rank)


# ----------------------------------------------------------------------------- the summary


@dataclass(frozen=True)
class Airtime:
    member_id: str
    name: str
    airtime_s: float
    box_s: float
    absent: bool
    late: bool

    @property
    def over_s(self) -> float:
        return self.airtime_s - self.box_s


@dataclass(frozen=True)
class Summary:
    standup: Standup
    facilitator: str
    speakers: list[Airtime]
    absent: list[str]
    total_s: float
    quickest: Airtime | None
    longest: Airtime | None
    opened: list[Blocker]
    resolved: list[Blocker]
    parking: list[str]
    next_facilitator: str
    silent: list[str] = ()  # present, but the round ended before their turn


def summary(state: State, standup: Standup) -> Summary:
    names = {m.id: m.name for m in state.members.values()}
    spoke = []
    absent = []
    order = {member: n for n, member in enumerate(standup.order)}
    silent = []
    for update in sorted(standup.updates, key=lambda u: order.get(u.member_id, len(order))):
        name = names.get(update.member_id, update.member_id)
        if update.absent and update.airtime_s == 0:
            absent.append(name)
            continue
        if update.airtime_s <= 0 and standup.status == "closed":  # present, but the round ended before their turn
            silent.append(name)
            continue
        spoke.append(Airtime(update.member_id, name, update.airtime_s, update.box_s, update.absent, update.late))
    if standup.ended_after_s is not None:
        total = standup.ended_after_s
    else:
        total = sum(a.airtime_s for a in spoke)
    timed = [a for a in spoke if a.airtime_s > 0]
    opened = [b for b in state.blockers.values()
              if b.standup_id == standup.id or (b.standup_id is None and b.opened_on == standup.date)]
    resolved = [b for b in state.blockers.values() if b.resolved_on == standup.date]
    following = None
    if standup.status == "closed":
        later = [s for s in standups_by_date(state) if (s.date, s.started_at) > (standup.date, standup.started_at)]
        following = later[-1].facilitator_id if later else next_facilitator(state)
    return Summary(
        standup=standup,
        facilitator=names.get(standup.facilitator_id, standup.facilitator_id),
        speakers=spoke,
        absent=absent,
        total_s=total,
        quickest=min(timed, key=lambda a: a.airtime_s) if timed else None,
        longest=max(timed, key=lambda a: a.airtime_s) if timed else None,
        opened=sorted(opened, key=lambda b: (b.opened_on, b.id)),
        resolved=sorted(resolved, key=lambda b: (b.resolved_on or "", b.id)),
        silent=silent,
        parking=list(standup.parking),
        next_facilitator=names.get(following, "") if following else "",
    )
