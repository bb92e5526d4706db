"""The standup round in the domain: turns, the timer as state, airtime, the summary, round time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from agile_tui.domain import FakeClock, RuleViolation, State, apply, apply_all, make_op
from agile_tui.domain.standup import (
    RoundTime,
    blocker_age,
    clock_text,
    live_standup,
    next_facilitator,
    summary,
    turn_clock,
    update_of,
)

T0 = "2026-11-28T09:00:00+00:00"
MEMBERS = ("ana", "ben", "cai", "dee", "eve")


def team(clock: FakeClock) -> State:
    ops = [make_op("member.add", clock, id=m, name=m.capitalize()) for m in MEMBERS]
    return apply_all(State(), ops)


class Round:
    """Drives a standup the way the app does: ops carry the round time from RoundTime."""

    def __init__(self, clock: FakeClock, state: State) -> None:
        self.clock, self.state = clock, state
        self.time = RoundTime(clock)

    def do(self, type_: str, **args):
        standup = live_standup(self.state)
        if standup is not None and type_ != "standup.start":
            args.setdefault("id", standup.id)
            args.setdefault("at", self.time.now(standup))
        self.state = apply(self.state, make_op(type_, self.clock, **args))
        return self.state

    def start(self, order, **args):
        return self.do("standup.start", id="s1", order=list(order), **self.time.started(), **args)

    @property
    def standup(self):
        return self.state.standups["s1"]


@pytest.fixture
def clock():
    return FakeClock(T0)


def test_start_marks_the_absent_and_gives_the_first_speaker_their_box(clock):
    r = Round(clock, team(clock))
    r.start(["ana", "ben", "cai", "dee"], length_min=10)
    s = r.standup
    assert s.status == "live" and s.current == 0 and s.running_since == 0.0
    assert update_of(s, "eve").absent
    assert update_of(s, "ana").box_s == 150.0  # 10 minutes / 4 speakers
    clock.advance(20)
    tc = turn_clock(s, r.time.now(s))
    assert (tc.member_id, tc.elapsed_s, tc.remaining_s, tc.band) == ("ana", 20.0, 130.0, "green")


def test_a_whole_round_adds_up_to_the_second(clock):
    r = Round(clock, team(clock))
    r.start(["ana", "ben", "cai", "dee"], length_min=10)
    clock.advance(100)
    r.do("standup.turn", action="next", expect=0)
    clock.advance(30)
    r.do("standup.timer", action="pause")
    clock.advance(45)  # paused: does not count
    r.do("standup.timer", action="resume")
    clock.advance(20)
    r.do("standup.turn", action="next")  # ben spoke 50 s
    clock.advance(3)  # nobody answers
    r.do("standup.turn", action="skip")  # cai is not here: absent, the 3 s are nobody's airtime
    clock.advance(200)  # dee runs 50 s over a 150 s box
    s = r.standup
    tc = turn_clock(s, r.time.now(s))
    assert tc.band == "red" and tc.remaining_s == -50 and clock_text(tc.remaining_s) == "+0:50"
    r.do("standup.turn", action="next")
    clock.advance(5)
    r.do("standup.end")
    s = r.standup
    assert s.status == "closed" and s.ended_after_s == 403
    got = {u.member_id: (u.airtime_s, u.absent) for u in s.updates}
    assert got == {"ana": (100, False), "ben": (50, False), "cai": (0, True), "dee": (200, False),
                   "eve": (0, True)}
    report = summary(r.state, s)
    assert [a.name for a in report.speakers] == ["Ana", "Ben", "Dee"]
    assert report.absent == ["Cai", "Eve"]
    assert report.quickest.name == "Ben" and report.longest.name == "Dee"
    assert report.longest.over_s == 50
    assert report.total_s == 403


def test_someone_skipped_as_absent_can_join_late_and_back_passes_them_by(clock):
    r = Round(clock, team(clock))
    r.start(["ana", "ben", "cai"], length_min=5)
    clock.advance(60)
    r.do("standup.turn", action="next")
    clock.advance(4)
    r.do("standup.turn", action="skip")  # ben: absent
    clock.advance(10)
    r.do("standup.turn", action="back")  # back goes to ana, past the absent ben
    s = r.standup
    assert s.order[s.current] == "ana" and update_of(s, "ben").absent and update_of(s, "ben").airtime_s == 0
    r.do("standup.turn", action="next", expect=0)  # next passes the absent ben by, too
    assert r.standup.order[r.standup.current] == "cai"
    r.do("standup.turn", action="join", member_id="ben")  # ben arrives after all: to the end
    s = r.standup
    assert s.order == ("ana", "cai", "ben") and not update_of(s, "ben").absent and update_of(s, "ben").late
    assert s.order[s.current] == "cai"
    r.do("standup.turn", action="next")
    assert r.standup.order[r.standup.current] == "ben"


def test_next_carries_the_turn_it_expects(clock):
    r = Round(clock, team(clock))
    r.start(MEMBERS)
    r.do("standup.turn", action="next", expect=0)
    with pytest.raises(RuleViolation, match="already changed"):
        r.do("standup.turn", action="next", expect=0)
    assert r.standup.current == 1


def test_back_returns_to_a_speaker_with_their_airtime_and_box(clock):
    r = Round(clock, team(clock))
    r.start(["ana", "ben"], length_min=5)
    clock.advance(60)
    r.do("standup.turn", action="next")
    clock.advance(10)
    r.do("standup.turn", action="back")
    clock.advance(5)
    s = r.standup
    tc = turn_clock(s, r.time.now(s))
    assert (tc.member_id, tc.elapsed_s, tc.box_s) == ("ana", 65.0, 150.0)
    with pytest.raises(RuleViolation, match="first speaker"):
        r.do("standup.turn", action="back")


def test_boxes_are_capped_by_the_time_the_meeting_has_left(clock):
    r = Round(clock, team(clock))
    r.start(["ana", "ben", "cai"], length_min=5)  # 100 s each
    clock.advance(250)
    r.do("standup.turn", action="next")  # ben: 100 s, 50 s left of the meeting after
    clock.advance(10)
    r.do("standup.turn", action="next")
    assert update_of(r.standup, "cai").box_s == 40.0


def test_plus_adds_a_minute_and_late_joiner_goes_to_the_end(clock):
    r = Round(clock, team(clock))
    r.start(["ana", "ben"], length_min=10)
    r.do("standup.timer", action="more")
    assert update_of(r.standup, "ana").box_s == 360.0
    r.do("standup.turn", action="join", member_id="eve")
    assert r.standup.order == ("ana", "ben", "eve") and update_of(r.standup, "eve").late
    with pytest.raises(RuleViolation, match="already in the queue"):
        r.do("standup.turn", action="join", member_id="eve")


def test_a_late_joiner_after_the_last_speaker_starts_speaking(clock):
    r = Round(clock, team(clock))
    r.start(["ana"], length_min=5)
    r.do("standup.turn", action="next")
    assert turn_clock(r.standup, 0) is None
    r.do("standup.turn", action="join", member_id="ben")
    assert r.standup.current == 1 and r.standup.running_since is not None


def test_the_clock_never_moves_on_by_itself(clock):
    r = Round(clock, team(clock))
    r.start(["ana", "ben"], length_min=5)
    clock.advance(3600)
    s = r.standup
    assert turn_clock(s, r.time.now(s)).member_id == "ana"


def test_yesterday_starts_from_last_times_today(clock):
    state = team(clock)
    state = apply(state, make_op("standup.record", clock, id="old", date="2026-11-27",
                                 updates=[{"member_id": "ana", "today": "Call Acme"}]))
    r = Round(clock, state)
    r.start(["ana", "ben"])
    assert update_of(r.standup, "ana").yesterday == "Call Acme"
    assert update_of(r.standup, "ben").yesterday == ""


def test_a_second_round_while_one_runs_is_refused(clock):
    r = Round(clock, team(clock))
    r.start(["ana"])
    with pytest.raises(RuleViolation, match="still running"):
        r.do("standup.start", id="s2", order=["ben"])


def test_nobody_present_is_refused(clock):
    with pytest.raises(RuleViolation, match="Nobody"):
        apply(team(clock), make_op("standup.start", clock, id="s1", order=[]))


def test_round_time_ignores_a_changed_wall_clock(clock):
    r = Round(clock, team(clock))
    r.start(["ana", "ben"])
    clock.advance(30)
    s = r.standup
    assert r.time.now(s) == 30
    clock.set_wall(clock.now() + timedelta(hours=2))
    assert r.time.now(s) == 30
    clock.advance(5)
    assert r.time.now(s) == 35


def test_a_reopened_app_trusts_the_same_monotonic_clock_over_a_changed_wall(clock):
    r = Round(clock, team(clock))
    r.start(["ana", "ben"])
    clock.advance(40)
    clock.set_wall(clock.now() - timedelta(minutes=30))
    reopened = RoundTime(clock)  # a new process on the same machine
    assert reopened.now(r.standup) == 40


def test_another_machine_goes_by_the_wall_clock(clock):
    r = Round(clock, team(clock))
    r.start(["ana", "ben"])
    clock.advance(40)
    other = FakeClock(clock.now(), mono=5.0)
    other.source = "another-boot"
    assert RoundTime(other).now(r.standup) == 40


def test_parking_lot_and_notes(clock):
    r = Round(clock, team(clock))
    r.start(["ana", "ben"])
    r.do("standup.park", text="  Pricing for multi-year deals ")
    r.do("standup.note", member_id="ana", today="Demo for 王芳 🚀")
    assert r.standup.parking == ("Pricing for multi-year deals",)
    assert update_of(r.standup, "ana").today == "Demo for 王芳 🚀"


def test_a_blocker_raised_in_the_round_is_a_record_and_in_the_summary(clock):
    r = Round(clock, team(clock))
    r.start(["ana", "ben"])
    r.do("blocker.open", id="b1", member_id="ana", text="Waiting on legal", standup_id="s1", helper_id="ben")
    assert update_of(r.standup, "ana").blockers == "Waiting on legal"
    r.do("standup.end")
    report = summary(r.state, r.standup)
    assert [b.id for b in report.opened] == ["b1"]
    assert r.state.blockers["b1"].helper_id == "ben"


def test_facilitator_rotates(clock):
    state = team(clock)
    assert next_facilitator(state) == "ana"
    state = apply(state, make_op("standup.record", clock, id="x", date="2026-11-27", facilitator_id="eve"))
    assert next_facilitator(state) == "ana"
    state = apply(state, make_op("standup.record", clock, id="y", date="2026-11-28", facilitator_id="ben"))
    assert next_facilitator(state) == "cai"


def test_blocker_age_counts_days_since_it_opened():
    from agile_tui.domain.model import Blocker

    b = Blocker(id="b", member_id="m", text="t", opened_on="2026-11-25")
    assert blocker_age(b, date(2026, 11, 28)) == 3


@pytest.mark.parametrize("seconds, text", [(180, "3:00"), (2.4, "0:03"), (0, "0:00"), (-0.5, "+0:00"),
                                           (-23.9, "+0:23"), (-61, "+1:01")])
def test_clock_text(seconds, text):
    assert clock_text(seconds) == text


def test_timer_ops_need_a_live_round(clock):
    r = Round(clock, team(clock))
    r.start(["ana"])
    r.do("standup.end")
    with pytest.raises(RuleViolation, match="has ended"):
        apply(r.state, make_op("standup.turn", clock, id="s1", action="next", at=1.0))


def test_round_time_never_goes_backwards(clock):
    r = Round(clock, team(clock))
    r.start(["ana", "ben"])
    r.state = apply(r.state, make_op("standup.turn", clock, id="s1", action="next", at=50.0))
    r.state = apply(r.state, make_op("standup.timer", clock, id="s1", action="pause", at=10.0))
    assert update_of(r.standup, "ben").airtime_s == 0.0  # `at` was clamped to 50


def test_start_time_is_the_ops_wall_clock(clock):
    r = Round(clock, team(clock))
    r.start(["ana"])
    assert datetime.fromisoformat(r.standup.started_at) == clock.now()
