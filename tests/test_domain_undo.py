"""Undo and redo as ops, per actor: the plain cases, and the cases where taking back one op would leave the
room inconsistent (a reference to something that no longer exists, two active sprints)."""

from __future__ import annotations

import pytest

from agile_tui.domain import FakeClock, NothingToUndo, OpRejected, State, apply, make_op
from agile_tui.domain.reducer import UNDO_DEPTH

GOAL = "Close ten deals with mid-market accounts."


class Room:
    def __init__(self) -> None:
        self.clock = FakeClock("2026-11-16T09:00:00+00:00")
        self.state = State()

    def do(self, type: str, actor: str = "ann", **args) -> State:
        self.state = apply(self.state, make_op(type, self.clock, actor=actor, **args))
        return self.state

    def try_do(self, type: str, actor: str = "ann", **args) -> bool:
        """Apply if accepted; a refusal must leave the state as it was. Returns whether it was accepted."""
        before = self.state.to_dict()
        try:
            self.do(type, actor, **args)
        except OpRejected:
            assert self.state.to_dict() == before
            return False
        return True


@pytest.fixture
def room() -> Room:
    r = Room()
    r.do("member.add", id="m1", name="Ann")
    r.do("sprint.create", id="s1", name="Sprint 1", start="2026-11-16", days=14, goal=GOAL)
    return r


# ----------------------------------------------------------------------------- the plain cases


@pytest.mark.parametrize(
    "type, args",
    [
        ("member.add", {"id": "m2", "name": "Bob"}),
        ("member.update", {"id": "m1", "name": "Annie", "role": "AE", "active": False}),
        ("sprint.create", {"id": "s2", "name": "Sprint 2"}),
        ("sprint.update", {"id": "s1", "goal": "Another goal.", "days": 7}),
        ("sprint.start", {"id": "s1"}),
        ("item.add", {"id": "i2", "title": "New", "sprint_id": "s1", "owner": "m1"}),
        ("item.update", {"id": "i1", "status": "blocked", "note": "Legal", "sprint_id": None}),
        ("item.delete", {"id": "i1"}),
        ("blocker.open", {"id": "b1", "member_id": "m1", "text": "No reply", "item_id": "i1"}),
        ("metric.define", {"id": "k1", "name": "Listen share", "unit": "%", "target": 70}),
        ("retro.create", {"id": "r1", "sprint_id": "s1"}),
    ],
)
def test_undo_then_redo(room, type, args):
    room.do("item.add", id="i1", title="Call Acme", sprint_id="s1")
    before = room.state.content()
    after = room.do(type, **args).content()
    assert after != before
    assert room.do("undo").content() == before
    assert room.do("redo").content() == after
    assert room.do("undo").content() == before


def test_sprint_close_and_retro_close_undo_as_one_step(room):
    room.do("item.add", id="i1", title="Open", sprint_id="s1")
    room.do("sprint.start", id="s1")
    before_close = room.state.content()
    room.do("sprint.close", id="s1", carry={"i1": "next"})
    assert "s1-next" in room.state.sprints
    room.do("retro.create", id="r1", sprint_id="s1")
    room.do("retro.action", id="a1", retro_id="r1", title="Fix the CRM export")
    before_retro = room.state.content()
    room.do("retro.close", id="r1")
    room.do("undo")
    assert room.state.content() == before_retro
    room.do("undo")
    room.do("undo")
    room.do("undo")
    assert room.state.content() == before_close


def test_not_undoable_ops_are_skipped_by_undo(room):
    room.do("room.setup", name="Sales room", team="Tigers")
    room.do("standup.record", id="u1")
    with pytest.raises(NothingToUndo):  # member.add and sprint.create were by "ann"; a fresh actor has nothing
        apply(room.state, make_op("undo", room.clock, actor="bob"))
    room.do("undo")  # takes back sprint.create, the last undoable op, not the standup
    assert "s1" not in room.state.sprints
    assert room.state.room.team == "Tigers" and "u1" in room.state.standups


def test_a_new_op_clears_the_actors_redo_but_not_others(room):
    room.do("item.add", actor="ann", id="i1", title="A")
    room.do("item.add", actor="bob", id="i2", title="B")
    room.do("undo", actor="ann")
    room.do("undo", actor="bob")
    room.do("item.add", actor="ann", id="i3", title="C")
    with pytest.raises(NothingToUndo):
        apply(room.state, make_op("redo", room.clock, actor="ann"))
    room.do("redo", actor="bob")
    assert set(room.state.items) == {"i2", "i3"}


def test_undo_depth_is_bounded(room):
    for n in range(UNDO_DEPTH + 20):
        room.do("item.add", id=f"i{n}", title=f"Item {n}")
    assert len(room.state.undo["ann"]) == UNDO_DEPTH
    for _ in range(UNDO_DEPTH):
        room.do("undo")
    assert len(room.state.items) == 20
    with pytest.raises(NothingToUndo):
        apply(room.state, make_op("undo", room.clock, actor="ann"))


# ----------------------------------------------------------------------------- undo that breaks the room
#
# Each op below is undone by its own actor after someone (or a not-undoable op) built on what it made.
# Either outcome is fine: the undo is refused (OpRejected, state untouched), or it is accepted and the room
# stays consistent. What is not fine is the room ending up with dangling references or two active sprints.


def test_undo_of_member_add_while_another_actor_assigned_them(room):
    room.do("member.add", actor="ann", id="m2", name="Bob")
    room.do("item.add", actor="bob", id="i1", title="Call Acme", owner="m2")
    if room.try_do("undo", actor="ann"):
        owner = room.state.items["i1"].owner
        assert owner == "" or owner in room.state.members, f"item owner {owner!r} is not a member"


