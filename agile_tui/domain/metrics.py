"""Read-only questions the metrics board asks of a room: status against target, period summaries, one row per
metric (focus metrics first) and a metric's detail. The UI holds no rules of its own.

Status (RITUALS.md): green at >= 100% of target, amber at 50–99%, red below 50%, ``none`` without data. The ratio
is value ÷ target when higher is better and target ÷ value when lower is better; it is compared without dividing,
so the boundaries are exact and target 0 needs no special case:

- higher is better: green when value >= target, amber when 2·value >= target, else red. With target 0 every value
  >= 0 is green (a metric without a target never alarms); a negative value is red.
- lower is better: green when value <= target, amber when value <= 2·target, else red. A value of 0 (or below)
  is green; with target 0 only a value <= 0 is green and anything above it is red.

Periods are days or ISO weeks (Monday to Sunday), named by the ISO date they start on. A period's value is the
metric's summary (mean, sum or last) of its samples. The team's value of a per-member metric summarises each
member first, then takes the mean of the members' values (their sum when the summary is ``sum``). A member filter
applies to per-member metrics; team metrics show the team's values under any filter.

"Latest" is the newest period with data (up to the end of today's period); "change" is latest minus the newest
earlier period with data (a weekend without samples does not hide Friday).

Performance: samples are indexed by metric, sorted by date (``metric_index``: memoised on the samples mapping,
updated in O(new samples) when samples are added). A period's samples are found by bisection; its value is memoised
per (metric, period kind, member filter) and kept across new samples that fall in other periods. Rows are memoised
on (the metric's sample list, its definition), so after one new sample a board recomputes one row, and that row
recomputes one period.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import compress, repeat
from operator import attrgetter, eq

from . import metric_index
from .metric_values import format_value, parse_value, value_problem  # noqa: F401  (re-exported)
from .model import MetricDef, Sample, State
from .planning import planning_sprint

PERIODS = ("day", "week")
RECENT = {"day": 14, "week": 12}  # periods on a board row (its sparkline)
MAX_SPAN = 1000  # periods in a detail view
STATUSES = ("green", "amber", "red", "none")
DIGITS = 9  # means and changes are rounded to this many decimals (no 63.699999999999996)
_DATE = attrgetter("date")
_VALUE = attrgetter("value")
_MEMBER = attrgetter("member_id")


def status(value: float | None, target: float, direction: str = "higher") -> str:
    """``green``, ``amber``, ``red`` or ``none`` (no value), honouring direction; see the module docstring."""
    if value is None:
        return "none"
    if direction == "lower":
        return "green" if value <= target else "amber" if value <= 2 * target else "red"
    return "green" if value >= target else "amber" if 2 * value >= target else "red"


# ----------------------------------------------------------------------------- periods


def _check_period(period: str) -> None:
    if period not in PERIODS:
        raise ValueError(f"A period is one of {', '.join(PERIODS)}; not {period!r}.")


def period_start(day: date, period: str) -> date:
    _check_period(period)
    return day - timedelta(days=day.weekday()) if period == "week" else day


def period_end(day: date, period: str) -> date:
    return period_start(day, period) + timedelta(days=6 if period == "week" else 0)


@lru_cache(maxsize=8192)
def _week_of(iso: str) -> str:
    return period_start(date.fromisoformat(iso), "week").isoformat()


def period_key(iso: str, period: str) -> str:
    """The period (its first day, ISO) that the date ``iso`` falls in."""
    return _week_of(iso) if period == "week" else iso


def periods_between(start: date, end: date, period: str) -> list[str]:
    """Every period from the one holding ``start`` to the one holding ``end``, oldest first."""
    step = timedelta(days=7 if period == "week" else 1)
    first, last = period_start(start, period), period_start(end, period)
    return [(first + step * n).isoformat() for n in range((last - first) // step + 1)]


def span_start(end: date, period: str, count: int) -> date:
    """The first day of a span of ``count`` periods ending with the one holding ``end``."""
    return period_start(end, period) - timedelta(days=(7 if period == "week" else 1) * (count - 1))


def _reduce(values: list[float], how: str) -> float:
    if how == "last":
        return values[-1]
    total = math.fsum(values)
    return total if how == "sum" else round(total / len(values), DIGITS)


def summarise(samples: Sequence[Sample], metric: MetricDef, team: bool = True) -> float | None:
    """One period's value: the metric's summary of ``samples`` (oldest first); None when there are none. For the
    team (``team``) a per-member metric summarises each member first, then combines the members."""
    if not samples:
        return None
    values = list(map(_VALUE, samples))
    if team and metric.scope == "member":
        members = list(map(_MEMBER, samples))
        distinct = set(members)
        if len(distinct) > 1:  # (C-level passes, one per member: a period may hold thousands of samples)
            if metric.summary == "last":
                per = [values[len(members) - 1 - members[::-1].index(m)] for m in distinct]
            else:
                per = [_reduce(list(compress(values, map(eq, members, repeat(m)))), metric.summary)
                       for m in distinct]
            return _reduce(per, "sum" if metric.summary == "sum" else "mean")
    return _reduce(values, metric.summary)


# ----------------------------------------------------------------------------- period values


def samples_of(samples: Mapping[str, Sample], metric_id: str) -> tuple[Sample, ...]:
    """A metric's samples, oldest first (``samples`` is a room's samples mapping)."""
    return metric_index.samples_of(samples, metric_id)


def warm(state: State, today: date | None = None) -> None:
    """Build the index now (e.g. in a worker after loading a big room), so the board opens without the wait;
    with ``today``, also the team's board rows for both period kinds."""
    metric_index.index(state.samples)
    if today is not None:
        for period in PERIODS:
            board_rows(state, period=period, today=today)


