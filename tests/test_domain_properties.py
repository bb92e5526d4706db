"""Property tests of the one reducer (Hypothesis, stateful).

A machine applies random ops of every type, with random args (sometimes valid, sometimes not), ids drawn from
small pools so they collide (and half the time pointed at entities that exist), by three actors who also undo
and redo. Most runs use only a few op types ("swarm testing"), so those ops meet each other often. Each step:

(a) the room is valid (``check_invariants``) and a refused op left the state exactly as it was;
(b) at the end of a run, replaying the accepted ops from the empty state gives the same state, also after a JSON round
    trip of each op;
(c) every accepted undoable op, undone at once by its actor, gives back exactly the earlier ``content()``, and
    redone gives back the later one.
"""

from __future__ import annotations

import json
from datetime import date

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from agile_tui.domain import FakeClock, Op, OpRejected, State, apply
from agile_tui.domain import rank as ranks
from agile_tui.domain import retro as retro_q
from agile_tui.domain.model import (
    COLLECTIONS,
    ESTIMATES,
    ITEM_KINDS,
    ITEM_STATUSES,
    RETRO_TEMPLATES,
    ROLES,
    SPRINT_STATUSES,
)
from agile_tui.domain.reducer import NOT_UNDOABLE, UNDO_DEPTH
from agile_tui.domain.rules import MAX_SPRINT_DAYS, MIN_SPRINT_DAYS, goal_problem

# ----------------------------------------------------------------------------- the invariants


def check_invariants(state: State) -> None:
    """Everything that must hold of any room the reducer can produce."""
    members, sprints, items = state.members, state.sprints, state.items

    def member_ref(value, what: str, allow_empty: bool = True) -> None:
        ok = (allow_empty and value in ("", None)) or value in members
        assert ok, f"{what} refers to missing member {value!r}"

    for name in ("members", "sprints", "items", "blockers", "standups", "metrics", "samples", "retros"):
        for key, entity in getattr(state, name).items():
            assert entity.id == key, f"{name}[{key!r}] holds id {entity.id!r}"

    for m in members.values():
        assert isinstance(m.name, str) and m.name.strip() and len(m.name) <= 60
        assert isinstance(m.role, str) and m.role.strip()
    names = sorted(m.name for m in members.values() if m.active)
    assert len(names) == len(set(names)), f"two active members share a name: {names}"
    metric_names = sorted(k.name for k in state.metrics.values())
    assert len(metric_names) == len(set(metric_names)), f"two metrics share a name: {metric_names}"

    for s in sprints.values():
        assert s.status in SPRINT_STATUSES
        assert isinstance(s.days, int) and MIN_SPRINT_DAYS <= s.days <= MAX_SPRINT_DAYS, s
        date.fromisoformat(s.start)
        assert s.name.strip()
        assert s.goal == "" or goal_problem(s.goal) is None, f"sprint {s.id} has an invalid goal {s.goal!r}"
        if s.status == "active":
            assert goal_problem(s.goal) is None, f"active sprint {s.id} without a valid goal"
            assert s.started_on
        if s.status == "closed":
            assert isinstance(s.velocity, int) and s.velocity >= 0 and s.closed_on
        else:
            assert s.velocity is None and s.closed_on is None
    active = [s.id for s in sprints.values() if s.status == "active"]
    assert len(active) <= 1, f"more than one active sprint: {active}"

    for i in items.values():
        member_ref(i.owner, f"item {i.id}'s owner")
        assert i.sprint_id is None or i.sprint_id in sprints, f"item {i.id} is in missing sprint {i.sprint_id!r}"
        assert i.estimate in ("", *ESTIMATES), i
        assert i.status in ITEM_STATUSES and i.kind in ITEM_KINDS, i
        if i.status == "blocked":
            assert i.note.strip(), f"blocked item {i.id} without a note"
        else:
            assert i.note == "", f"item {i.id} is {i.status} but keeps a blocked note"
        assert (i.status == "done") == (i.done_on is not None), i
        assert ranks.is_rank(i.rank), f"item {i.id} has invalid rank {i.rank!r}"
        assert isinstance(i.title, str) and i.title.strip()
        assert i.value is None or i.value >= 0

    for b in state.blockers.values():
        member_ref(b.member_id, f"blocker {b.id}")  # "": an unowned item's blocker
        member_ref(b.helper_id, f"blocker {b.id}'s helper")
        assert b.item_id is None or b.item_id in items, f"blocker {b.id} refers to missing item {b.item_id!r}"
    for u in state.standups.values():
        assert u.sprint_id is None or u.sprint_id in sprints, f"standup {u.id} of missing sprint {u.sprint_id!r}"
        member_ref(u.facilitator_id, f"standup {u.id}'s facilitator")
        for update in u.updates:
            member_ref(update.member_id, f"standup {u.id}'s speaker", allow_empty=False)
        assert 5 <= u.length_min <= 30
        assert u.status in ("live", "closed")
        assert len(set(u.order)) == len(u.order) and all(m in members for m in u.order), u.order
        assert 0 <= u.current <= len(u.order), (u.current, u.order)
        assert u.running_since is None or 0 <= u.running_since <= u.clock_at
        assert all(x.airtime_s >= 0 and x.box_s >= 0 for x in u.updates)
        if u.status == "closed":
            assert u.running_since is None
    assert sum(1 for u in state.standups.values() if u.status == "live") <= 1, "two standups running"
    for x in state.samples.values():
        assert x.metric_id in state.metrics, f"sample {x.id} of missing metric {x.metric_id!r}"
        member_ref(x.member_id, f"sample {x.id}")
    for s in sprints.values():
        assert len(s.focus_metrics) <= 3 and len(set(s.focus_metrics)) == len(s.focus_metrics), s
        assert all(k in state.metrics for k in s.focus_metrics), f"sprint {s.id} focuses on a missing metric"
    for r in state.retros.values():
        assert r.sprint_id in sprints, f"retro {r.id} of missing sprint {r.sprint_id!r}"
        assert r.status in ("open", "closed")
        assert all(c.column in r.columns for c in r.cards)
        for a in r.actions:
            member_ref(a.owner, f"retro {r.id}'s action owner")
            if r.status == "closed":
                assert a.item_id is not None
        check_retro(r, members)

    for actor, stack in state.undo.items():
        assert len(stack) <= UNDO_DEPTH, actor