def test_undo_of_sprint_create_while_another_actor_planned_into_it(room):
    room.do("sprint.create", actor="ann", id="s2", name="Sprint 2", start="2026-11-30")
    room.do("item.add", actor="bob", id="i1", title="Call Acme", sprint_id="s2")
    if room.try_do("undo", actor="ann"):
        sprint_id = room.state.items["i1"].sprint_id
        assert sprint_id is None or sprint_id in room.state.sprints, f"item in missing sprint {sprint_id!r}"


def test_undo_of_sprint_close_after_another_sprint_started(room):
    room.do("sprint.create", id="s2", name="Sprint 2", start="2026-11-30", goal="Second goal.")
    room.do("sprint.start", actor="ann", id="s1")
    room.do("sprint.close", actor="ann", id="s1")
    room.do("sprint.start", actor="bob", id="s2")
    if room.try_do("undo", actor="ann"):
        active = [s.id for s in room.state.sprints.values() if s.status == "active"]
        assert len(active) <= 1, f"two active sprints after undo: {active}"


def test_redo_of_sprint_start_after_another_sprint_started(room):
    room.do("sprint.create", id="s2", name="Sprint 2", start="2026-11-30", goal="Second goal.")
    room.do("sprint.start", actor="ann", id="s1")
    room.do("undo", actor="ann")
    room.do("sprint.start", actor="bob", id="s2")
    if room.try_do("redo", actor="ann"):
        active = [s.id for s in room.state.sprints.values() if s.status == "active"]
        assert len(active) <= 1, f"two active sprints after redo: {active}"


def test_undo_of_metric_define_after_samples_one_actor(room):
    """One actor: undo takes back the sample first (a wrong number is undone with u), then the metric."""
    room.do("metric.define", id="k1", name="Calls", target=10)
    room.do("metric.sample", id="x1", metric_id="k1", value=12)
    assert room.try_do("undo")
    assert "x1" not in room.state.samples and "k1" in room.state.metrics
    if room.try_do("undo"):
        assert all(x.metric_id in room.state.metrics for x in room.state.samples.values()), "orphan sample"


def test_undo_of_member_add_after_a_standup_one_actor(room):
    """One actor: standup.record is not undoable, so undo skips it and deletes the member who spoke."""
    room.do("member.add", id="m2", name="Bob")
    room.do("standup.record", id="u1", updates=[{"member_id": "m2", "today": "Calls"}])
    if room.try_do("undo"):
        speakers = [u.member_id for u in room.state.standups["u1"].updates]
        assert all(s in room.state.members for s in speakers), "standup update by a deleted member"


def test_undo_of_retro_create_while_another_actor_wrote_a_card(room):
    room.do("retro.create", actor="ann", id="r1", sprint_id="s1")
    room.do("retro.card", actor="bob", retro_id="r1", id="c1", column="Went well", text="Great demo")
    if room.try_do("undo", actor="ann"):
        # acceptable only if bob's card is not silently lost
        assert "r1" in room.state.retros and room.state.retros["r1"].cards


def test_undo_of_a_rename_does_not_duplicate_a_member_name(room):
    room.do("member.update", actor="ann", id="m1", name="Annie")
    room.do("member.add", actor="bob", id="m2", name="Ann")
    if room.try_do("undo", actor="ann"):
        names = [m.name for m in room.state.members.values() if m.active]
        assert len(names) == len(set(names)), f"two active members share a name: {names}"


def test_undo_of_a_metric_rename_does_not_duplicate_a_metric_name(room):
    room.do("metric.define", actor="ann", id="k1", name="Calls")
    room.do("metric.define", actor="ann", id="k1", name="Talk time")
    room.do("metric.define", actor="bob", id="k2", name="Calls")
    if room.try_do("undo", actor="ann"):
        names = [k.name for k in room.state.metrics.values()]
        assert len(names) == len(set(names)), f"two metrics share a name: {names}"


def test_undo_does_not_revert_another_actors_later_change(room):
    room.do("item.add", id="i1", title="Call Acme")
    room.do("item.update", actor="ann", id="i1", title="Call Acme today")
    room.do("item.update", actor="bob", id="i1", status="done")
    if room.try_do("undo", actor="ann"):
        assert room.state.items["i1"].status == "done", "bob's change was reverted by ann's undo"


def test_deleting_an_item_unlinks_or_refuses_its_blockers(room):
    """integrity.py counts a blocker's item_id as a reference, so item.delete must not leave it dangling (today
    the delete is accepted, and then its own redo is refused because of the blocker)."""
    room.do("item.add", id="i1", title="Call Acme")
    room.do("blocker.open", id="b1", member_id="m1", text="No reply", item_id="i1")
    if room.try_do("item.delete", id="i1"):
        assert room.state.blockers["b1"].item_id in (None, *room.state.items), "blocker points at a deleted item"
        room.do("undo")
        room.do("redo")  # taking the delete back and forth must work like any other op


def test_undo_does_not_put_work_back_into_a_closed_sprint(room):
    room.do("item.add", id="i1", title="Call Acme", sprint_id="s1")
    room.do("sprint.start", id="s1")
    room.do("item.update", actor="ann", id="i1", sprint_id=None)
    room.do("sprint.close", actor="bob", id="s1")
    if room.try_do("undo", actor="ann"):
        item = room.state.items["i1"]
        assert item.sprint_id is None or room.state.sprints[item.sprint_id].status != "closed"