_NONE: list[Sample] = []
# (metric id, period, member filter) -> (the metric's sample list, its definition, {period: value}).
_known: dict[tuple[str, str, str | None], tuple[list[Sample], MetricDef, dict[str, float | None]]] = {}


def _series(state: State, metric: MetricDef, period: str, member_id: str | None):
    """The metric's samples (oldest first) and the memo of its period values. After samples were added, the
    values of the periods they do not fall in are kept."""
    found = metric_index.index(state.samples)
    series = found.by_metric.get(metric.id, _NONE)
    key = (metric.id, period, member_id)
    entry = _known.get(key)
    if entry is not None and entry[1] is metric:
        if entry[0] is series:
            return series, entry[2]
        delta = found.delta.get(metric.id)
        if delta is not None and delta[0] is entry[0] and delta[1] is series:
            known = dict(entry[2])
            for sample in delta[2]:
                known.pop(period_key(sample.date, period), None)
            _known[key] = (series, metric, known)
            return series, known
    if len(_known) > 4096:
        _known.clear()
    _known[key] = (series, metric, {})
    return series, _known[key][2]


@lru_cache(maxsize=8192)
def _next_period(start: str, period: str) -> str:
    return (date.fromisoformat(start) + timedelta(days=7 if period == "week" else 1)).isoformat()


def _value(series: list[Sample], known: dict[str, float | None], start: str, period: str, metric: MetricDef,
           member_id: str | None, lo: int = 0, hi: int | None = None) -> float | None:
    """The value of the period starting on ``start`` (its samples found by bisection within ``lo:hi``)."""
    if start in known:
        return known[start]
    lo = bisect_left(series, start, lo, len(series) if hi is None else hi, key=_DATE)
    hi = bisect_left(series, _next_period(start, period), lo, len(series) if hi is None else hi, key=_DATE)
    value = _period_value(series[lo:hi], metric, member_id) if hi > lo else None
    known[start] = value
    return value


def _window(series: list[Sample], known: dict[str, float | None], periods: Sequence[str], period: str,
            metric: MetricDef, member_id: str | None) -> tuple[float | None, ...]:
    """The values of consecutive ``periods`` (bisecting the whole list twice, then only the window)."""
    if all(p in known for p in periods):
        return tuple(known[p] for p in periods)
    hi = bisect_left(series, _next_period(periods[-1], period), key=_DATE)
    lo = bisect_left(series, periods[0], hi=hi, key=_DATE)
    return tuple(_value(series, known, p, period, metric, member_id, lo, hi) for p in periods)