def check_retro(r, members) -> None:
    """A retro's board, votes, discussion and clock hang together."""
    assert r.phase in retro_q.PHASES and (r.status == "open" or r.phase == "close"), (r.status, r.phase)
    card_ids = [c.id for c in r.cards]
    topic_ids = [t.id for t in r.topics]
    assert len(set(card_ids)) == len(card_ids) and len(set(topic_ids)) == len(topic_ids)
    assert not set(card_ids) & set(topic_ids), "a topic and a card share an id"
    grouped = [c for t in r.topics for c in t.card_ids]
    assert len(grouped) == len(set(grouped)), f"a card is in two topics: {grouped}"
    assert set(grouped) <= set(card_ids), "a topic refers to a missing card"
    assert all(t.card_ids and t.title.strip() for t in r.topics), "an empty or nameless topic"
    targets = set(retro_q.targets(r))
    assert 1 <= r.max_votes_per_topic <= r.votes_per_person <= 12, (r.max_votes_per_topic, r.votes_per_person)
    keys = [(v.member_id, v.topic_id) for v in r.votes]
    assert keys == sorted(set(keys)), "votes are not one per member and topic, in order"
    for v in r.votes:
        assert isinstance(v.count, int) and 1 <= v.count <= r.max_votes_per_topic, v
        assert v.topic_id in targets, f"a vote on missing topic {v.topic_id!r}"
    for member_id in {v.member_id for v in r.votes}:
        assert retro_q.votes_used(r, member_id) <= r.votes_per_person, f"{member_id} is over budget"
    talked = [t.topic_id for t in r.talks]
    assert len(talked) == len(set(talked)) and set(talked) <= targets, "a discussion of a missing topic"
    assert r.discussing == "" or r.discussing in targets
    assert all(a.topic_id is None or a.topic_id in targets for a in r.actions)
    assert all(m in members for m in r.participants), "a participant who is not a member"
    assert list(r.ready) == sorted(set(r.ready))
    assert all(e.outcome in ("", *retro_q.OUTCOMES) for e in r.review)
    assert r.timer_box_s >= 0 and r.timer_spent_s >= 0
    assert r.timer_since is None or 0 <= r.timer_since <= r.clock_at, (r.timer_since, r.clock_at)
    if r.status == "closed":
        assert r.timer_since is None


def check_round_trip(state: State) -> None:
    data = state.to_dict()
    assert State.from_dict(data) == state, "State.from_dict(state.to_dict()) does not round-trip"
    assert State.from_dict(json.loads(json.dumps(data))) == state, "the state does not survive JSON"


FIELDS = ("room", *COLLECTIONS, "undo", "redo")


def shallow(state: State) -> dict:
    """A cheap snapshot: entities are frozen, so holding on to each collection's entries is enough to see
    later whether anything was replaced, added or removed in place."""
    return {name: (dict(getattr(state, name)) if name != "room" else state.room) for name in FIELDS}


