"""The client's replica of a shared room, alone (pure): rebase, the fast path for our own ops coming back,
refetches whatever their seq, a hub that went back, and the hidden counts that come with ops."""

from __future__ import annotations

from agile_tui.domain import FakeClock, State, apply_all, make_op
from agile_tui.sync.replica import Replica

CLOCK = FakeClock("2026-11-30T09:00:00+00:00")


def base() -> State:
    return apply_all(State(), [make_op("member.add", CLOCK, id="ana", name="Ana"),
                               make_op("item.add", CLOCK, id="i1", title="Call Acme")])


def event(seq: int, op) -> dict:
    return {"seq": seq, "op": op.to_dict()}


def test_our_op_coming_back_first_leaves_the_screen_as_it_was_and_others_rebase():
    r = Replica(base(), seq=2)
    mine = make_op("item.update", CLOCK, actor="ana", id="i1", title="Mine")
    later = make_op("item.add", CLOCK, actor="ana", id="i2", title="Later")
    r.local(mine)
    r.local(later)
    shown = r.state
    assert r.event(event(3, mine)) == "applied"
    assert r.state is shown and [p.op for p in r.pending] == [later]  # no rebase needed, none done
    theirs = make_op("item.update", CLOCK, actor="ben", id="i1", status="doing")
    assert r.event(event(4, theirs)) == "applied"
    assert r.state.items["i1"].status == "doing" and r.state.items["i1"].title == "Mine" and "i2" in r.state.items


def test_an_op_acknowledged_then_seen_in_a_patch_is_forgotten_and_the_rest_rebased():
    r = Replica(base(), seq=2)
    mine = make_op("item.update", CLOCK, actor="ana", id="i1", title="Mine")
    r.local(mine)
    r.acknowledged(mine.op_id, 3)
    assert r.pending  # not yet in the confirmed state
    after = apply_all(base(), [mine])
    assert r.event({"seq": 3, "patch": {"items": {"i1": after.items["i1"].to_dict()}}, "hidden": {}}) == "applied"
    assert r.pending == [] and r.state.items["i1"].title == "Mine"


def test_a_refetch_is_honoured_whatever_its_seq_and_a_hub_that_went_back_gets_our_ops_again():
    r = Replica(base(), seq=9)
    assert r.event({"seq": 3, "refetch": True}) == "refetch"  # the hub is behind us: restored from a backup
    assert r.event({"seq": 5}) == "old"
    assert r.event({"seq": 12, "op": make_op("item.delete", CLOCK, id="i1").to_dict()}) == "gap"
    mine = make_op("item.add", CLOCK, actor="ana", id="i9", title="Acknowledged at 10")
    r.local(mine)
    r.acknowledged(mine.op_id, 10)
    r.reset(base(), 3)  # the hub lost seq 4..: what it acknowledged there must be sent again
    assert [p.seq for p in r.pending] == [None] and "i9" in r.state.items


def test_the_counts_held_back_come_with_an_op_too():
    r = Replica(base(), seq=2, hidden={"r1": {"votes_cast": 1}})
    op = make_op("item.update", CLOCK, actor="ana", id="i1", title="x")
    assert r.event({**event(3, op), "hidden": {"r1": {"votes_cast": 2}}}) == "applied"
    assert r.hidden["r1"]["votes_cast"] == 2