def _period_value(samples: Sequence[Sample], metric: MetricDef, member_id: str | None) -> float | None:
    if member_id is not None:
        samples = list(compress(samples, map(eq, map(_MEMBER, samples), repeat(member_id))))
    return summarise(samples, metric, team=member_id is None)


def _newest_before(series: list[Sample], known: dict[str, float | None], before: str, period: str,
                   metric: MetricDef, member_id: str | None, want: int) -> list[tuple[str, float]]:
    """(period, value) of the newest ``want`` periods with data that start before ``before``, newest first."""
    found: list[tuple[str, float]] = []
    hi = bisect_left(series, before, key=_DATE)
    while hi > 0 and len(found) < want:
        start = period_key(series[hi - 1].date, period)
        value = _value(series, known, start, period, metric, member_id)
        if value is not None:
            found.append((start, value))
        hi = bisect_left(series, start, hi=hi, key=_DATE)
    return found


# ----------------------------------------------------------------------------- board rows


@dataclass(frozen=True)
class MetricRow:
    metric_id: str
    name: str
    unit: str
    target: float
    direction: str
    scope: str
    summary: str
    period: str
    member_id: str | None  # whose values these are; None: the team's
    focus: bool  # one of the sprint's focus metrics
    periods: tuple[str, ...]  # the recent periods (first day, ISO), oldest first
    series: tuple[float | None, ...]  # their values (None: no data), for the sparkline
    latest: float | None
    latest_period: str | None
    previous: float | None
    change: float | None  # latest - previous
    better: bool | None  # whether the change is an improvement (None: no change or nothing to compare)
    status: str  # green, amber, red or none


def _member_filter(metric: MetricDef, member_id: str | None) -> str | None:
    return member_id if metric.scope == "member" else None


_rows: dict[tuple, tuple[list[Sample], MetricDef, MetricRow]] = {}


def metric_row(state: State, metric_id: str, *, period: str = "day", member_id: str | None = None, today: date,
               count: int | None = None, focus: bool = False) -> MetricRow:
    """The board row of one metric (KeyError for an unknown metric)."""
    metric = state.metrics[metric_id]
    _check_period(period)
    member_id = _member_filter(metric, member_id)
    series, known = _series(state, metric, period, member_id)
    count = count or RECENT[period]
    key = (metric_id, period, member_id, today, count, focus)
    hit = _rows.get(key)
    if hit is not None and hit[0] is series and hit[1] is metric:
        return hit[2]
    periods = periods_between(span_start(today, period, count), today, period)
    values = _window(series, known, periods, period, metric, member_id)
    newest = [(p, v) for p, v in zip(periods, values, strict=True) if v is not None][:-3:-1]
    if len(newest) < 2:  # look before the window
        newest += _newest_before(series, known, periods[0], period, metric, member_id, 2 - len(newest))
    latest = newest[0][1] if newest else None
    previous = newest[1][1] if len(newest) > 1 else None
    change = round(latest - previous, DIGITS) if latest is not None and previous is not None else None
    better = None if not change else (change > 0) == (metric.direction == "higher")
    row = MetricRow(metric_id=metric.id, name=metric.name, unit=metric.unit, target=metric.target,
                    direction=metric.direction, scope=metric.scope, summary=metric.summary, period=period,
                    member_id=member_id, focus=focus, periods=tuple(periods), series=values, latest=latest,
                    latest_period=newest[0][0] if newest else None, previous=previous, change=change,
                    better=better, status=status(latest, metric.target, metric.direction))
    if len(_rows) > 2048:
        _rows.clear()
    _rows[key] = (series, metric, row)
    return row


