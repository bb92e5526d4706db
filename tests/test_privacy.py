"""What each participant of a shared room may see (domain/privacy.py): unshared retro cards, anonymous authors,
votes before the reveal, draft standup notes, the undo history; and how each op reaches a viewer (as is, as a
patch, or as a refetch) so that their view stays exactly ``view_for`` of the hub's room and carries nothing
private of anyone else."""

from __future__ import annotations

import json
import random

import pytest

from agile_tui.domain import FakeClock, OpRejected, State, apply, apply_all, make_op
from agile_tui.domain.privacy import (
    apply_patch,
    hidden_summary,
    op_visible_to,
    redact,
    turn_started,
    view_for,
)

T0 = "2026-11-30T09:00:00+00:00"
PEOPLE = ("ana", "ben", "cai")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


def room(clock, anonymous: bool = True) -> State:
    ops = [make_op("member.add", clock, id=m, name=m.title()) for m in PEOPLE]
    ops += [make_op("sprint.create", clock, id="s1", name="Sprint 1", start="2026-11-16", days=14,
                    goal="Close ten deals."),
            make_op("sprint.start", clock, id="s1"),
            make_op("retro.create", clock, actor="ana", id="r1", sprint_id="s1", anonymous=anonymous)]
    return apply_all(State(), ops)


def do(state: State, clock, type_: str, actor: str = "ana", **args) -> State:
    if type_.startswith("retro.") and type_ not in ("retro.create", "retro.close"):
        args.setdefault("retro_id", "r1")
    if type_ in ("retro.phase", "retro.timer", "retro.discuss") or type_.startswith("standup.") and type_ not in (
            "standup.note", "standup.park"):
        args.setdefault("at", 1.0)
    return apply(state, make_op(type_, clock, actor=actor, **args))


def text_of(state: State) -> str:
    return json.dumps(state.to_dict(), ensure_ascii=False)


def cards(state, clock, *specs) -> State:
    for card_id, author, text in specs:
        state = do(state, clock, "retro.card", actor=author, id=card_id, column="Went well", text=text)
    return state


def phase(state, clock, to: str) -> State:
    while state.retros["r1"].phase != to:
        state = do(state, clock, "retro.phase", action="next", force=True)
    return state


# ----------------------------------------------------------------------------- views


def test_in_reflect_only_ones_own_cards_show_and_others_are_counted(clock):
    s = cards(room(clock), clock, ("c1", "ana", "ana-secret"), ("c2", "ben", "ben-secret"),
              ("c3", "ben", "ben-other"))
    ana = view_for(s, "ana")
    assert [c.id for c in ana.retros["r1"].cards] == ["c1"]
    assert "ben-secret" not in text_of(ana) and "ben-other" not in text_of(ana)
    assert hidden_summary(s, "ana")["r1"]["cards"] == {"ben": 2}
    assert hidden_summary(s, "ben")["r1"]["cards"] == {"ana": 1}
    fac = view_for(s, "cai", facilitator=True)  # the facilitator sees no more than anyone
    assert fac.retros["r1"].cards == () and "secret" not in text_of(fac)


def test_anonymous_authors_are_blank_for_all_but_the_author_in_every_phase(clock):
    s = phase(cards(room(clock), clock, ("c1", "ana", "a"), ("c2", "ben", "b")), clock, "group")
    ana = view_for(s, "ana").retros["r1"]
    assert {c.id: c.author for c in ana.cards} == {"c1": "ana", "c2": ""}
    s = do(s, clock, "retro.close", id="r1")
    assert {c.id: c.author for c in view_for(s, "cai", facilitator=True).retros["r1"].cards} == {"c1": "", "c2": ""}
    named = phase(cards(room(clock, anonymous=False), clock, ("c1", "ana", "a"), ("c2", "ben", "b")), clock, "group")
    assert {c.author for c in view_for(named, "cai").retros["r1"].cards} == {"ana", "ben"}


