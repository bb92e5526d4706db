"""Samples indexed by metric, sorted by date: what the metrics board reads instead of scanning every sample.

The index is memoised on the identity of a room's samples mapping (the reducer replaces the mapping whenever a
sample changes, and the memo holds it, so its id cannot be reused). A mapping that only *gained* samples since the
memoised one (how the reducer adds them: it copies the mapping and puts the new ones, which go to the end) updates
the index in O(new samples · log n), copying only the touched metrics' lists; ``delta`` then says which lists were
replaced and by which samples, so per-period values computed from the old lists can be kept for the periods the new
samples do not fall in. Anything else (a removal, a mapping loaded afresh) rebuilds the index.

Samples are never changed in place (no op does it). An op that did would have to go through the rebuild path.

Thread-safe: the app may build the index in a worker thread when a room loads (``metrics.warm``) while the main
thread asks for it; a lock makes one wait for the other's build instead of both building.
"""

from __future__ import annotations

import threading
from bisect import insort
from collections.abc import Mapping
from operator import attrgetter

from .model import Sample

BY_DATE = attrgetter("date")


class Index:
    __slots__ = ("samples", "by_metric", "delta")

    def __init__(self, samples: Mapping[str, Sample], by_metric: dict[str, list[Sample]],
                 delta: dict[str, tuple[list[Sample], list[Sample], list[Sample]]] | None = None) -> None:
        self.samples = samples  # held, so its id cannot be reused while memoised
        self.by_metric = by_metric  # metric id -> its samples, oldest first (same day: in recorded order)
        self.delta = delta or {}  # metric id -> (its list before, its list now, the samples added)


_memo: Index | None = None
_lock = threading.Lock()  # held while the memo is derived or built


def build(samples: Mapping[str, Sample]) -> dict[str, list[Sample]]:
    groups: dict[str, list[Sample]] = {}
    for sample in samples.values():
        group = groups.get(sample.metric_id)
        if group is None:
            groups[sample.metric_id] = group = []
        group.append(sample)
    for group in groups.values():
        group.sort(key=BY_DATE)  # stable: samples of one day keep the order they were recorded in
    return groups


def _appended(memo: Index, samples: Mapping[str, Sample]) -> Index | None:
    """The index of ``samples`` derived from the memo's, when ``samples`` is the memo's mapping with entries added
    at the end, else None."""
    old = memo.samples
    extra = len(samples) - len(old)
    if extra <= 0 or not old:
        return None
    try:
        last_old = next(reversed(old))  # type: ignore[call-overload]
        newest = reversed(samples)  # type: ignore[call-overload]
    except TypeError:  # a mapping without an order to rely on
        return None
    added: list[str] = []
    for key in newest:
        if key in old:
            if key != last_old or len(added) != extra or samples[key] is not old[key]:
                return None
            break
        added.append(key)
        if len(added) > extra:
            return None
    else:
        return None
    by_metric = dict(memo.by_metric)
    delta: dict[str, tuple[list[Sample], list[Sample], list[Sample]]] = {}
    for key in reversed(added):
        sample = samples[key]
        metric_id = sample.metric_id
        if metric_id not in delta:
            before = memo.by_metric.get(metric_id, [])
            delta[metric_id] = (before, list(before), [])
            by_metric[metric_id] = delta[metric_id][1]
        insort(delta[metric_id][1], sample, key=BY_DATE)
        delta[metric_id][2].append(sample)
    return Index(samples, by_metric, delta)


def index(samples: Mapping[str, Sample]) -> Index:
    """The index of a room's samples mapping (memoised; see the module docstring)."""
    global _memo
    memo = _memo
    if memo is not None and memo.samples is samples:
        return memo
    with _lock:
        memo = _memo
        if memo is not None and memo.samples is samples:  # built by another thread meanwhile
            return memo
        fresh = _appended(memo, samples) if memo is not None else None
        if fresh is None:
            fresh = Index(samples, build(samples))
        _memo = fresh
        return fresh


def samples_of(samples: Mapping[str, Sample], metric_id: str) -> tuple[Sample, ...]:
    """A metric's samples, oldest first (``samples`` is a room's samples mapping)."""
    return tuple(index(samples).by_metric.get(metric_id, ()))
