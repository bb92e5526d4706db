"""Who may do what in a shared room (domain/roles.py): the hub's 403s and the UI's hidden keys ask the same."""

from __future__ import annotations

from agile_tui.domain import FakeClock, State, apply_all, make_op
from agile_tui.domain.privacy import redact
from agile_tui.domain.roles import forbidden, may

from .hubkit import team_state

CLOCK = FakeClock("2026-11-30T09:00:00+00:00")


def test_the_flow_is_the_facilitators_and_everyone_edits_items():
    assert may("facilitator", "standup.start") and may("", "standup.start")
    assert not may("participant", "standup.start") and may("participant", "item.add")
    assert not may("metrics", "item.add") and may("metrics", "metric.sample")
    state = State()
    assert "facilitator" in forbidden("participant", "ben", "retro.reveal", {}, state)
    assert forbidden("participant", "ben", "retro.vote", {"member_id": "ana"}, state)
    assert forbidden("participant", "ben", "retro.vote", {"member_id": "ben"}, state) is None


def test_a_former_facilitator_cannot_undo_a_change_of_the_flow_but_can_undo_an_item():
    state = apply_all(State(), [make_op("member.add", CLOCK, id="ana", name="Ana"),
                                make_op("sprint.create", CLOCK, actor="ana", id="s1", name="S1", start="2026-11-30",
                                        days=14, goal="Close ten deals."),
                                make_op("sprint.start", CLOCK, actor="ana", id="s1")])
    reason = forbidden("participant", "ana", "undo", {}, state)
    assert reason and "facilitator" in reason and "start" in reason.lower()
    assert forbidden("facilitator", "ana", "undo", {}, state) is None
    state = apply_all(state, [make_op("item.add", CLOCK, actor="ana", id="i1", title="Call")])
    assert forbidden("participant", "ana", "undo", {}, state) is None


def test_a_voter_gets_the_new_count_of_votes_cast_with_their_own_vote():
    state = team_state()
    ops = [make_op("retro.card", CLOCK, actor="ben", retro_id="r1", id="c1", column="Went well", text="x"),
           make_op("retro.phase", CLOCK, actor="ana", retro_id="r1", action="next", force=True, at=1),
           make_op("retro.phase", CLOCK, actor="ana", retro_id="r1", action="next", force=True, at=2)]
    before = apply_all(state, ops)
    vote = make_op("retro.vote", CLOCK, actor="ben", retro_id="r1", topic_id="c1", count=2)
    after = apply_all(before, [vote])
    to_ben = redact(vote, before, after, "ben")
    assert to_ben.op is not None and to_ben.hidden["r1"]["votes_cast"] == 2
