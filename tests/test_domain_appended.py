"""A transaction that only adds samples shares the old mapping (tx.Appended) instead of copying it: the states it
makes must behave exactly as if each had its own dict."""

from __future__ import annotations

import copy
import pickle

from agile_tui.domain import FakeClock, State, apply, make_op, metric_index
from agile_tui.domain.tx import Appended

CLOCK = FakeClock("2026-11-28T09:00:00+00:00")


def op(type_: str, **args):
    return make_op(type_, CLOCK, **args)


def with_samples(count: int, start: State | None = None) -> list[State]:
    state = start or apply(State(), op("metric.define", id="m", name="M", unit="%", target=50))
    states = [state]
    for k in range(count):
        state = apply(state, op("metric.sample", id=f"s{k}", metric_id="m", value=float(k % 100),
                                date=f"2026-11-{1 + k % 28:02d}"))
        states.append(state)
    return states


def test_added_samples_share_the_mapping_and_every_state_keeps_its_own_view():
    states = with_samples(2500)
    last = states[-1].samples
    assert isinstance(last, Appended)
    for n in (0, 1, 7, 1024, 1025, 2500):
        samples = states[n].samples
        keys = [f"s{k}" for k in range(n)]
        assert len(samples) == n and list(samples) == keys and list(samples.keys()) == keys
        assert list(reversed(samples)) == keys[::-1]
        assert [s.id for s in samples.values()] == keys and [k for k, _ in samples.items()] == keys
        assert samples == {k: last[k] for k in keys} and {k: last[k] for k in keys} == samples
        assert (f"s{n}" in samples) is False and samples.get(f"s{n}") is None
        if n:
            assert samples[f"s{n - 1}"] is last[f"s{n - 1}"] and f"s{n - 1}" in samples


def test_the_additions_are_folded_into_a_new_base_now_and_then():
    last = with_samples(3000)[-1].samples
    assert isinstance(last, Appended)
    assert len(last._added) <= Appended.added_limit(len(last._base))
    assert len(last._base) >= 2048  # folded at least twice


def test_round_trip_copies_and_equality():
    state = with_samples(1500)[-1]
    assert State.from_dict(state.to_dict()) == state
    assert copy.deepcopy(state) == state
    assert pickle.loads(pickle.dumps(state)) == state
    other = with_samples(1500)[-1]
    assert other == state  # built apart: equal by content
    assert with_samples(1499)[-1] != state


def test_a_removal_after_additions_gives_a_plain_dict_in_the_same_order():
    states = with_samples(40)
    state = apply(states[-1], op("metric.define", id="n", name="N", unit="", target=1))
    state = apply(state, op("metric.sample", id="x", metric_id="n", value=3.0, date="2026-11-20"))
    state = apply(state, op("metric.remove", id="m"))
    assert type(state.samples) is dict and list(state.samples) == ["x"]
    undone = apply(state, op("undo"))
    assert sorted(undone.samples) == sorted([f"s{k}" for k in range(40)] + ["x"])
    assert states[-1].samples == {f"s{k}": states[-1].samples[f"s{k}"] for k in range(40)}  # untouched


def test_the_metric_index_follows_additions_to_an_appended_mapping():
    states = with_samples(1200)
    for state in states[::97] + [states[-1]]:
        assert metric_index.index(state.samples).by_metric.get("m", []) == metric_index.build(state.samples).get(
            "m", [])
