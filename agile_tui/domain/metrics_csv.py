"""`agile-tui import metrics FILE.csv`: rows of date, metric, member, value become metric.sample ops, all or
nothing, with every bad row reported by its line number.

- A header row names the columns (any order, any case; ``member`` may be left out; other columns are ignored).
  The delimiter (comma or semicolon) is read from the header row; ``decode`` drops a UTF-8 byte order mark.
- ``date``: 2026-01-31 (a time after it, as in 2026-01-31T10:00 or 2026-01-31 10:00, is ignored).
- ``metric``: a metric's id or name (case-insensitive); ``member``: a member's id or name, empty for the team.
- ``value``: see ``metric_values.parse_value`` (a number; 0–100 for a percentage; a duration not negative).

Re-importing adds nothing twice: a sample's id is a hash of its date, metric, member and value and of how many
identical rows came before it in the file, and rows whose sample is already in the room are skipped (so a later,
longer export of the same CRM report adds only its new rows).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from .backlog_csv import CsvProblem, decode  # noqa: F401  (decode is part of this module's API)
from .metric_values import parse_value
from .model import MetricDef, State
from .ops import Op

COLUMNS = ("date", "metric", "member", "value")
REQUIRED = ("date", "metric", "value")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")


@dataclass(frozen=True)
class SampleImport:
    rows: list[tuple[int, dict]] = field(default_factory=list)  # (line, metric.sample args) of new samples
    skipped: int = 0  # good rows whose sample is already in the room
    problems: list[CsvProblem] = field(default_factory=list)  # when any, ``rows`` is empty

    @property
    def ok(self) -> bool:
        return not self.problems


def sample_id(day: str, metric_id: str, member_id: str | None, value: float, occurrence: int) -> str:
    """The id of an imported sample: the same row (and its n-th repeat in a file) always gets the same id."""
    key = f"{day}\x1f{metric_id}\x1f{member_id or ''}\x1f{value!r}\x1f{occurrence}"
    return "csv-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def _lookup(state: State) -> tuple[Callable[[str], MetricDef | None], Callable[[str], str | None]]:
    metrics_by_name = {m.name.casefold(): m for m in state.metrics.values()}
    members_by_name: dict[str, str] = {}
    for member in sorted(state.members.values(), key=lambda m: m.active):  # an active member wins a shared name
        members_by_name[member.name.casefold()] = member.id

    def metric(text: str) -> MetricDef | None:
        return state.metrics.get(text) or metrics_by_name.get(text.casefold())

    def member(text: str) -> str | None:
        return text if text in state.members else members_by_name.get(text.casefold())

    return metric, member


def _parse_date(text: str) -> str | None:
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1)).isoformat()
    except ValueError:
        return None


def parse_samples(text: str, state: State) -> SampleImport:
    """The metric.sample args for every new row of a CSV text, or the problems found (then no rows)."""
    text = text.removeprefix("\ufeff")
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        header = []
    names = [h.strip().casefold() for h in header]
    if not any(names):
        return SampleImport(problems=[CsvProblem(1, "the file is empty; expected a header row: "
                                                    "date,metric,member,value")])
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        return SampleImport(problems=[CsvProblem(
            1, f"the header row must name the columns date,metric,member,value (missing: {', '.join(missing)})")])
    index = {name: names.index(name) for name in COLUMNS if name in names}
    find_metric, find_member = _lookup(state)
    problems: list[CsvProblem] = []
    rows: list[tuple[int, dict]] = []
    seen: dict[tuple, int] = {}
    skipped = good = 0
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(CsvProblem(line, f"the row cannot be read as CSV ({error})"))
            break
        row_line, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        cells = {n: row[i].strip() if i < len(row) else "" for n, i in index.items()}
        row_problems = []
        day = _parse_date(cells["date"])
        if day is None:
            row_problems.append(f"date {cells['date']!r} is not a date like 2026-01-31" if cells["date"]
                                else "the date is empty")
        metric = find_metric(cells["metric"]) if cells["metric"] else None
        if metric is None:
            row_problems.append(f"unknown metric {cells['metric']!r} (define it first)" if cells["metric"]
                                else "the metric is empty")
        member_text = cells.get("member", "")
        member_id = find_member(member_text) if member_text else None
        if member_text and member_id is None:
            row_problems.append(f"unknown member {member_text!r} (not a member of the team)")
        value = None
        if metric is not None:
            try:
                value = parse_value(cells["value"], metric)
            except ValueError as error:
                row_problems.append(str(error))
        elif not cells["value"]:
            row_problems.append("the value is empty")
        if row_problems:
            problems.extend(CsvProblem(row_line, p) for p in row_problems)
            continue
        assert metric is not None and day is not None and value is not None
        good += 1
        identity = (day, metric.id, member_id, value)
        occurrence = seen.get(identity, 0)
        seen[identity] = occurrence + 1
        new_id = sample_id(day, metric.id, member_id, value, occurrence)
        if new_id in state.samples:
            skipped += 1
            continue
        args = {"id": new_id, "metric_id": metric.id, "date": day, "value": value}
        if member_id is not None:
            args["member_id"] = member_id
        rows.append((row_line, args))
    if problems:
        return SampleImport(problems=problems)
    if not good:
        return SampleImport(problems=[CsvProblem(2, "no rows to import")])
    return SampleImport(rows=rows, skipped=skipped)


def sample_ops(text: str, state: State, make) -> tuple[list[tuple[int, Op]], list[CsvProblem], int]:
    """(line, op) for every new row, the problems found (then no ops), and how many rows were already imported.
    ``make(type, **args)`` builds an op (as in ``backlog_csv.backlog_ops``)."""
    result = parse_samples(text, state)
    return [(line, make("metric.sample", **args)) for line, args in result.rows], result.problems, result.skipped
