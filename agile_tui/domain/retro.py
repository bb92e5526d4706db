"""The retrospective, read side: phases, topics and their votes, readiness, the discussion order, the review of
earlier actions, and the clock.

Topics. Cards merged in the group phase form a ``Topic``; a card in no topic is a topic of its own, whose id is
the card's id. Those are the *targets*: what people vote on, discuss and take notes on. Topic ids and card ids
never collide within a retro, so one id names one target. ``targets()`` lists them in board order (topics in the
order they were made, then ungrouped cards in the order they were written); that order also breaks ties in the
discussion order.

Votes are set, never incremented: each ``Vote`` is one member's count on one target. A member's total stays
within ``votes_per_person`` and each count within ``max_votes_per_topic`` (the reducer refuses anything else).

Time. As for a standup (see standup.py), times are *round seconds*, here since the retro was created; ops carry
them as ``at`` and a client reads them with ``standup.RoundTime`` (a Retro has the fields it needs:
``id, clock_at, started_at, started_mono, clock_source``; use one RoundTime per ritual, it keys by id).
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Card, Retro, ReviewEntry, Sprint, State, Talk, Topic
from .standup import clock_band

PHASES = ("review", "reflect", "group", "vote", "discuss", "close")
# The setting that holds each timed phase's minutes (in discuss: per topic).
MINUTES = {"reflect": "reflect_min", "group": "group_min", "vote": "vote_min", "discuss": "discuss_min"}
READY_PHASES = ("reflect", "group", "vote")  # advancing out of these asks who is not ready yet
CARD_PHASES = ("reflect", "group")  # cards are written, edited and deleted here
PRIVATE_PHASES = ("review", "reflect")  # nobody sees another's cards before the group phase
NOTE_PHASES = ("discuss", "close")
OUTCOMES = ("done", "carried")
MIN_VOTES, MAX_VOTES = 1, 12
MIN_MINUTES, MAX_MINUTES = 1, 30
DEFAULT_MORE_S = {"discuss": 120.0}  # the + key: two more minutes on a topic; one elsewhere
MORE_S = 60.0
MAX_CARD = 500
MAX_TOPIC_TITLE = 120


# ----------------------------------------------------------------------------- finding a retro


def retros_of(state: State, sprint_id: str) -> list[Retro]:
    return sorted((r for r in state.retros.values() if r.sprint_id == sprint_id), key=lambda r: (r.status, r.id))


def _sprint_key(state: State, retro: Retro) -> tuple:
    sprint = state.sprints.get(retro.sprint_id)
    return (sprint.start if sprint else "", retro.closed_on or "9999-12-31", retro.started_at, retro.id)


def current_retro(state: State) -> Retro | None:
    """The retro to show: the open one (the latest sprint's, should there be several), else the latest closed."""
    retros = sorted(state.retros.values(), key=lambda r: _sprint_key(state, r))
    open_ = [r for r in retros if r.status == "open"]
    if open_:
        return open_[-1]
    return retros[-1] if retros else None


def find_retro(state: State, sprint: str | None = None) -> Retro | None:
    """For exports: the retro of ``sprint`` (a sprint id or name; the open one, else the latest), or without
    ``sprint`` the current one. None if there is none."""
    if sprint is None:
        return current_retro(state)
    found = state.sprints.get(sprint) or next(
        (s for s in state.sprints.values() if s.name.casefold() == sprint.casefold()), None)
    if found is None:
        return None
    retros = sorted(retros_of(state, found.id), key=lambda r: _sprint_key(state, r))
    open_ = [r for r in retros if r.status == "open"]
    return (open_ or retros or [None])[-1]


def previous_retro(state: State, sprint: Sprint, exclude: str = "") -> Retro | None:
    """The latest closed retro of a sprint that started no later than ``sprint``."""
    closed = [r for r in state.retros.values() if r.status == "closed" and r.id != exclude
              and (s := state.sprints.get(r.sprint_id)) is not None and s.start <= sprint.start]
    return max(closed, key=lambda r: _sprint_key(state, r)) if closed else None


def review_for(state: State, sprint: Sprint, exclude: str = "") -> tuple[ReviewEntry, ...]:
    """What a new retro of ``sprint`` reviews: the previous retro's actions, and the earlier actions it reviewed
    and did not mark done (and whose item is not done): those carry on until they are."""
    previous = previous_retro(state, sprint, exclude)
    if previous is None:
        return ()
    entries = [ReviewEntry(retro_id=previous.id, action_id=a.id, title=a.title, owner=a.owner, due=a.due,
                           item_id=a.item_id) for a in previous.actions]
    for entry in previous.review:
        item = state.items.get(entry.item_id) if entry.item_id else None
        if entry.outcome != "done" and (item is None or item.status != "done"):
            entries.append(ReviewEntry(retro_id=entry.retro_id, action_id=entry.action_id, title=entry.title,
                                       owner=entry.owner, due=entry.due, item_id=entry.item_id))
    return tuple(entries)


def review_entry(retro: Retro, action_id: str, from_retro: str | None = None) -> list[ReviewEntry]:
    return [e for e in retro.review if e.action_id == action_id and from_retro in (None, e.retro_id)]


# ----------------------------------------------------------------------------- topics


@dataclass(frozen=True)
class _Board:
    """One retro's topics and cards, indexed: derived once per Retro object (they are immutable), so that drawing
    a board of 40 topics and 200 cards does not scan them again for each line."""

    retro: Retro
    grouped: dict[str, str]  # card id -> its topic (the last topic that lists it)
    targets: tuple[str, ...]
    topics: dict[str, Topic]  # id -> the first topic with that id
    cards: dict[str, Card]  # id -> the first card with that id (card())
    last_cards: dict[str, Card]  # id -> the last card with that id (target_cards(); ids are unique all the same)


_board_memo: _Board | None = None  # the latest retro asked about (replaced whole: safe across threads)


def _board(retro: Retro) -> _Board:
    global _board_memo
    memo = _board_memo
    if memo is not None and memo.retro is retro:
        return memo
    grouped = {card_id: topic.id for topic in retro.topics for card_id in topic.card_ids}
    topics: dict[str, Topic] = {}
    for found in retro.topics:
        topics.setdefault(found.id, found)
    cards: dict[str, Card] = {}
    for found in retro.cards:
        cards.setdefault(found.id, found)
    targets = (*(t.id for t in retro.topics), *(c.id for c in retro.cards if c.id not in grouped))
    memo = _board_memo = _Board(retro=retro, grouped=grouped, targets=targets, topics=topics, cards=cards,
                                last_cards={c.id: c for c in retro.cards})
    return memo


def topic_of_card(retro: Retro) -> dict[str, str]:
    """card id -> the topic it is in (cards in no topic are left out)."""
    return dict(_board(retro).grouped)


def targets(retro: Retro) -> list[str]:
    """What people vote on and discuss, in board order: the topics, then the ungrouped cards."""
    return list(_board(retro).targets)


def target_of(retro: Retro, card_id: str) -> str:
    """The target a card counts in: its topic, or itself."""
    return _board(retro).grouped.get(card_id, card_id)


def topic(retro: Retro, topic_id: str) -> Topic | None:
    return _board(retro).topics.get(topic_id) if isinstance(topic_id, str) else None


def card(retro: Retro, card_id: str) -> Card | None:
    return _board(retro).cards.get(card_id) if isinstance(card_id, str) else None


def is_target(retro: Retro, target_id: str) -> bool:
    return topic(retro, target_id) is not None or (
        card(retro, target_id) is not None and target_id not in _board(retro).grouped)


def target_cards(retro: Retro, target_id: str) -> list[Card]:
    found = topic(retro, target_id)
    if found is not None:
        by_id = _board(retro).last_cards
        return [by_id[i] for i in found.card_ids if i in by_id]
    single = card(retro, target_id)
    return [single] if single is not None else []


def target_title(retro: Retro, target_id: str) -> str:
    found = topic(retro, target_id)
    if found is not None:
        return found.title
    single = card(retro, target_id)
    return single.text if single is not None else target_id


def short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ----------------------------------------------------------------------------- votes


def votes_of(retro: Retro, member_id: str) -> dict[str, int]:
    """A member's votes: target -> count."""
    return {v.topic_id: v.count for v in retro.votes if v.member_id == member_id}


def votes_used(retro: Retro, member_id: str) -> int:
    return sum(v.count for v in retro.votes if v.member_id == member_id)


def votes_left(retro: Retro, member_id: str) -> int:
    return retro.votes_per_person - votes_used(retro, member_id)


def totals(retro: Retro) -> dict[str, int]:
    """Every target's total votes (0 for targets without votes), in board order."""
    out = dict.fromkeys(targets(retro), 0)
    for vote in retro.votes:
        if vote.topic_id in out:
            out[vote.topic_id] += vote.count
    return out


def voters(retro: Retro) -> list[str]:
    return sorted({v.member_id for v in retro.votes})


def votes_cast(retro: Retro) -> int:
    return sum(v.count for v in retro.votes)


def discussion_order(retro: Retro) -> list[str]:
    """Targets by total votes, most first; ties keep board order (``targets()``)."""
    counted = totals(retro)
    board = list(counted)
    return sorted(board, key=lambda t: (-counted[t], board.index(t)))


def in_use(retro: Retro, target_id: str) -> str | None:
    """Why a target cannot be regrouped or deleted (it has votes, a discussion or an action item), or None."""
    count = sum(v.count for v in retro.votes if v.topic_id == target_id)
    if count:
        return f"{short(target_title(retro, target_id), 40)!r} has {count} vote{'s' * (count != 1)}"
    if any(t.topic_id == target_id for t in retro.talks):
        return f"{short(target_title(retro, target_id), 40)!r} has been discussed"
    if any(a.topic_id == target_id for a in retro.actions):
        return f"{short(target_title(retro, target_id), 40)!r} has an action item"
    return None


# ----------------------------------------------------------------------------- people


def name_of(state: State, member_id: str) -> str:
    member = state.members.get(member_id)
    return member.name if member is not None else member_id


def expected(state: State, retro: Retro) -> tuple[str, ...]:
    """Who should tick ready: the retro's participants, else the team's active members."""
    if retro.participants:
        return retro.participants
    return tuple(m.id for m in state.members.values() if m.active)


def not_ready(state: State, retro: Retro) -> list[str]:
    """Who has not ticked ready (finished) in this phase; empty in phases that do not ask."""
    if retro.phase not in READY_PHASES:
        return []
    ticked = set(retro.ready)
    return [m for m in expected(state, retro) if m not in ticked]


# ----------------------------------------------------------------------------- phases and the clock


def phase_after(phase: str) -> str | None:
    n = PHASES.index(phase)
    return PHASES[n + 1] if n + 1 < len(PHASES) else None


def phase_before(phase: str) -> str | None:
    n = PHASES.index(phase)
    return PHASES[n - 1] if n > 0 else None


def phase_box_s(retro: Retro, phase: str) -> float:
    key = MINUTES.get(phase)
    return float(getattr(retro, key) * 60) if key else 0.0


def talk_of(retro: Retro, target_id: str) -> Talk | None:
    return next((t for t in retro.talks if t.topic_id == target_id), None)


@dataclass(frozen=True)
class RetroClock:
    phase: str
    topic_id: str  # in discuss, the topic it times; "" otherwise
    box_s: float
    elapsed_s: float
    running: bool

    @property
    def started(self) -> bool:
        return self.running or self.elapsed_s > 0

    @property
    def paused(self) -> bool:
        return not self.running and self.elapsed_s > 0

    @property
    def remaining_s(self) -> float:
        return self.box_s - self.elapsed_s

    @property
    def band(self) -> str:
        return clock_band(self.remaining_s)


def spent_s(retro: Retro, now: float) -> float:
    running = 0.0 if retro.timer_since is None else max(0.0, now - retro.timer_since)
    return retro.timer_spent_s + running


def retro_clock(retro: Retro, now: float) -> RetroClock | None:
    """The phase's (or the current topic's) timer at round time ``now``; None when the phase has no timer."""
    if retro.status == "closed" or retro.timer_box_s <= 0:
        return None
    topic_id = retro.discussing if retro.phase == "discuss" else ""
    return RetroClock(phase=retro.phase, topic_id=topic_id, box_s=retro.timer_box_s,
                      elapsed_s=spent_s(retro, now), running=retro.timer_since is not None)


def talk_time_s(retro: Retro, target_id: str, now: float) -> float:
    """How long a topic has been discussed, including the stretch running now."""
    if retro.phase == "discuss" and retro.discussing == target_id and retro.status == "open":
        return spent_s(retro, now)
    talk = talk_of(retro, target_id)
    return talk.spent_s if talk else 0.0