def same_snapshot(a: dict, b: dict) -> bool:
    if a["room"] is not b["room"]:
        return False
    for name in FIELDS[1:]:
        x, y = a[name], b[name]
        if x.keys() != y.keys() or any(x[k] is not y[k] for k in x):
            return False
    return True


def same_content(a: State, b: State) -> bool:
    """``a.content() == b.content()``, compared on the values (to_dict is the slow way to say the same)."""
    return a.room == b.room and all(dict(getattr(a, c)) == dict(getattr(b, c)) for c in COLLECTIONS)


# ----------------------------------------------------------------------------- random ops

ACTORS = ("ann", "bob", "cy")
MEMBERS = ("m1", "m2", "m3")
SPRINTS = ("s1", "s2", "s3", "s1-next")
ITEMS = ("i1", "i2", "i3", "i4", "r1-a1")
BLOCKERS = ("b1", "b2")
STANDUPS = ("u1", "u2")
METRICS = ("k1", "k2")
SAMPLES = ("x1", "x2", "x3")
RETROS = ("r1", "r2")
ACTIONS = ("a1", "a2")
CARDS = ("c1", "c2", "c3")
TOPICS = ("t1", "t2")
TARGETS = (*CARDS, *TOPICS)
BAD_IDS = ("", None, 7, "ghost", "x" * 65)
COLUMNS = sorted({c for cols in RETRO_TEMPLATES.values() for c in cols}) + ["Nope"]


def mostly(valid: st.SearchStrategy, *invalid) -> st.SearchStrategy:
    """A valid value nine times out of ten, else one of ``invalid`` (shrinks towards valid values)."""
    if not invalid:
        return valid
    return st.one_of(*[valid] * 9, st.sampled_from(invalid))


def ident(pool) -> st.SearchStrategy:
    return mostly(st.sampled_from(pool), *BAD_IDS)


def opt_ident(pool) -> st.SearchStrategy:
    return st.one_of(st.none(), ident(pool))


texts = mostly(st.sampled_from(["Call Acme", "签下三单", "  padded  ", "[bold]markup[/]", "Demo 🚀"]),
               "", "   ", None, 5, "t" * 201)
names = mostly(st.sampled_from(["Ann", "Bob", "Cy", "Dee"]), "", None, "n" * 61)
goals = st.sampled_from(["Close ten deals.", "本周签下三单。", "Win 🚀", "g" * 140, "", "Two. Sentences.",
                         "Line\nbreak", "签下。然后", "g" * 141, None, 5])
dates = mostly(st.sampled_from(["2026-11-16", "2026-11-30", "2026-12-14", "2027-01-04"]),
               "2026-02-30", "soon", None, 20261116)
days = mostly(st.sampled_from([5, 7, 14, 21]), 4, 22, 0, "14", 14.0, True, None)
numbers = mostly(st.sampled_from([0, 1, 6, 70, 72.5, 100]), 120, 1e13, -1, "3", None, True, float("nan"))
estimates = st.sampled_from([*ESTIMATES, "", None, 5, "4", "34", "pass"])
statuses = mostly(st.sampled_from(ITEM_STATUSES), "open", None)
notes = mostly(st.sampled_from(["Legal", "Waiting for 法务", ""]), "  ", None, 3)
rank_values = mostly(st.text(alphabet=ranks.DIGITS, min_size=1, max_size=6).filter(ranks.is_rank),
                     "", "A0", "a b", 5)


round_times = mostly(st.sampled_from([0, 0.5, 30, 90, 400, 1200]), -1, None, "30", float("inf"))
vote_limits = mostly(st.integers(1, 12), 0, 13, "5", 2.5, True)
vote_counts = mostly(st.integers(0, 4), -1, 13, "1", 1.5, None)
retro_settings_fields = {
    "votes_per_person": vote_limits, "max_votes_per_topic": vote_limits,
    "reflect_min": mostly(st.sampled_from([1, 5, 30]), 0, 31), "discuss_min": mostly(st.sampled_from([1, 5]), "5"),
    "participants": mostly(st.lists(ident(MEMBERS), max_size=3), "m1", None),
}
retro_settings = {**retro_settings_fields, "anonymous": mostly(st.booleans(), "yes", None)}


def args(required: dict, optional: dict | None = None) -> st.SearchStrategy:
    return st.fixed_dictionaries(required, optional=optional or {})


