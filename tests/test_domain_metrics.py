"""Metrics: status bands (both directions, target 0, no data), period summaries, board rows (focus first, member
filter, change since the previous period), the detail view, value validation, and the ops that define, remove
and focus metrics. Plus the index: incremental updates equal a rebuild, and a new sample recomputes one row."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agile_tui.domain import FakeClock, OpRejected, State, apply, make_op, metric_index, metrics
from agile_tui.domain.metric_values import format_value, parse_value
from agile_tui.domain.model import Member, MetricDef, Sample

TODAY = date(2026, 11, 28)  # a Saturday; its ISO week starts on Monday 2026-11-23


class Room:
    def __init__(self) -> None:
        self.clock = FakeClock("2026-11-28T09:00:00+00:00")
        self.state = State()

    def do(self, type: str, actor: str = "ann", **args) -> State:
        self.state = apply(self.state, make_op(type, self.clock, actor=actor, **args))
        return self.state

    def refused(self, type: str, **args) -> str:
        before = self.state
        with pytest.raises(OpRejected) as caught:
            self.do(type, **args)
        assert self.state is before
        return caught.value.reason

    def sample(self, metric_id: str, day: str, value: float, member_id: str | None = None) -> None:
        n = len(self.state.samples)
        self.do("metric.sample", id=f"s{n}", metric_id=metric_id, date=day, value=value,
                **({"member_id": member_id} if member_id else {}))


@pytest.fixture
def room() -> Room:
    r = Room()
    r.do("member.add", id="ann", name="Ann")
    r.do("member.add", id="bob", name="Bob")
    r.do("metric.define", id="share", name="Listen share", unit="%", target=70, scope="member")
    r.do("metric.define", id="resp", name="Lead response time", unit="min", target=5, direction="lower")
    r.do("metric.define", id="deals", name="Deals won", target=10, summary="sum")
    return r


def row(state: State, metric_id: str, **kw) -> metrics.MetricRow:
    kw.setdefault("today", TODAY)
    return metrics.metric_row(state, metric_id, **kw)


# ----------------------------------------------------------------------------- status bands


@pytest.mark.parametrize("value, target, direction, expected", [
    (70, 70, "higher", "green"), (90, 70, "higher", "green"), (69.99, 70, "higher", "amber"),
    (35, 70, "higher", "amber"), (34.99, 70, "higher", "red"), (-1, 70, "higher", "red"),
    (5, 5, "lower", "green"), (0, 5, "lower", "green"), (5.01, 5, "lower", "amber"), (10, 5, "lower", "amber"),
    (10.01, 5, "lower", "red"),
    # target 0: higher is better -> any value >= 0 meets it; lower is better -> only 0 (or less) does
    (0, 0, "higher", "green"), (3, 0, "higher", "green"), (-3, 0, "higher", "red"),
    (0, 0, "lower", "green"), (0.1, 0, "lower", "red"), (-2, 0, "lower", "green"),
    (None, 70, "higher", "none"), (None, 5, "lower", "none"), (None, 0, "higher", "none"),
])
def test_status_bands(value, target, direction, expected):
    assert metrics.status(value, target, direction) == expected


def _band(ratio: Fraction) -> str:
    return "green" if ratio >= 1 else "amber" if ratio >= Fraction(1, 2) else "red"


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 10**6), st.integers(1, 10**6), st.integers(0, 3), st.sampled_from(["higher", "lower"]))
def test_status_is_the_ratio_band(value, target, scale, direction):
    """For positive numbers: the band of value/target (higher) or target/value (lower), exactly at the edges."""
    v, t = Fraction(value, 10**scale), Fraction(target, 10**scale)
    ratio = v / t if direction == "higher" else t / v
    assert metrics.status(v, t, direction) == _band(ratio)


def test_a_metric_without_data_has_status_none_and_no_latest(room):
    r = row(room.state, "resp")
    assert (r.status, r.latest, r.change, r.latest_period) == ("none", None, None, None)
    assert r.series == (None,) * metrics.RECENT["day"] and len(r.periods) == 14
    assert r.periods[-1] == TODAY.isoformat()


def test_a_single_sample(room):
    room.sample("resp", "2026-11-27", 7)
    r = row(room.state, "resp")
    assert (r.latest, r.latest_period, r.previous, r.change, r.better) == (7, "2026-11-27", None, None, None)
    assert r.status == "amber"  # lower is better: 5/7 of target
    assert r.series[-2:] == (7, None)
    week = row(room.state, "resp", period="week")
    assert week.periods[-1] == "2026-11-23" and week.series[-1] == 7 and week.status == "amber"


# ----------------------------------------------------------------------------- periods and summaries


def test_summaries_per_period(room):
    for day, value in [("2026-11-23", 2), ("2026-11-23", 4), ("2026-11-25", 6), ("2026-11-16", 1)]:
        room.sample("deals", day, value)
        room.sample("resp", day, value)
    room.do("metric.define", id="last", name="Pipeline", summary="last")
    for day, value in [("2026-11-24", 9), ("2026-11-23", 3), ("2026-11-24", 8)]:
        room.sample("last", day, value)
    assert row(room.state, "deals", period="week").series[-2:] == (1, 12)  # sum
    assert row(room.state, "resp", period="week").series[-2:] == (1, 4)  # mean
    assert row(room.state, "resp").series[-6:] == (3, None, 6, None, None, None)
    assert row(room.state, "last", period="week").latest == 8  # the newest day, then the last recorded


def test_change_is_against_the_newest_earlier_period_with_data(room):
    room.sample("resp", "2026-11-20", 9)  # a Friday
    room.sample("resp", "2026-11-23", 6)  # Monday; nothing over the weekend
    r = row(room.state, "resp", today=date(2026, 11, 23))
    assert (r.latest, r.previous, r.change, r.better) == (6, 9, -3, True)  # lower is better: an improvement
    room.sample("deals", "2025-01-06", 3)  # long before the window: still the previous period
    room.sample("deals", "2026-11-23", 1)
    r = row(room.state, "deals", period="week")
    assert (r.latest, r.previous, r.change, r.better, r.status) == (1, 3, -2, False, "red")


def test_team_and_member_views_of_a_per_member_metric(room):
    room.sample("share", "2026-11-27", 60, "ann")
    room.sample("share", "2026-11-27", 80, "ann")
    room.sample("share", "2026-11-27", 40, "bob")
    team = row(room.state, "share")
    assert team.latest == 55 and team.member_id is None  # mean of Ann's 70 and Bob's 40, not of all three
    ann = row(room.state, "share", member_id="ann")
    assert (ann.latest, ann.status, ann.member_id) == (70, "green", "ann")
    assert row(room.state, "share", member_id="nobody").status == "none"
    room.sample("resp", "2026-11-27", 4)
    assert row(room.state, "resp", member_id="ann").latest == 4  # a team metric shows the team under a filter


def test_focus_metrics_come_first_and_survive_validation(room):
    room.do("sprint.create", id="sp", name="Sprint 1", start="2026-11-16", days=14, goal="Ship it.")
    names = [r.metric_id for r in metrics.board_rows(room.state, today=TODAY)]
    assert names == ["deals", "resp", "share"]  # by name without focus
    room.do("sprint.focus", id="sp", metric_ids=["share", "resp"])
    rows = metrics.board_rows(room.state, today=TODAY)
    assert [(r.metric_id, r.focus) for r in rows] == [("share", True), ("resp", True), ("deals", False)]
    assert [r.metric_id for r in metrics.board_rows(room.state, today=TODAY, focus_first=False)][0] == "deals"
    room.do("metric.define", id="x", name="X")
    assert "at most 3" in room.refused("sprint.focus", id="sp", metric_ids=["share", "resp", "deals", "x"])
    assert "twice" in room.refused("sprint.focus", id="sp", metric_ids=["share", "share"])
    assert "no metric" in room.refused("sprint.focus", id="sp", metric_ids=["nope"])
    assert "no sprint" in room.refused("sprint.focus", id="nope", metric_ids=[])
    room.do("undo")
    room.do("undo")
    assert room.state.sprints["sp"].focus_metrics == ()


def test_metric_remove_cascades_and_undoes_as_one_step(room):
    room.do("sprint.create", id="sp", name="Sprint 1", start="2026-11-16", days=14, goal="Ship it.")
    room.do("sprint.focus", id="sp", metric_ids=["resp", "deals"])
    for n in range(5):
        room.sample("resp", f"2026-11-2{n}", n + 3)
    room.sample("deals", "2026-11-20", 2)
    before = room.state.content()
    room.do("metric.remove", id="resp")
    assert "resp" not in room.state.metrics and len(room.state.samples) == 1
    assert room.state.sprints["sp"].focus_metrics == ("deals",)
    assert metrics.samples_of(room.state.samples, "resp") == ()
    assert [r.metric_id for r in metrics.board_rows(room.state, today=TODAY)] == ["deals", "share"]
    room.do("undo")
    assert room.state.content() == before and row(room.state, "resp").latest == 7
    room.do("redo")
    assert "resp" not in room.state.metrics
    assert "no metric" in room.refused("metric.remove", id="resp")


def test_undoing_a_definition_that_a_sprint_focuses_on_is_refused(room):
    room.do("sprint.create", id="sp", name="Sprint 1", start="2026-11-16", days=14, goal="Ship it.")
    room.do("metric.define", id="new", name="New one", actor="bob")
    room.do("sprint.focus", id="sp", metric_ids=["new"])
    assert "still refers" in room.refused("undo", actor="bob")


def test_sprints_without_focus_load_from_old_data():
    state = State.from_dict({"sprints": {"s": {"id": "s", "name": "S", "start": "2026-11-16", "days": 14}}})
    assert state.sprints["s"].focus_metrics == ()
    assert State.from_dict(state.to_dict()) == state


# ----------------------------------------------------------------------------- values and definitions


def test_sample_values_are_validated_per_unit(room):
    assert "outside 0–100" in room.refused("metric.sample", id="x", metric_id="share", value=101, date="2026-11-27")
    assert "negative" in room.refused("metric.sample", id="x", metric_id="resp", value=-1, date="2026-11-27")
    assert "number" in room.refused("metric.sample", id="x", metric_id="deals", value="7", date="2026-11-27")
    room.do("metric.sample", id="ok", metric_id="deals", value=-3, date="2026-11-27")  # any number


def test_definitions_are_validated(room):
    assert "above 100" in room.refused("metric.define", id="q", name="Quota", unit="%", target=120)
    assert "already a metric" in room.refused("metric.define", id="q", name="Listen share")
    room.sample("deals", "2026-11-27", 250)
    assert "does not fit" in room.refused("metric.define", id="deals", name="Deals won", unit="%", target=10)
    room.do("metric.define", id="deals", name="Deals won", unit="calls", target=12, summary="sum")  # edit
    assert row(room.state, "deals").target == 12


@pytest.mark.parametrize("text, unit, expected", [
    ("70", "%", 70), ("70%", "%", 70), (" 70 % ", "%", 70), ("12,5", "", 12.5), ("16,500", "€", 16500),
    ("€16500", "€", 16500), ("1,234.5", "", 1234.5), ("-3", "", -3), ("7 min", "min", 7), ("90s", "min", 1.5),
    ("1:30", "h", 1.5), ("2:30", "min", 2.5), ("2 h", "min", 120), ("3 days", "days", 3), ("1 week", "days", 7),
])
def test_parse_value(text, unit, expected):
    assert parse_value(text, MetricDef(id="m", name="M", unit=unit)) == pytest.approx(expected)


@pytest.mark.parametrize("text, unit, message", [
    ("", "", "empty"), ("abc", "", "not a number"), ("nan", "", "not a number"), ("1_000", "", "not a number"),
    ("1e999", "", "must be a number"), ("101", "%", "outside 0–100"), ("-1", "%", "outside 0–100"),
    ("-5", "min", "negative"), ("5 kg", "min", "not a number"), ("1,2,3", "", "not a number"),
])
def test_parse_value_refusals(text, unit, message):
    with pytest.raises(ValueError, match=message):
        parse_value(text, MetricDef(id="m", name="M", unit=unit))


def test_format_value():
    assert [format_value(v, u) for v, u in [(70, "%"), (5.25, ""), (7, "min"), (16500, "€"), (None, "%")]] == [
        "70%", "5.25", "7 min", "€16,500", "–"]


# ----------------------------------------------------------------------------- detail


def test_detail_has_a_series_over_the_span_and_a_member_table(room):
    room.do("member.add", id="cy", name="Cy")
    room.do("member.update", id="cy", active=False)
    for day, value, who in [("2026-11-02", 50, "ann"), ("2026-11-24", 80, "ann"), ("2026-11-24", 20, "bob")]:
        room.sample("share", day, value, who)
    d = metrics.metric_detail(room.state, "share", period="week", start=date(2026, 11, 1), end=TODAY)
    assert d.periods == ("2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23")
    assert d.series == (None, 50, None, None, 50)
    assert [(m.name, m.latest, m.overall, m.count, m.status) for m in d.members] == [
        ("Ann", 80, 65, 2, "green"), ("Bob", 20, 20, 1, "red")]  # inactive Cy has no data: not listed
    bob = metrics.metric_detail(room.state, "share", start=date(2026, 11, 1), end=TODAY, member_id="bob")
    assert bob.series[-1] == 20
    with pytest.raises(ValueError):
        metrics.metric_detail(room.state, "share", start=TODAY, end=date(2026, 11, 1))
    days = metrics.metric_detail(room.state, "share", period="day", start=date(2000, 1, 1), end=TODAY)
    assert len(days.periods) == metrics.MAX_SPAN and days.periods[-1] == TODAY.isoformat()


# ----------------------------------------------------------------------------- the index


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["add", "add", "add", "remove", "undo"]), st.sampled_from("abc"),
                          st.integers(0, 20), st.integers(0, 100)), max_size=25))
def test_the_incremental_index_equals_a_rebuild(steps):
    room = Room()
    room.do("member.add", id="ann", name="Ann")
    for m in "abc":
        room.do("metric.define", id=m, name=m.upper(), scope="member" if m == "a" else "team", summary="last")
    for n, (kind, m, back, value) in enumerate(steps):
        try:
            if kind == "add":
                day = (TODAY - timedelta(days=back)).isoformat()
                room.do("metric.sample", id=f"s{n}", metric_id=m, date=day, value=value, member_id="ann")
            elif kind == "remove":
                room.do("metric.remove", id=m)
            else:
                room.do("undo")
        except OpRejected:
            continue
        expected = metric_index.build(room.state.samples)
        assert {k: v for k, v in metric_index.index(room.state.samples).by_metric.items() if v} == expected
        rows = [metrics.metric_row(room.state, m, today=TODAY, period=p) for m in room.state.metrics
                for p in metrics.PERIODS]
        metrics._rows.clear()
        metrics._known.clear()
        assert rows == [metrics.metric_row(room.state, m, today=TODAY, period=p) for m in room.state.metrics
                        for p in metrics.PERIODS]


def _big_room(per_metric: int, spread_days: int) -> State:
    mets = {f"m{k:02d}": MetricDef(id=f"m{k:02d}", name=f"Metric {k}", unit="%", target=50,
                                   scope="member" if k % 2 else "team") for k in range(20)}
    people = {f"p{j}": Member(id=f"p{j}", name=f"P{j}") for j in range(5)}
    samples = {}
    for n in range(per_metric):
        day = (TODAY - timedelta(days=(per_metric - n) * spread_days // per_metric)).isoformat()
        for k in range(20):
            sid = f"s{k}-{n}"
            samples[sid] = Sample(id=sid, metric_id=f"m{k:02d}", date=day, value=float(n % 100),
                                  member_id=f"p{n % 5}" if k % 2 else None)
    return State(metrics=mets, members=people, samples=samples)


def test_a_new_sample_recomputes_only_its_row():
    """(How fast that is, `make bench` measures; here: that only the changed metric's row is rebuilt.)"""
    state = _big_room(2_000, 400)
    before = metrics.board_rows(state, today=TODAY)
    clock = FakeClock("2026-11-28T09:00:00+00:00")
    for n in range(3):
        state = apply(state, make_op("metric.sample", clock, id=f"new{n}", metric_id="m03", value=n,
                                     member_id="p1", date=TODAY.isoformat()))
    after = metrics.board_rows(state, today=TODAY)
    changed = [a.metric_id for a, b in zip(after, before, strict=True) if a is not b]
    assert changed == ["m03"]
    new, old = (next(r for r in rows if r.metric_id == "m03") for rows in (after, before))
    assert new.series[:-1] == old.series[:-1] and new.series[-1] != old.series[-1]
