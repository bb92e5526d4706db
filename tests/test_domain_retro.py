"""The retrospective in the domain: phases and readiness, the timer as state, cards, grouping, dot voting (budget,
cap, settings changed mid-vote, reveal), the discussion in vote order, close and the next retro's review, and
privacy (what each viewer sees, anonymity in exports)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from agile_tui.domain import (
    FakeClock,
    InvalidArgs,
    OpRejected,
    RuleViolation,
    State,
    UnknownEntity,
    apply,
    apply_all,
    make_op,
)
from agile_tui.domain import retro as q
from agile_tui.domain.demo import demo_ops
from agile_tui.domain.errors import NotReady
from agile_tui.domain.model import Retro
from agile_tui.domain.retro_report import retro_to_dict, retro_to_markdown, visible_retro
from agile_tui.domain.standup import RoundTime

T0 = "2026-11-30T09:00:00+00:00"
MEMBERS = {"ana": "Ana", "ben": "Ben", "cai": "Cai"}
TIMED = {"retro.phase", "retro.timer", "retro.discuss"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


def team(clock: FakeClock) -> State:
    ops = [make_op("member.add", clock, id=m, name=n) for m, n in MEMBERS.items()]
    ops += [make_op("sprint.create", clock, id="s1", name="Sprint 1", start="2026-11-16", days=14,
                    goal="Close ten deals."),
            make_op("sprint.start", clock, id="s1")]
    return apply_all(State(), ops)


class Session:
    """Drives one retro the way the app does: timed ops carry the round time from RoundTime."""

    def __init__(self, clock: FakeClock, state: State, retro_id: str = "r1") -> None:
        self.clock, self.state, self.id = clock, state, retro_id
        self.time = RoundTime(clock)

    @property
    def retro(self) -> Retro:
        return self.state.retros[self.id]

    def op(self, type_: str, actor: str = "fac", **args):
        if type_ not in ("retro.create", "retro.close"):
            args.setdefault("retro_id", self.id)
        if type_ in TIMED:
            args.setdefault("at", self.time.now(self.retro))
        return make_op(type_, self.clock, actor=actor, **args)

    def do(self, type_: str, actor: str = "fac", **args) -> State:
        self.state = apply(self.state, self.op(type_, actor, **args))
        return self.state

    def refuse(self, exc: type[OpRejected], type_: str, actor: str = "fac", **args) -> OpRejected:
        before = self.state
        with pytest.raises(exc) as info:
            apply(self.state, self.op(type_, actor, **args))
        assert isinstance(info.value, exc) and info.value.reason
        assert self.state is before
        return info.value

    def create(self, **args) -> State:
        return self.do("retro.create", id=self.id, sprint_id=args.pop("sprint_id", "s1"), **self.time.started(),
                       **args)

    def all_ready(self) -> None:
        for member_id in MEMBERS:
            self.do("retro.ready", member_id=member_id)

    def advance(self, to: str) -> None:
        while self.retro.phase != to:
            self.do("retro.phase", action="next", force=True)

    def cards(self, *specs) -> None:
        """(id, author, column, text) each."""
        for card_id, author, column, text in specs:
            self.do("retro.card", id=card_id, member_id=author, column=column, text=text)


@pytest.fixture
def s(clock) -> Session:
    session = Session(clock, team(clock))
    session.create()
    return session


BOARD = (("c1", "ana", "Went well", "Demos landed"), ("c2", "ben", "To improve", "Slow lead replies"),
         ("c3", "cai", "To improve", "Leads wait hours"), ("c4", "ana", "Try next", "Reply rota"))


def voting(s: Session) -> Session:
    """Four cards; c2 and c3 grouped into topic t1; now in the vote phase. Targets: t1, c1, c4."""
    s.cards(*BOARD)
    s.advance("group")
    s.do("retro.group", topic_id="t1", card_ids=["c2", "c3"], title="Lead response")
    s.advance("vote")
    return s


# ----------------------------------------------------------------------------- model and setup


def test_a_new_retro_opens_in_reflect_with_the_defaults(s):
    r = s.retro
    assert (r.phase, r.status, r.anonymous, r.revealed) == ("reflect", "open", True, False)
    assert (r.votes_per_person, r.max_votes_per_topic) == (5, 3)
    assert (r.reflect_min, r.group_min, r.vote_min, r.discuss_min) == (5, 5, 3, 5)
    assert r.timer_box_s == 300 and r.timer_since is None and r.review == ()
    assert q.retro_clock(r, 0).started is False


def test_a_retro_saved_before_phases_loads_with_defaults():
    old = {"id": "r0", "sprint_id": "s1", "template": "went-well", "columns": ["Went well", "To improve"],
           "status": "open", "anonymous": True, "cards": [{"id": "c1", "column": "Went well", "text": "Hi"}],
           "actions": [{"id": "a1", "title": "Do it", "owner": "", "due": None, "item_id": None}],
           "closed_on": None}
    r = Retro.from_dict(old)
    assert r.phase == "reflect" and r.votes == () and r.topics == () and r.votes_per_person == 5
    assert r.cards[0].author == "" and r.actions[0].topic_id is None
    assert Retro.from_dict(json.loads(json.dumps(r.to_dict()))) == r


def test_settings_at_creation_and_their_bounds(clock):
    s = Session(clock, team(clock))
    s.refuse(RuleViolation, "retro.create", id="r1", sprint_id="s1", votes_per_person=13)
    s.refuse(RuleViolation, "retro.create", id="r1", sprint_id="s1", max_votes_per_topic=0)
    s.refuse(RuleViolation, "retro.create", id="r1", sprint_id="s1", votes_per_person=2, max_votes_per_topic=3)
    s.refuse(InvalidArgs, "retro.create", id="r1", sprint_id="s1", votes_per_person="5")
    s.create(votes_per_person=12, max_votes_per_topic=12, anonymous=False, reflect_min=7, participants=["ana"])
    r = s.retro
    assert (r.votes_per_person, r.max_votes_per_topic, r.anonymous, r.timer_box_s) == (12, 12, False, 420)
    assert r.participants == ("ana",)
    err = s.refuse(RuleViolation, "retro.create", id="r2", sprint_id="s1")
    assert "already has an open retro" in err.reason


# ----------------------------------------------------------------------------- phases and readiness


def test_advancing_while_people_are_not_ready_needs_force(s):
    err = s.refuse(NotReady, "retro.phase", action="next")
    assert err.waiting == ("ana", "ben", "cai") and "Ana, Ben, Cai" in err.reason
    s.do("retro.ready", member_id="ana")
    s.do("retro.ready", member_id="ben")
    err = s.refuse(NotReady, "retro.phase", action="next")
    assert err.waiting == ("cai",) and err.code == "not_ready" and isinstance(err, RuleViolation)
    assert q.not_ready(s.state, s.retro) == ["cai"]
    s.do("retro.phase", action="next", force=True)
    assert s.retro.phase == "group" and s.retro.ready == ()  # ticks are per phase


def test_everyone_ready_advances_without_force_and_back_needs_none(s):
    s.all_ready()
    s.do("retro.phase", action="next")
    assert s.retro.phase == "group"
    s.do("retro.phase", action="back")
    assert s.retro.phase == "reflect"
    s.do("retro.ready", member_id="ana")
    s.do("retro.ready", member_id="ana", ready=False)
    assert s.retro.ready == ()


def test_participants_narrow_who_must_be_ready(s):
    s.do("retro.settings", participants=["ana", "ben"])
    s.do("retro.ready", member_id="ana")
    assert s.refuse(NotReady, "retro.phase", action="next").waiting == ("ben",)
    s.do("retro.ready", actor="ben")  # ticking for oneself: the actor
    s.do("retro.ready", member_id="ben")
    s.do("retro.phase", action="next")
    assert s.retro.phase == "group"


def test_phase_ends_and_compare_and_set(s):
    err = s.refuse(RuleViolation, "retro.phase", action="back")  # nothing to review: reflect comes first
    assert "no earlier actions" in err.reason
    s.do("retro.phase", action="next", force=True, expect="reflect")
    err = s.refuse(RuleViolation, "retro.phase", action="next", force=True, expect="reflect")
    assert "already moved to group" in err.reason
    s.advance("close")
    err = s.refuse(RuleViolation, "retro.phase", action="next", force=True)
    assert "last phase" in err.reason
    s.do("retro.phase", action="back")
    assert s.retro.phase == "discuss"


def test_review_is_the_first_phase(s):
    s.do("retro.action", id="a1", title="Reply rota", owner="ben")
    s.do("retro.close", id="r1")
    nxt = Session(s.clock, s.state, "r2")
    nxt.create()
    assert nxt.retro.phase == "review" and nxt.retro.timer_box_s == 0
    nxt.refuse(RuleViolation, "retro.phase", action="back")
    nxt.refuse(RuleViolation, "retro.timer", action="start")  # the review has no timer
    nxt.do("retro.phase", action="next")  # nobody has to tick ready in review
    assert nxt.retro.phase == "reflect"


# ----------------------------------------------------------------------------- the timer


def test_the_phase_timer_is_state_and_never_advances(s):
    s.do("retro.timer", action="start")
    s.clock.advance(100)
    s.do("retro.timer", action="pause")
    assert s.retro.timer_spent_s == 100 and s.retro.timer_since is None
    s.clock.advance(50)  # paused: does not count
    s.do("retro.timer", action="resume")
    s.clock.advance(30)
    clock = q.retro_clock(s.retro, s.time.now(s.retro))
    assert (clock.elapsed_s, clock.remaining_s, clock.band, clock.running) == (130, 170, "green", True)
    s.do("retro.timer", action="more")  # one more minute outside discuss
    assert s.retro.timer_box_s == 360
    s.clock.advance(225)
    assert q.retro_clock(s.retro, s.time.now(s.retro)).band == "amber"
    s.clock.advance(100)
    clock = q.retro_clock(s.retro, s.time.now(s.retro))
    assert clock.band == "red" and clock.remaining_s < 0 and s.retro.phase == "reflect"
    s.refuse(RuleViolation, "retro.timer", action="resume")
    s.do("retro.timer", action="pause")
    s.refuse(RuleViolation, "retro.timer", action="pause")
    s.do("retro.timer", action="start")  # restarts from zero
    assert s.retro.timer_spent_s == 0 and s.retro.timer_since is not None


def test_each_phase_gets_its_own_timer_length_and_settings_follow_an_unstarted_timer(s):
    s.do("retro.settings", reflect_min=8)
    assert s.retro.timer_box_s == 480
    s.do("retro.timer", action="start")
    s.do("retro.settings", reflect_min=2)
    assert s.retro.timer_box_s == 480  # a running timer keeps its length
    s.advance("group")
    assert s.retro.timer_box_s == 300 and s.retro.timer_since is None
    s.advance("vote")
    assert s.retro.timer_box_s == 180
    s.refuse(RuleViolation, "retro.settings", vote_min=31)


def test_timed_ops_need_their_round_time(s):
    s.refuse(InvalidArgs, "retro.timer", action="start", at=None)
    s.do("retro.timer", action="start", at=40)
    s.do("retro.timer", action="pause", at=10)  # never backwards: taken as 40
    assert s.retro.timer_spent_s == 0 and s.retro.clock_at == 40


# ----------------------------------------------------------------------------- cards


def test_cards_are_written_in_reflect_and_group_only(s):
    s.do("retro.card", id="c1", column="Went well", text="Nice demo")
    assert s.retro.cards[0].author == "fac"
    s.do("retro.card", id="c2", column="To improve", text="Slow", member_id="ben")
    assert s.retro.cards[1].author == "ben"
    s.refuse(RuleViolation, "retro.card", id="c1", column="Went well", text="Again")
    s.refuse(InvalidArgs, "retro.card", id="c3", column="Nope", text="x")
    s.advance("group")
    s.do("retro.card", id="c3", column="Try next", text="Late idea")
    s.advance("vote")
    err = s.refuse(RuleViolation, "retro.card", id="c4", column="Try next", text="Too late")
    assert "reflect or group" in err.reason
    s.refuse(RuleViolation, "retro.card_update", id="c1", text="Edit")


def test_card_edit_and_delete(s):
    s.cards(*BOARD)
    s.do("retro.card_update", id="c1", text="Demos landed well", column="Try next")
    assert (s.retro.cards[0].text, s.retro.cards[0].column) == ("Demos landed well", "Try next")
    s.advance("group")
    s.do("retro.group", topic_id="t1", card_ids=["c2", "c3"])
    s.do("retro.card_update", id="c2", delete=True)
    assert [c.id for c in s.retro.cards] == ["c1", "c3", "c4"]
    assert q.topic(s.retro, "t1").card_ids == ("c3",)
    s.do("retro.card_update", id="c3", delete=True)
    assert s.retro.topics == ()  # an empty topic is gone
    s.refuse(RuleViolation, "retro.card_update", id="ghost", text="x")


# ----------------------------------------------------------------------------- grouping


def test_grouping_merges_cards_and_topics_and_ungroup_splits_them(s):
    s.cards(*BOARD)
    s.refuse(RuleViolation, "retro.group", topic_id="t1", card_ids=["c2", "c3"])  # not in reflect
    s.advance("group")
    s.do("retro.group", topic_id="t1", card_ids=["c2", "c3"])
    t1 = q.topic(s.retro, "t1")
    assert t1.title == "Slow lead replies" and t1.card_ids == ("c2", "c3")  # named after its first card
    assert q.targets(s.retro) == ["t1", "c1", "c4"]
    s.do("retro.group", topic_id="t2", card_ids=["c4"], title="Rota")
    s.do("retro.group", topic_id="t1", topic_ids=["t2"], card_ids=["c1"], title="Leads")
    assert [t.id for t in s.retro.topics] == ["t1"]
    assert q.topic(s.retro, "t1").card_ids == ("c2", "c3", "c1", "c4") and q.topic(s.retro, "t1").title == "Leads"
    s.do("retro.ungroup", card_id="c1")
    assert q.target_of(s.retro, "c1") == "c1" and q.targets(s.retro) == ["t1", "c1"]
    s.do("retro.group", topic_id="t3", card_ids=["c2"])  # a card moves from one topic to another
    assert q.topic(s.retro, "t1").card_ids == ("c3", "c4") and q.topic(s.retro, "t3").card_ids == ("c2",)
    s.do("retro.topic", topic_id="t3", title="Replies")
    assert q.target_title(s.retro, "t3") == "Replies"
    s.refuse(RuleViolation, "retro.ungroup", card_id="c1")  # in no topic
    s.refuse(RuleViolation, "retro.group", topic_id="c1", card_ids=["c2"])  # a card's id
    s.refuse(RuleViolation, "retro.group", topic_id="t3", card_ids=["c2"])  # nothing moves
    s.refuse(RuleViolation, "retro.group", topic_id="t4", card_ids=["ghost"])
    s.refuse(RuleViolation, "retro.card", id="t3", column="Went well", text="id clash")


def test_each_card_is_in_at_most_one_topic(s):
    s.cards(*BOARD)
    s.advance("group")
    s.do("retro.group", topic_id="t1", card_ids=["c1", "c2"])
    s.do("retro.group", topic_id="t2", card_ids=["c2", "c3", "c2"])
    grouped = [c for t in s.retro.topics for c in t.card_ids]
    assert sorted(grouped) == ["c1", "c2", "c3"]


def test_voted_or_discussed_topics_cannot_be_regrouped(s):
    voting(s)
    s.do("retro.vote", actor="ana", topic_id="t1", count=2)
    s.do("retro.phase", action="back")  # back to group
    err = s.refuse(RuleViolation, "retro.ungroup", card_id="c2")
    assert "has 2 votes" in err.reason
    s.refuse(RuleViolation, "retro.group", topic_id="t1", card_ids=["c1"])
    s.refuse(RuleViolation, "retro.card_update", id="c3", delete=True)
    s.do("retro.group", topic_id="t9", card_ids=["c1", "c4"])  # untouched cards still group
    s.do("retro.card_update", id="c2", text="Slow replies")  # a text fix is fine


# ----------------------------------------------------------------------------- voting


def test_votes_are_set_within_budget_and_cap(s):
    voting(s)
    s.do("retro.vote", actor="ana", topic_id="t1", count=3)
    s.do("retro.vote", actor="ana", topic_id="t1", count=3)  # set, not added
    assert q.votes_of(s.retro, "ana") == {"t1": 3}
    err = s.refuse(RuleViolation, "retro.vote", actor="ana", topic_id="c1", count=4)
    assert "At most 3 votes on one topic" in err.reason
    s.do("retro.vote", actor="ana", topic_id="c1", count=2)
    err = s.refuse(RuleViolation, "retro.vote", actor="ana", topic_id="c4", count=1)
    assert err.reason.startswith("You have 5 votes in all, and that would make 6")
    s.do("retro.vote", actor="ana", topic_id="t1", count=2)  # take one back...
    s.do("retro.vote", actor="ana", topic_id="c4", count=1)  # ...and place it elsewhere
    assert q.votes_used(s.retro, "ana") == 5 and q.votes_left(s.retro, "ana") == 0
    s.do("retro.vote", actor="ana", topic_id="c4", count=0)
    assert q.votes_of(s.retro, "ana") == {"t1": 2, "c1": 2}  # zero leaves no vote behind
    s.refuse(InvalidArgs, "retro.vote", actor="ana", topic_id="c4", count=-1)
    s.refuse(InvalidArgs, "retro.vote", actor="ana", topic_id="c4", count=1.5)
    s.refuse(RuleViolation, "retro.vote", actor="ana", topic_id="c2", count=1)  # grouped: vote on t1
    s.refuse(RuleViolation, "retro.vote", actor="ana", topic_id="ghost", count=1)


def test_a_whole_allocation_and_acting_as_a_member(s):
    voting(s)
    s.do("retro.vote", member_id="ben", votes={"t1": 3, "c4": 2})
    assert q.votes_of(s.retro, "ben") == {"t1": 3, "c4": 2} and q.votes_of(s.retro, "fac") == {}
    err = s.refuse(RuleViolation, "retro.vote", member_id="ben", topic_id="c1", count=1)
    assert err.reason.startswith("Ben has 5 votes in all")
    s.refuse(RuleViolation, "retro.vote", member_id="cai", votes={"t1": 3, "c1": 3})
    s.refuse(RuleViolation, "retro.vote", member_id="cai", votes={"t1": 4})
    s.refuse(InvalidArgs, "retro.vote", member_id="cai", votes=["t1"])
    s.do("retro.vote", member_id="ben", votes={"c1": 1})  # replaces the whole allocation
    assert q.votes_of(s.retro, "ben") == {"c1": 1}
    s.refuse(UnknownEntity, "retro.vote", member_id="ghost", topic_id="c1", count=1)


def test_votes_only_in_the_vote_phase(s):
    s.cards(*BOARD)
    err = s.refuse(RuleViolation, "retro.vote", topic_id="c1", count=1)
    assert "vote phase" in err.reason
    s.refuse(RuleViolation, "retro.reveal")
    voting_done = s
    voting_done.advance("vote")
    voting_done.do("retro.vote", topic_id="c1", count=1)
    voting_done.advance("discuss")
    voting_done.refuse(RuleViolation, "retro.vote", topic_id="c1", count=2)


def test_settings_mid_vote(s):
    voting(s)
    s.do("retro.vote", member_id="ana", votes={"t1": 3, "c1": 1})
    s.do("retro.vote", member_id="ben", votes={"c4": 2})
    err = s.refuse(RuleViolation, "retro.settings", max_votes_per_topic=2)
    assert "Someone already has 3 votes on one topic" in err.reason and "2" in err.reason  # secret till reveal
    err = s.refuse(RuleViolation, "retro.settings", votes_per_person=3)
    assert "Someone has already used 4 votes" in err.reason
    err = s.refuse(RuleViolation, "retro.settings", votes_per_person=4, max_votes_per_topic=5)
    assert "can't be more than the votes per person" in err.reason
    s.refuse(RuleViolation, "retro.settings", max_votes_per_topic=0)
    s.refuse(RuleViolation, "retro.settings", votes_per_person=13)
    s.do("retro.settings", votes_per_person=4)  # Ana uses exactly 4: allowed
    s.refuse(RuleViolation, "retro.vote", member_id="ana", topic_id="c4", count=1)
    s.do("retro.settings", votes_per_person=8, max_votes_per_topic=4)
    s.do("retro.vote", member_id="ana", topic_id="t1", count=4)
    assert q.votes_used(s.retro, "ana") == 5


def test_reveal_and_what_each_viewer_sees_of_votes(s):
    voting(s)
    s.do("retro.vote", actor="ana", votes={"t1": 3, "c1": 2})
    s.do("retro.vote", actor="ben", votes={"c4": 1})
    s.do("retro.ready", actor="ana")
    view = visible_retro(s.retro, "ben", facilitator=False)
    assert [(v.member_id, v.topic_id) for v in view.retro.votes] == [("ben", "c4")]
    assert view.votes_hidden and view.votes_cast == 6 and view.finished == ("ana",) and view.votes_used == ()
    fac = visible_retro(s.retro, "cai", facilitator=True)
    assert fac.retro.votes == () and fac.votes_used == (("ana", 5), ("ben", 1))
    exported = retro_to_dict(s.state, s.retro)
    assert all(t["votes"] is None for t in exported["topics"]) and exported["votes_revealed"] is False
    assert "ana" not in json.dumps(exported["topics"])
    s.do("retro.reveal")
    s.refuse(RuleViolation, "retro.reveal")
    view = visible_retro(s.retro, "ben", facilitator=False)
    assert not view.votes_hidden and len(view.retro.votes) == 3
    totals = {t["id"]: t["votes"] for t in retro_to_dict(s.state, s.retro)["topics"]}
    assert totals == {"t1": 3, "c1": 2, "c4": 1}


# ----------------------------------------------------------------------------- discussion


def test_discussion_follows_the_votes_with_ties_in_board_order(s):
    voting(s)
    s.do("retro.vote", member_id="ana", votes={"c4": 2})
    s.do("retro.vote", member_id="ben", votes={"c1": 2})
    assert q.targets(s.retro) == ["t1", "c1", "c4"]
    assert q.discussion_order(s.retro) == ["c1", "c4", "t1"]  # c1 and c4 tie on 2: board order
    s.do("retro.phase", action="next", force=True)
    r = s.retro
    assert r.phase == "discuss" and r.revealed and r.discussing == "c1" and r.timer_box_s == 300
    assert r.timer_since is None  # the facilitator starts the clock
    s.do("retro.timer", action="start")
    s.clock.advance(200)
    s.do("retro.timer", action="more")  # + two minutes on this topic
    assert s.retro.timer_box_s == 420
    s.do("retro.note", topic_id="c1", text="Keep pairing on demos")
    s.do("retro.discuss", action="next", expect="c1")
    r = s.retro
    assert r.discussing == "c4" and r.timer_spent_s == 0 and r.timer_box_s == 300 and r.timer_since is not None
    err = s.refuse(RuleViolation, "retro.discuss", action="next", expect="c1")
    assert "already changed" in err.reason
    s.clock.advance(60)
    s.do("retro.discuss", action="back")
    r = s.retro
    assert r.discussing == "c1" and r.timer_spent_s == 200 and r.timer_box_s == 420  # where it was
    assert q.talk_time_s(r, "c4", s.time.now(r)) == 60
    s.refuse(RuleViolation, "retro.discuss", action="back")
    s.do("retro.phase", action="back")  # to vote and back: each topic keeps its time
    s.do("retro.phase", action="next", force=True)
    r = s.retro
    assert r.discussing == "c1" and r.timer_spent_s == 200 and r.timer_box_s == 420 and r.timer_since is None
    assert q.talk_of(r, "c4").spent_s == 60
    s.do("retro.discuss", action="jump", topic_id="t1")
    s.refuse(RuleViolation, "retro.discuss", action="next")  # the last topic
    s.refuse(RuleViolation, "retro.discuss", action="jump", topic_id="c2")  # grouped into t1
    s.do("retro.action", id="a1", title="Pair on every demo", owner="ana", topic_id="c1", due="2026-12-10")
    s.refuse(RuleViolation, "retro.action", id="a2", title="x", topic_id="ghost")
    s.refuse(RuleViolation, "retro.note", topic_id="ghost", text="x")
    assert q.talk_of(s.retro, "c1").notes == "Keep pairing on demos"


def test_notes_only_while_discussing(s):
    s.cards(*BOARD)
    s.refuse(RuleViolation, "retro.note", topic_id="c1", text="Too early")


# ----------------------------------------------------------------------------- actions, close and review


def whole_retro(s: Session) -> Session:
    voting(s)
    s.do("retro.vote", member_id="ana", votes={"t1": 3})
    s.advance("discuss")
    s.do("retro.action", id="a1", title="Inbound reply rota", owner="ben", due="2026-12-04", topic_id="t1")
    s.do("retro.action", id="a2", title="Demo checklist", owner="cai")
    s.do("retro.action_update", id="a2", title="Demo checklist v2")
    s.do("retro.action", id="a3", title="Scrap me")
    s.do("retro.action_update", id="a3", delete=True)
    s.advance("close")
    s.do("retro.close", id="r1")
    return s


def test_close_turns_actions_into_next_sprint_items_shown_in_the_next_review(s):
    whole_retro(s)
    state = s.state
    r = state.retros["r1"]
    assert (r.status, r.phase) == ("closed", "close")
    items = [state.items[a.item_id] for a in r.actions]
    assert [(i.title, i.owner, i.sprint_id) for i in items] == [
        ("Inbound reply rota", "ben", "s1-next"), ("Demo checklist v2", "cai", "s1-next")]
    assert state.sprints["s1-next"].status == "planned"
    # Sprint 1 ends; the next sprint runs; its retro reviews those actions.
    s.do("sprint.close", id="s1", carry={})
    s.do("sprint.update", id="s1-next", goal="Reply to every lead in an hour.")
    s.do("sprint.start", id="s1-next")
    s.do("item.update", id="r1-a1", status="done")
    nxt = Session(s.clock, s.state, "r2")
    nxt.create(sprint_id="s1-next")
    review = nxt.retro.review
    assert nxt.retro.phase == "review"
    assert [(e.retro_id, e.action_id, e.title, e.owner, e.item_id) for e in review] == [
        ("r1", "a1", "Inbound reply rota", "ben", "r1-a1"), ("r1", "a2", "Demo checklist v2", "cai", "r1-a2")]
    nxt.do("retro.review", action_id="a1", outcome="done")
    nxt.do("retro.review", action_id="a2", outcome="done")
    assert nxt.state.items["r1-a2"].status == "done"  # marking done completes the item
    nxt.do("retro.review", action_id="a2", outcome="carried")
    assert [e.outcome for e in nxt.retro.review] == ["done", "carried"]
    nxt.refuse(RuleViolation, "retro.review", action_id="ghost")
    nxt.refuse(InvalidArgs, "retro.review", action_id="a1", outcome="maybe")


def test_carried_actions_come_back_until_done(s):
    whole_retro(s)
    s.do("sprint.close", id="s1", carry={})
    s.do("sprint.update", id="s1-next", goal="Reply to every lead in an hour.")
    s.do("sprint.start", id="s1-next")
    s.do("sprint.close", id="s1-next", carry={"r1-a1": "backlog", "r1-a2": "backlog"})
    r2 = Session(s.clock, s.state, "r2")
    r2.create(sprint_id="s1-next")
    r2.do("retro.review", action_id="a1", outcome="carried")
    r2.do("retro.review", action_id="a2", outcome="done")
    r2.do("retro.close", id="r2")
    state = r2.state
    target = state.items["r1-a1"].sprint_id
    assert target is not None and state.sprints[target].status == "planned"  # out of the backlog, into next
    assert state.items["r1-a2"].status == "done"
    s3 = Session(s.clock, state, "r3")
    s3.create(sprint_id=target)
    assert [(e.retro_id, e.action_id) for e in s3.retro.review] == [("r1", "a1")]


def test_a_closed_retro_is_history(s):
    whole_retro(s)
    for type_, args in (("retro.card", {"id": "c9", "column": "Went well", "text": "x"}),
                        ("retro.vote", {"topic_id": "t1", "count": 1}), ("retro.settings", {"votes_per_person": 6}),
                        ("retro.phase", {"action": "back"}), ("retro.action", {"id": "a9", "title": "x"})):
        assert "closed" in s.refuse(RuleViolation, type_, **args).reason
    s.refuse(RuleViolation, "retro.close", id="r1")


def test_closing_without_actions_creates_no_sprint(s):
    s.do("retro.close", id="r1")
    assert "s1-next" not in s.state.sprints


# ----------------------------------------------------------------------------- privacy and exports


def test_in_reflect_nobody_sees_anothers_cards(s):
    s.cards(*BOARD)
    view = visible_retro(s.retro, "ana", facilitator=False)
    assert [c.id for c in view.retro.cards] == ["c1", "c4"] and view.hidden_cards == 2
    assert visible_retro(s.retro, "cai", facilitator=True).hidden_cards == 3
    data = retro_to_dict(s.state, s.retro, viewer="ana")
    assert sum(len(c["cards"]) for c in data["columns"]) == 2 and data["hidden_cards"] == 2
    assert "Slow lead replies" not in retro_to_markdown(s.state, s.retro, viewer="ana")
    s.advance("group")
    assert visible_retro(s.retro, "ana", facilitator=False).hidden_cards == 0


def test_anonymous_retros_carry_no_authors_for_others(s):
    s.cards(*BOARD)
    s.advance("group")
    view = visible_retro(s.retro, "ana", facilitator=True)
    assert {c.id: c.author for c in view.retro.cards} == {"c1": "ana", "c2": "", "c3": "", "c4": "ana"}
    whole = s.retro
    data = retro_to_dict(s.state, whole)
    text = json.dumps(data, ensure_ascii=False) + retro_to_markdown(s.state, whole)
    for member_id, name in MEMBERS.items():
        assert name not in text and f'"{member_id}"' not in text
    err = s.refuse(RuleViolation, "retro.settings", anonymous=False)
    assert "anonymous" in err.reason


def test_an_open_retro_names_authors(clock):
    s = Session(clock, team(clock))
    s.create(anonymous=False)
    s.cards(*BOARD)
    s.advance("group")
    data = retro_to_dict(s.state, s.retro)
    assert data["columns"][0]["cards"][0]["author"] == {"id": "ana", "name": "Ana"}
    assert "Demos landed — Ana" in retro_to_markdown(s.state, s.retro)
    s.do("retro.settings", anonymous=True)  # turning it on is always allowed


def test_exports_of_a_whole_retro(s):
    whole_retro(s)
    r = s.state.retros["r1"]
    data = retro_to_dict(s.state, r)
    json.dumps(data)
    assert [c["name"] for c in data["columns"]] == ["Went well", "To improve", "Try next"]
    assert data["topics"][0] == {"id": "t1", "kind": "topic", "title": "Lead response", "votes": 3,
                                 "cards": ["c2", "c3"], "notes": "", "discussed_s": 0, "actions": ["a1"]}
    assert data["actions"][0]["owner"] == {"id": "ben", "name": "Ben"}
    assert data["actions"][0]["item"] == {"id": "r1-a1", "status": "todo", "sprint": "s1-next"}
    md = retro_to_markdown(s.state, r)
    assert "### 1. Lead response — 3 votes" in md and "| Inbound reply rota | Ben | 2026-12-04 |" in md
    assert "closed on" in md and q.find_retro(s.state, "Sprint 1") is r and q.find_retro(s.state) is r
    assert q.find_retro(s.state, "nope") is None


def test_markdown_keeps_user_text_as_text(s):
    s.do("retro.card", id="c1", column="Went well", text="[bold]*not* emphasis[/] | pipe\n# heading")
    md = retro_to_markdown(s.state, s.retro)
    assert "\\*not\\* emphasis" in md and "\\| pipe" in md and "\n# heading" not in md


# ----------------------------------------------------------------------------- undo, replay, the demo


def test_board_edits_undo_and_timed_ops_do_not(s):
    s.do("retro.card", id="c1", column="Went well", text="Nice")
    s.do("undo")
    assert s.retro.cards == ()
    s.do("redo")
    s.do("retro.timer", action="start")
    assert [e["label"] for e in s.state.undo["fac"]][-1].startswith("retro card")


def test_replaying_the_ops_gives_the_same_retro(clock):
    s = Session(clock, team(clock))
    ops: list = []
    original = s.do

    def recording(type_, actor="fac", **args):
        op = s.op(type_, actor, **args)
        ops.append(op)
        s.state = apply(s.state, op)
        return s.state

    s.do = recording
    s.create()
    whole_retro(s)
    replayed = apply_all(team(FakeClock(T0)), ops)
    assert replayed.retros == s.state.retros
    assert State.from_dict(json.loads(json.dumps(s.state.to_dict()))) == s.state
    s.do = original


def test_the_demo_retro_is_complete():
    state = apply_all(State(), demo_ops(date(2026, 11, 28)))
    r = state.retros["retro-1"]
    assert r.status == "closed" and all(a.item_id for a in r.actions)
    data = retro_to_dict(state, r)
    assert data["votes_revealed"] and data["topics"] and data["actions"]