item_fields = {
    "title": texts, "owner": opt_ident(MEMBERS), "estimate": estimates, "kind": mostly(st.sampled_from(ITEM_KINDS),
    "lead"), "value": numbers, "sprint_id": opt_ident(SPRINTS), "rank": rank_values, "status": statuses,
    "note": notes,
}
next_specs = st.one_of(
    st.sampled_from(SPRINTS), st.sampled_from(BAD_IDS),
    args({}, {"id": ident(SPRINTS), "name": names, "days": days, "goal": goals}),
)
updates = st.lists(args({"member_id": ident(MEMBERS)}, {"today": texts, "airtime_s": numbers, "absent":
                                                        st.booleans()}), max_size=3)

OP_ARGS: dict[str, st.SearchStrategy] = {
    "room.setup": args({}, {"name": names, "team": names}),
    "member.add": args({"id": ident(MEMBERS), "name": names},
                       {"role": mostly(st.sampled_from(ROLES), "", None, 5, "r" * 61)}),
    "member.update": args({"id": ident(MEMBERS)}, {"name": names, "role": st.sampled_from(ROLES),
                                                   "active": st.booleans()}),
    "sprint.create": args({"id": ident(SPRINTS), "name": names},
                          {"start": dates, "days": days, "goal": goals, "capacity": numbers}),
    "sprint.update": args({"id": ident(SPRINTS)},
                          {"name": names, "start": dates, "days": days, "goal": goals, "capacity": numbers}),
    "sprint.start": args({"id": ident(SPRINTS)}),
    "sprint.close": args({"id": ident(SPRINTS)},
                         {"carry": st.one_of(st.dictionaries(st.sampled_from(ITEMS),
                                                             st.sampled_from(["next", "backlog", "bin"])),
                                             st.sampled_from(["next", [], None])),
                          "next": next_specs}),
    "item.add": args({"id": ident(ITEMS)}, item_fields),
    "item.update": args({"id": ident(ITEMS)}, item_fields),
    "item.delete": args({"id": ident(ITEMS)}),
    "blocker.open": args({"id": ident(BLOCKERS), "member_id": opt_ident(MEMBERS), "text": texts},
                         {"item_id": opt_ident(ITEMS), "helper_id": opt_ident(MEMBERS), "opened_on": dates,
                          "block_item": st.booleans(), "standup_id": opt_ident(STANDUPS)}),
    "blocker.update": args({"id": ident(BLOCKERS)},
                           {"text": texts, "item_id": opt_ident(ITEMS), "helper_id": opt_ident(MEMBERS)}),
    "blocker.resolve": args({"id": ident(BLOCKERS)}),
    "standup.record": args({"id": ident(STANDUPS)},
                           {"date": dates, "sprint_id": opt_ident(SPRINTS), "facilitator_id": opt_ident(MEMBERS),
                            "length_min": mostly(st.sampled_from([5, 15, 30]), 4, 31, "15"),
                            "updates": mostly(updates, "m1", [5]),
                            "parking": mostly(st.lists(st.sampled_from(["Pricing", "Hiring"]), max_size=2), [1])}),
    "standup.start": args({"id": ident(STANDUPS)},
                          {"order": mostly(st.lists(ident(MEMBERS), max_size=3), [], "m1", [5]),
                           "length_min": mostly(st.sampled_from([5, 15, 30]), 4, 31), "date": dates,
                           "facilitator_id": opt_ident(MEMBERS), "started_mono": numbers,
                           "shuffled": st.booleans()}),
    "standup.turn": args({"id": ident(STANDUPS)},
                         {"action": mostly(st.sampled_from(["next", "back", "skip", "join"]), "jump"),
                          "at": round_times, "expect": mostly(st.integers(0, 3), "1", None),
                          "member_id": opt_ident(MEMBERS)}),
    "standup.timer": args({"id": ident(STANDUPS)},
                          {"action": mostly(st.sampled_from(["pause", "resume", "more"]), "stop"),
                           "at": round_times, "seconds": mostly(st.sampled_from([30, 60]), 0, 601, "60")}),
    "standup.end": args({"id": ident(STANDUPS)}, {"at": round_times}),
    "standup.note": args({"id": ident(STANDUPS), "member_id": ident(MEMBERS)},
                         {"yesterday": texts, "today": texts, "blockers": texts}),
    "standup.park": args({"id": ident(STANDUPS), "text": texts}),
    "metric.define": args({"id": ident(METRICS), "name": names},
                          {"unit": st.sampled_from(["%", "", "min", 5]), "target": numbers,
                           "direction": mostly(st.sampled_from(["higher", "lower"]), "up"),
                           "scope": st.sampled_from(["team", "member", "world"]),
                           "summary": st.sampled_from(["mean", "sum", "last", "max"])}),
    "metric.sample": args({"id": ident(SAMPLES), "metric_id": ident(METRICS), "value": numbers},
                          {"date": dates, "member_id": opt_ident(MEMBERS)}),
    "metric.remove": args({"id": ident(METRICS)}),
    "sprint.focus": args({"id": ident(SPRINTS)},
                         {"metric_ids": mostly(st.lists(ident(METRICS), max_size=4), None, "k1", [5])}),
    "retro.create": args({"id": ident(RETROS), "sprint_id": ident(SPRINTS)},
                         {"template": mostly(st.sampled_from([*RETRO_TEMPLATES, "custom"]), "nope"),
                          "columns": mostly(st.lists(st.sampled_from(["Keep", "Drop", "Went well"]), min_size=1,
                                                     max_size=3), [], "Keep", ["x" * 41]),
                          "anonymous": st.booleans(), "started_mono": numbers, **retro_settings_fields}),
    "retro.settings": args({"retro_id": ident(RETROS)}, retro_settings),
    "retro.phase": args({"retro_id": ident(RETROS), "at": round_times},
                        {"action": mostly(st.sampled_from(["next", "back"]), "skip"),
                         "force": st.booleans(), "expect": st.one_of(st.none(), st.sampled_from(retro_q.PHASES))}),
    "retro.timer": args({"retro_id": ident(RETROS), "at": round_times},
                        {"action": mostly(st.sampled_from(["start", "pause", "resume", "more"]), "stop"),
                         "seconds": mostly(st.sampled_from([60, 120]), 0, 1801, "60")}),
    "retro.ready": args({"retro_id": ident(RETROS)}, {"member_id": opt_ident(MEMBERS),
                                                      "ready": mostly(st.booleans(), "yes", None)}),
    "retro.card": args({"retro_id": ident(RETROS), "id": ident(CARDS), "column": st.sampled_from(COLUMNS),
                        "text": texts}, {"member_id": opt_ident(MEMBERS)}),
    "retro.card_update": args({"retro_id": ident(RETROS), "id": ident(CARDS)},
                              {"text": texts, "column": st.sampled_from(COLUMNS), "delete": st.booleans()}),
    "retro.group": args({"retro_id": ident(RETROS), "topic_id": ident(TARGETS)},
                        {"card_ids": mostly(st.lists(ident(CARDS), max_size=3), "c1", [5]),
                         "topic_ids": mostly(st.lists(ident(TOPICS), max_size=2), "t1"), "title": texts}),
    "retro.ungroup": args({"retro_id": ident(RETROS), "card_id": ident(CARDS)}),
    "retro.topic": args({"retro_id": ident(RETROS), "topic_id": ident(TOPICS), "title": texts}),
    "retro.vote": st.one_of(
        args({"retro_id": ident(RETROS), "topic_id": ident(TARGETS), "count": vote_counts},
             {"member_id": opt_ident(MEMBERS)}),
        args({"retro_id": ident(RETROS), "votes": mostly(st.dictionaries(st.sampled_from(TARGETS), vote_counts,
                                                                         max_size=3), ["t1"], {"t1": "2"})},
             {"member_id": opt_ident(MEMBERS)})),
    "retro.reveal": args({"retro_id": ident(RETROS)}),
    "retro.discuss": args({"retro_id": ident(RETROS), "at": round_times},
                          {"action": mostly(st.sampled_from(["next", "back", "jump"]), "skip"),
                           "topic_id": ident(TARGETS), "expect": st.one_of(st.none(), st.sampled_from(TARGETS))}),
    "retro.note": args({"retro_id": ident(RETROS), "topic_id": ident(TARGETS), "text": texts}),
    "retro.action": args({"retro_id": ident(RETROS), "id": ident(ACTIONS), "title": texts},
                         {"owner": opt_ident(MEMBERS), "due": dates, "topic_id": opt_ident(TARGETS)}),
    "retro.action_update": args({"retro_id": ident(RETROS), "id": ident(ACTIONS)},
                                {"title": texts, "owner": opt_ident(MEMBERS), "due": dates,
                                 "topic_id": opt_ident(TARGETS), "delete": st.booleans()}),
    "retro.review": args({"retro_id": ident(RETROS), "action_id": ident(ACTIONS)},
                         {"outcome": mostly(st.sampled_from(["done", "carried", ""]), "maybe"),
                          "from_retro": opt_ident(RETROS)}),
    "retro.close": args({"id": ident(RETROS)}, {"at": round_times}),
    "item.explode": args({}, {"id": ident(ITEMS)}),  # an unknown op type
}

