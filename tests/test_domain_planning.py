"""Planning questions: moving an item, with and without a filter, and the burndown."""

from __future__ import annotations

import dataclasses
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from agile_tui.domain import FakeClock, State, apply_all, make_op, planning


def room(n: int) -> State:
    clock = FakeClock()
    return apply_all(State(), [make_op("item.add", clock, id=f"i{k}", title=f"T{k}") for k in range(n)])


def moved(state: State, item_id: str, delta: int, shown=None) -> list[str] | None:
    rank = planning.moved_rank(state, item_id, delta, shown)
    if rank is None:
        return None
    items = dict(state.items)
    items[item_id] = dataclasses.replace(items[item_id], rank=rank)
    return [i.id for i in planning.items_in(dataclasses.replace(state, items=items), None)]


def test_move_up_and_down_and_the_ends():
    state = room(5)
    assert moved(state, "i2", -1) == ["i0", "i2", "i1", "i3", "i4"]
    assert moved(state, "i2", 1) == ["i0", "i1", "i3", "i2", "i4"]
    assert moved(state, "i0", -1) is None and moved(state, "i4", 1) is None


def test_a_filtered_move_passes_the_next_visible_item():
    state = room(5)
    assert moved(state, "i3", -1, {"i1", "i3"}) == ["i0", "i3", "i1", "i2", "i4"]
    assert moved(state, "i1", 1, {"i1", "i3"}) == ["i0", "i2", "i3", "i1", "i4"]
    assert moved(state, "i3", 1, {"i1", "i3"}) is None


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 12), st.data())
def test_a_move_changes_only_the_moved_items_place(n, data):
    state = room(n)
    item = f"i{data.draw(st.integers(0, n - 1))}"
    delta = data.draw(st.sampled_from([-1, 1]))
    before = [i.id for i in planning.items_in(state, None)]
    after = moved(state, item, delta)
    if after is None:
        assert before.index(item) + delta in (-1, n)
        return
    assert [i for i in after if i != item] == [i for i in before if i != item]
    assert after.index(item) == before.index(item) + delta


def test_burndown_counts_open_points_per_day():
    clock = FakeClock("2026-11-16T09:00:00+00:00")
    state = apply_all(State(), [
        make_op("sprint.create", clock, id="s1", name="S1", start="2026-11-16", days=5, goal="Ship it."),
        make_op("sprint.start", clock, id="s1"),
        make_op("item.add", clock, id="a", title="A", estimate="3", sprint_id="s1"),
        make_op("item.add", clock, id="b", title="B", estimate="5", sprint_id="s1"),
    ])
    clock.advance(days=2)
    state = apply_all(state, [make_op("item.update", clock, id="a", status="done")])
    chart = planning.burndown(state, state.sprints["s1"], date(2026, 11, 19))
    assert chart.remaining == [8, 8, 5, 5]
    assert chart.ideal[0] == 8 and chart.ideal[-1] == 0
    assert planning.days_left(state.sprints["s1"], date(2026, 11, 19)) == 2