def focus_metrics(state: State, sprint_id: str | None = None) -> tuple[str, ...]:
    """The focus metrics (that still exist) of a sprint: by default the one planning shows (active, else the
    next planned)."""
    sprint = state.sprints.get(sprint_id) if sprint_id is not None else planning_sprint(state)
    if sprint is None:
        return ()
    return tuple(m for m in getattr(sprint, "focus_metrics", ()) if m in state.metrics)


def board_order(state: State, *, focus_first: bool = True, sprint_id: str | None = None) -> list[str]:
    """Metric ids in board order: the focus metrics in their chosen order, then the rest by name."""
    by_name = sorted(state.metrics.values(), key=lambda m: (m.name.casefold(), m.id))
    if not focus_first:
        return [m.id for m in by_name]
    focus = focus_metrics(state, sprint_id)
    return [*focus, *(m.id for m in by_name if m.id not in focus)]


def board_rows(state: State, *, period: str = "day", member_id: str | None = None, focus_first: bool = True,
               today: date, sprint_id: str | None = None, count: int | None = None) -> list[MetricRow]:
    """One row per metric, focus metrics first. Rows whose metric did not change are the same objects as last
    time (compare with ``is`` to redraw only what changed)."""
    focus = set(focus_metrics(state, sprint_id))
    return [metric_row(state, m, period=period, member_id=member_id, today=today, count=count, focus=m in focus)
            for m in board_order(state, focus_first=focus_first, sprint_id=sprint_id)]


# ----------------------------------------------------------------------------- detail


def _values(samples: list[Sample], metric: MetricDef, period: str, periods: Sequence[str]):
    """One member's value per period (``samples``: theirs, oldest first), without the memo."""
    if not samples:
        return (None,) * len(periods)
    return _window(samples, {}, periods, period, metric, None)


@dataclass(frozen=True)
class MemberLine:
    member_id: str | None  # None: samples recorded for the team as a whole
    name: str
    series: tuple[float | None, ...]
    latest: float | None  # the newest period with data in the span
    overall: float | None  # the metric's summary over the whole span
    count: int  # samples in the span
    status: str


@dataclass(frozen=True)
class MetricDetail:
    metric: MetricDef
    period: str
    member_id: str | None
    periods: tuple[str, ...]
    series: tuple[float | None, ...]  # the team's (or the filtered member's) value per period
    target: float
    members: tuple[MemberLine, ...]  # per-member table (every active member for a per-member metric)


def metric_detail(state: State, metric_id: str, *, period: str = "week", start: date, end: date,
                  member_id: str | None = None) -> MetricDetail:
    """A metric over ``start``..``end`` (whole periods; at most MAX_SPAN of them, the newest kept)."""
    metric = state.metrics[metric_id]
    _check_period(period)
    if start > end:
        raise ValueError("The span starts after it ends.")
    periods = periods_between(start, end, period)[-MAX_SPAN:]
    member_id = _member_filter(metric, member_id)
    series, known = _series(state, metric, period, member_id)
    values = _window(series, known, periods, period, metric, member_id)
    hi = bisect_left(series, _next_period(periods[-1], period), key=_DATE)
    window = series[bisect_left(series, periods[0], hi=hi, key=_DATE):hi]
    per: dict[str | None, list[Sample]] = {}
    for sample in window:
        per.setdefault(sample.member_id, []).append(sample)
    who = set(per)
    if metric.scope == "member":
        who |= {m.id for m in state.members.values() if m.active}
    lines = []
    for mid in who:
        mine = per.get(mid, [])
        line_values = _values(mine, metric, period, periods)
        latest = next((v for v in reversed(line_values) if v is not None), None)
        member = state.members.get(mid) if mid is not None else None
        lines.append(MemberLine(member_id=mid, name=member.name if member else ("Team" if mid is None else mid),
                                series=line_values, latest=latest, overall=summarise(mine, metric, team=False),
                                count=len(mine), status=status(latest, metric.target, metric.direction)))
    lines.sort(key=lambda line: (line.member_id is None, line.name.casefold(), line.member_id or ""))
    return MetricDetail(metric=metric, period=period, member_id=member_id, periods=tuple(periods), series=values,
                        target=metric.target, members=tuple(lines))