# What people do in each phase of a retro (the "~retro" step draws from these).
PHASE_OPS = {
    "review": ["retro.review", "retro.ready", "retro.settings"],
    "reflect": ["retro.card", "retro.card", "retro.card_update", "retro.ready", "retro.timer"],
    "group": ["retro.group", "retro.group", "retro.ungroup", "retro.topic", "retro.card", "retro.card_update"],
    "vote": ["retro.vote", "retro.vote", "retro.vote", "retro.reveal", "retro.settings", "retro.ready"],
    "discuss": ["retro.discuss", "retro.note", "retro.action", "retro.action_update", "retro.timer"],
    "close": ["retro.close", "retro.action", "retro.note"],
}

# Which collection an arg refers to, so a drawn id can be swapped for one that exists in the room.
REFERS = {
    "owner": "members", "member_id": "members", "helper_id": "members", "facilitator_id": "members",
    "sprint_id": "sprints", "item_id": "items", "metric_id": "metrics", "retro_id": "retros",
    "standup_id": "standups",
}
# The collection whose entity an op's "id" names, for ops that act on an existing entity.
TARGET = {
    "member.update": "members", "sprint.update": "sprints", "sprint.start": "sprints", "sprint.close": "sprints",
    "item.update": "items", "item.delete": "items", "blocker.update": "blockers", "blocker.resolve": "blockers",
    "retro.close": "retros", "standup.turn": "standups", "standup.timer": "standups", "standup.end": "standups",
    "standup.note": "standups", "standup.park": "standups", "metric.remove": "metrics", "sprint.focus": "sprints",
}