def test_votes_of_others_are_hidden_until_the_reveal_but_ticks_and_counts_show(clock):
    s = phase(cards(room(clock), clock, ("c1", "ana", "a"), ("c2", "ben", "b")), clock, "vote")
    s = do(s, clock, "retro.vote", actor="ben", topic_id="c1", count=2)
    s = do(s, clock, "retro.vote", actor="ana", topic_id="c2", count=1)
    s = do(s, clock, "retro.ready", actor="ben")
    ana = view_for(s, "ana").retros["r1"]
    assert [(v.member_id, v.topic_id) for v in ana.votes] == [("ana", "c2")] and ana.ready == ("ben",)
    summary = hidden_summary(s, "ana")["r1"]
    assert summary["votes_hidden"] and summary["votes_cast"] == 3 and summary["votes_used"] == {}
    assert hidden_summary(s, "cai", facilitator=True)["r1"]["votes_used"] == {"ana": 1, "ben": 2}
    s = do(s, clock, "retro.reveal")
    assert len(view_for(s, "cai").retros["r1"].votes) == 2 and "r1" not in hidden_summary(s, "cai")


def test_standup_notes_are_drafts_until_their_members_turn_has_started(clock):
    s = do(room(clock), clock, "standup.start", id="st", order=["ana", "ben"])
    s = do(s, clock, "standup.note", actor="ben", id="st", member_id="ben", today="ben-draft")
    s = do(s, clock, "standup.note", actor="cai", id="st", member_id="cai", today="cai-draft")  # absent
    s = do(s, clock, "blocker.open", actor="ben", id="b1", member_id="ben", text="ben-blocked", standup_id="st")
    live = s.standups["st"]
    assert turn_started(live, "ana") and not turn_started(live, "ben") and not turn_started(live, "cai")
    ana = view_for(s, "ana")
    assert "ben-draft" not in text_of(ana) and "cai-draft" not in text_of(ana) and "ben-blocked" not in text_of(ana)
    assert "b1" not in ana.blockers
    ben = view_for(s, "ben")
    assert "ben-draft" in text_of(ben) and "ben-blocked" in text_of(ben) and "cai-draft" not in text_of(ben)
    s = do(s, clock, "standup.turn", id="st", action="next")
    assert "ben-draft" in text_of(view_for(s, "ana")) and "cai-draft" not in text_of(view_for(s, "ana"))
    s = do(s, clock, "standup.end", id="st")
    assert "cai-draft" in text_of(view_for(s, "ana"))


def test_only_ones_own_undo_history_is_kept_and_it_is_viewed_too(clock):
    s = cards(room(clock), clock, ("c1", "ana", "ana-card"), ("c2", "ben", "ben-card"))
    s = do(s, clock, "item.add", actor="ben", id="i1", title="ben-item")
    ana = view_for(s, "ana")
    assert set(ana.undo) == {"ana"} and "ben-card" not in text_of(ana)
    assert "ana-card" in json.dumps(list(ana.undo["ana"]))
    assert set(view_for(s, "ben").undo) == {"ben"}


# ----------------------------------------------------------------------------- ops


def test_how_ops_reach_each_viewer(clock):
    s0 = room(clock)
    op = make_op("retro.card", clock, actor="ben", retro_id="r1", id="c2", column="Went well", text="ben-secret")
    s1 = apply(s0, op)
    to_ana = redact(op, s0, s1, "ana")
    assert to_ana.op is None and to_ana.patch == {} and to_ana.hidden["r1"]["cards"] == {"ben": 1}
    assert "ben-secret" not in json.dumps([to_ana.patch, to_ana.hidden])
    assert redact(op, s0, s1, "ben").op is op  # its author replays it
    grouping = phase(s1, clock, "group")
    late = make_op("retro.card", clock, actor="ben", retro_id="r1", id="c3", column="Went well", text="late")
    assert not op_visible_to(late, grouping, apply(grouping, late), "ana")  # shared, but it names its author
    named = phase(room(clock, anonymous=False), clock, "group")
    assert op_visible_to(late, named, apply(named, late), "ana")
    item = make_op("item.add", clock, actor="ben", id="i1", title="Public")
    assert redact(item, s1, apply(s1, item), "ana").op is item
    undo = make_op("undo", clock, actor="ben")
    assert redact(undo, s1, apply(s1, undo), "ana").refetch
    s2 = phase(s1, clock, "group")
    shared = redact(make_op("retro.phase", clock), s1, s2, "ana")
    assert shared.op is None and shared.patch["retros"]["r1"]["cards"][0]["text"] == "ben-secret"