# A starting room, so that short runs reach interesting states (sprints with work, a running sprint).
SEED = [
    ("member.add", {"id": "m1", "name": "Ann"}),
    ("member.add", {"id": "m2", "name": "Bob", "role": "AE"}),
    ("sprint.create", {"id": "s1", "name": "Sprint 1", "start": "2026-11-16", "days": 14,
                       "goal": "Close ten deals."}),
    ("sprint.create", {"id": "s2", "name": "Sprint 2", "start": "2026-11-30", "days": 14}),
    ("item.add", {"id": "i1", "title": "Call Acme", "sprint_id": "s1", "estimate": "3", "owner": "m1"}),
    ("item.add", {"id": "i2", "title": "Demo", "sprint_id": "s1", "estimate": "5", "status": "done"}),
    ("item.add", {"id": "i3", "title": "Battle card", "estimate": "8"}),
    ("metric.define", {"id": "k1", "name": "Listen share", "unit": "%", "target": 70}),
    ("metric.sample", {"id": "x1", "metric_id": "k1", "value": 72, "member_id": "m1"}),
    ("blocker.open", {"id": "b1", "member_id": "m2", "text": "No reply from legal", "item_id": "i1"}),
    ("retro.create", {"id": "r1", "sprint_id": "s1"}),
    ("retro.action", {"retro_id": "r1", "id": "a1", "title": "Shorter demos", "owner": "m2"}),
    ("retro.card", {"retro_id": "r1", "id": "c1", "column": "Went well", "text": "Demos landed", "member_id": "m1"}),
    ("retro.card", {"retro_id": "r1", "id": "c2", "column": "To improve", "text": "Slow replies"}),
]


# ----------------------------------------------------------------------------- the machine


class DomainMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock("2026-11-16T09:00:00+00:00")
        self.state = State()
        self.accepted: list[Op] = []
        self.counter = 0
        self.types = sorted(OP_ARGS)

    # -- applying

    def make(self, type: str, args: dict, actor: str) -> Op:
        self.counter += 1
        return Op(type=type, args=args, actor=actor, op_id=f"op{self.counter}", ts=self.clock.now().isoformat())

    def submit(self, op: Op) -> bool:
        before = self.state
        snapshot = shallow(before)
        try:
            after = apply(before, op)
        except OpRejected:
            assert same_snapshot(shallow(before), snapshot), f"refused {op.type} changed the state"
            return False
        assert same_snapshot(shallow(before), snapshot), f"{op.type} mutated the state it was applied to"
        if op.type not in NOT_UNDOABLE:
            self.check_undo_redo(before, after, op)
        self.state = after
        self.accepted.append(op)
        return True

    def check_undo_redo(self, before: State, after: State, op: Op) -> None:
        """(c): undo right after an accepted undoable op gives back the earlier content; redo the later."""
        actor = op.actor
        assert len(after.undo.get(actor, ())) >= 1 and not after.redo.get(actor), "no undo entry, or stale redo"
        for other in set(before.undo) | set(after.undo):
            if other != actor:
                assert before.undo.get(other) is after.undo.get(other), "another actor's undo stack changed"
        undone = apply(after, Op(type="undo", actor=actor, ts=op.ts))
        if not same_content(undone, before):
            assert undone.content() == before.content(), f"undo of {op.type} {dict(op.args)} is not exact"
        redone = apply(undone, Op(type="redo", actor=actor, ts=op.ts))
        if not same_content(redone, after):
            assert redone.content() == after.content(), f"redo of {op.type} {dict(op.args)} is not exact"
        assert len(redone.undo.get(actor, ())) == len(after.undo.get(actor, ()))

    # -- rules

    @initialize(seed=st.sampled_from([True, True, True, False]), started=st.booleans(),
                swarm=st.one_of(st.none(), st.sets(st.sampled_from(sorted(OP_ARGS)), min_size=1, max_size=4)))
    def start(self, seed: bool, started: bool, swarm: set[str] | None) -> None:
        # Swarm testing: most runs use only a few op types, so that ops of those types meet each other often
        # (a define, a redefine, another actor's define, an undo...); the other runs use every type.
        self.types = sorted(swarm) if swarm else sorted(OP_ARGS)
        if seed:
            for type, a in SEED:
                assert self.submit(self.make(type, dict(a), "ann")), type
            if started:
                assert self.submit(self.make("sprint.start", {"id": "s1"}, "bob"))

    # Two rules of ops for one of undo/redo: Hypothesis picks among rules evenly.
    @rule(data=st.data(), actor=st.sampled_from(ACTORS))
    def an_op(self, data, actor: str) -> None:
        self.step(data, actor)

    @rule(data=st.data(), actor=st.sampled_from(ACTORS))
    def another_op(self, data, actor: str) -> None:
        self.step(data, actor)

    @rule(actor=st.sampled_from(ACTORS), redo=st.booleans())
    def undo_or_redo(self, actor: str, redo: bool) -> None:
        self.submit(self.make("redo" if redo else "undo", {}, actor))

    def step(self, data, actor: str) -> None:
        extra = ["~close", "~move", "~time", "~phase", "~phase", "~retro", "~retro", "~retro"]
        kind = data.draw(st.sampled_from([*self.types, *extra]), label="type")
        if kind == "~close":
            self.close_active_sprint(data, actor)
        elif kind == "~phase":
            self.move_a_retro_on(data, actor)
        elif kind == "~retro":
            self.retro_op_of_the_phase(data, actor)
        elif kind == "~move":
            self.move_existing_item(data, actor)
        elif kind == "~time":
            self.clock.advance(days=data.draw(st.integers(0, 10), label="days"), seconds=3600)
        else:
            self.random_op(data, kind, actor)

    def random_op(self, data, type: str, actor: str) -> None:
        a = dict(data.draw(OP_ARGS[type], label="args"))
        # Half the time, point the op's references at entities that exist, so that ops build on each other.
        keys = [k for k in a if k in REFERS] + (["id"] if type in TARGET and "id" in a else [])
        for key in keys:
            existing = sorted(getattr(self.state, TARGET[type] if key == "id" else REFERS[key]))
            if existing and data.draw(st.booleans(), label=f"existing {key}"):
                a[key] = data.draw(st.sampled_from(existing), label=key)
        retro = self.state.retros.get(a.get("retro_id")) if isinstance(a.get("retro_id"), str) else None
        if type in ("retro.card", "retro.card_update") and retro is not None and "column" in a and data.draw(
                st.booleans(), label="a real column"):
            a["column"] = data.draw(st.sampled_from(retro.columns), label="column")
        if retro is not None:
            self.point_at_the_board(data, type, a, retro)
        self.submit(self.make(type, a, actor))

    def point_at_the_board(self, data, type: str, a: dict, retro) -> None:
        """Half the time, aim a retro op at cards, topics and actions that exist, so that grouping, votes and
        discussion build on each other."""
        targets = retro_q.targets(retro)
        topics = [t.id for t in retro.topics]
        cards = [c.id for c in retro.cards]

        def pick(key: str, pool: list[str]) -> None:
            if key in a and pool and data.draw(st.booleans(), label=f"existing {key}"):
                a[key] = data.draw(st.sampled_from(pool), label=key)

        if type == "retro.group":
            pick("topic_id", sorted({*topics, *TOPICS}))
        else:
            pick("topic_id", targets if type != "retro.topic" else topics)
        pick("card_id", cards)
        if type == "retro.card_update":
            pick("id", cards)
        if type in ("retro.action_update", "retro.review"):
            pick("id" if type == "retro.action_update" else "action_id",
                 [x.id for x in retro.actions] if type == "retro.action_update"
                 else [e.action_id for e in retro.review])
        if type == "retro.group" and isinstance(a.get("card_ids"), list) and cards:
            a["card_ids"] = data.draw(st.lists(st.sampled_from(cards), max_size=3), label="card_ids")
        if type == "retro.vote" and isinstance(a.get("votes"), dict) and targets:
            a["votes"] = data.draw(st.dictionaries(st.sampled_from(targets), vote_counts, max_size=3), label="votes")
        if type == "retro.phase" and data.draw(st.booleans(), label="force"):
            a["force"] = True

    def move_a_retro_on(self, data, actor: str) -> None:
        """Take an open retro to its next phase (now and then back), as a facilitator who confirms."""
        retros = sorted(r.id for r in self.state.retros.values() if r.status == "open")
        if not retros:
            return
        retro = self.state.retros[data.draw(st.sampled_from(retros), label="retro")]
        action = data.draw(st.sampled_from(["next", "next", "next", "back"]), label="action")
        at = retro.clock_at + data.draw(st.sampled_from([0, 1, 60, 400]), label="later")
        self.submit(self.make("retro.phase", {"retro_id": retro.id, "action": action, "at": at, "force": True},
                              actor))

    def retro_op_of_the_phase(self, data, actor: str) -> None:
        """An op that belongs to an open retro's phase (cards in reflect, votes in vote...), on that retro."""
        retros = sorted(r.id for r in self.state.retros.values() if r.status == "open")
        if not retros:
            return
        retro = self.state.retros[data.draw(st.sampled_from(retros), label="retro")]
        type = data.draw(st.sampled_from(PHASE_OPS[retro.phase]), label="phase op")
        a = dict(data.draw(OP_ARGS[type], label="args"))
        a["retro_id" if type != "retro.close" else "id"] = retro.id
        if "at" in a:
            a["at"] = retro.clock_at + data.draw(st.sampled_from([0, 1, 60, 400]), label="later")
        if "column" in a:
            a["column"] = data.draw(st.sampled_from(retro.columns), label="column")
        if type == "retro.vote" and data.draw(st.booleans(), label="as a member") and self.state.members:
            a["member_id"] = data.draw(st.sampled_from(sorted(self.state.members)), label="member")
        self.point_at_the_board(data, type, a, retro)
        self.submit(self.make(type, a, actor))

    def close_active_sprint(self, data, actor: str) -> None:
        """Close the active sprint with a decision per unfinished item (sometimes one left out)."""
        sprint = next((s for s in self.state.sprints.values() if s.status == "active"), None)
        if sprint is None:
            return
        open_ids = sorted(i.id for i in self.state.items.values() if i.sprint_id == sprint.id and i.status != "done")
        carry = {i: data.draw(st.sampled_from(["next", "backlog"]), label=f"carry {i}") for i in open_ids}
        if open_ids and data.draw(st.integers(0, 9), label="forget one") == 0:
            carry.pop(open_ids[0])
        a = {"id": sprint.id, "carry": carry}
        if data.draw(st.booleans(), label="give next"):
            a["next"] = data.draw(next_specs, label="next")
        self.submit(self.make("sprint.close", a, actor))

    def move_existing_item(self, data, actor: str) -> None:
        """An edit of an item that exists (status, sprint or a rank between two neighbours)."""
        if not self.state.items:
            return
        item_id = data.draw(st.sampled_from(sorted(self.state.items)), label="item")
        change = data.draw(st.sampled_from(["status", "sprint", "rank"]), label="change")
        if change == "status":
            a = {"status": data.draw(st.sampled_from(ITEM_STATUSES)), "note": data.draw(notes)}
        elif change == "sprint":
            a = {"sprint_id": data.draw(st.sampled_from([None, *sorted(self.state.sprints)]))}
        else:
            rs = sorted(i.rank for i in self.state.items.values())
            k = data.draw(st.integers(0, len(rs)), label="slot")
            lo, hi = (rs[k - 1] if k else None), (rs[k] if k < len(rs) else None)
            a = {"rank": ranks.between(lo, hi) if lo != hi else ranks.after(lo)}
        self.submit(self.make("item.update", {"id": item_id, **a}, actor))

    # -- checks

    @invariant()
    def room_is_valid(self) -> None:
        check_invariants(self.state)

    def teardown(self) -> None:
        """(b): the accepted ops replay to the same state, directly and after a JSON round trip; and the
        final room survives ``to_dict``/``from_dict`` and JSON."""
        check_round_trip(self.state)
        replayed = State()
        for op in self.accepted:
            replayed = apply(replayed, op)
        assert replayed == self.state, "replaying the accepted ops gave another state"
        replayed = State()
        for op in self.accepted:
            again = Op.from_dict(json.loads(json.dumps(op.to_dict())))
            assert again == op
            replayed = apply(replayed, again)
        assert replayed == self.state, "replaying the JSON-round-tripped ops gave another state"


DomainMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    # No explain phase: on a stateful test it can take minutes after a failure; shrinking alone takes seconds.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestDomainMachine = DomainMachine.TestCase