def test_a_change_that_changes_nothing_carries_no_args():
    clock = FakeClock(T0)
    s = do(room(clock), clock, "standup.start", id="st", order=["ana", "ben"])
    s = do(s, clock, "standup.note", actor="ben", id="st", member_id="ben", today="draft")
    same = make_op("standup.note", clock, actor="ben", id="st", member_id="ben", today="draft")
    assert apply(s, same) is s
    assert redact(same, s, s, "ana").patch == {} and redact(same, s, s, "ana").op is None


# ----------------------------------------------------------------------------- random rooms


def random_op(rng: random.Random, state: State, clock, n: int):
    retro = state.retros["r1"]
    who = rng.choice(PEOPLE)
    token = f"tok{n}x"
    live = [s for s in state.standups.values() if s.status == "live"]
    cards_ = [c for c in retro.cards]
    choices = [
        ("retro.card", who, dict(retro_id="r1", id=f"c{n}", column="Went well", text=token)),
        ("retro.ready", who, dict(retro_id="r1")),
        ("retro.phase", "ana", dict(retro_id="r1", action=rng.choice(["next", "next", "back"]), force=True, at=n)),
        ("retro.reveal", "ana", dict(retro_id="r1")),
        ("item.add", who, dict(id=f"i{n}", title=token)),
        ("undo", who, {}),
    ]
    if cards_:
        card = rng.choice(cards_)
        choices += [("retro.card_update", card.author, dict(retro_id="r1", id=card.id, text=token)),
                    ("retro.vote", who, dict(retro_id="r1", topic_id=card.id, count=rng.randint(0, 2))),
                    ("retro.group", who, dict(retro_id="r1", topic_id=f"t{n}", card_ids=[card.id]))]
    if live:
        st = live[0]
        choices += [("standup.note", who, dict(id=st.id, member_id=who, today=token)),
                    ("standup.turn", "ana", dict(id=st.id, action="next", at=n)),
                    ("blocker.open", who, dict(id=f"b{n}", member_id=who, text=token, standup_id=st.id)),
                    ("standup.end", "ana", dict(id=st.id, at=n))]
    else:
        choices.append(("standup.start", "ana", dict(id=f"st{n}", order=list(rng.sample(PEOPLE, 2)))))
    type_, actor, args = rng.choice(choices)
    return make_op(type_, clock, actor=actor, **args)


@pytest.mark.parametrize("seed", range(12))
def test_every_viewer_folding_what_they_are_sent_ends_at_their_view_and_sees_nothing_private(seed):
    """Random rooms: three members (one the facilitator) write cards, vote, tick, group, take notes, undo; the
    facilitator moves phases and turns. For each op of the log and each viewer: the redaction applied to the
    viewer's view gives exactly their view of the new room, a payload holds no text the viewer may not see,
    another member's vote or (anonymous) card op is never sent as is, and undo always refetches."""
    rng = random.Random(seed)
    clock = FakeClock(T0)
    state = room(clock, anonymous=seed % 2 == 0)
    views = {p: view_for(state, p, facilitator=p == "ana") for p in PEOPLE}
    applied = 0
    for n in range(120):
        op = random_op(rng, state, clock, n)
        try:
            after = apply(state, op)
        except OpRejected:
            continue
        applied += 1
        for viewer in PEOPLE:
            fac = viewer == "ana"
            got = redact(op, state, after, viewer, facilitator=fac)
            expected = view_for(after, viewer, facilitator=fac)
            if got.refetch:
                views[viewer] = expected
                assert op.type in ("undo", "redo")
                continue
            if got.op is not None:
                views[viewer] = apply(views[viewer], got.op)
                payload = json.dumps(got.op.to_dict())
                if op.actor != viewer and op.type == "retro.vote":
                    assert after.retros["r1"].revealed or after.retros["r1"].status == "closed"
                if op.type in ("retro.card", "retro.card_update") and op.actor != viewer:
                    assert not after.retros["r1"].anonymous
            else:
                views[viewer] = apply_patch(views[viewer], got.patch)
                payload = json.dumps([got.patch, got.hidden])
            seen = json.dumps(expected.to_dict())
            for token in {t for t in payload.replace('"', " ").split() if t.startswith("tok")}:
                assert token.rstrip(",:}]") in seen, (op.type, viewer, token)
            got_content = {k: v for k, v in views[viewer].content().items()}
            assert got_content == expected.content(), (seed, n, op.type, viewer)
        state = after
    assert applied > 40
