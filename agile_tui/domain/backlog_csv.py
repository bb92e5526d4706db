"""`agile-tui import backlog FILE.csv`: rows of title, owner, estimate, status become item.add ops,
all or nothing, with every bad row reported by its line number."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from . import rank as ranks
from .model import ESTIMATES, ITEM_STATUSES, State
from .ops import Op, new_id

COLUMNS = ("title", "owner", "estimate", "status")


@dataclass(frozen=True)
class CsvProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def decode(raw: bytes) -> str:
    return raw.decode("utf-8-sig")


def backlog_ops(text: str, state: State, make) -> tuple[list[tuple[int, Op]], list[CsvProblem]]:
    """(line, op) for every row, or the problems found (then no ops). ``make(type, **args)`` builds an op.
    The delimiter (comma or semicolon) is read from the header row."""
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    problems: list[CsvProblem] = []
    rows = list(reader)
    if not rows:
        return [], [CsvProblem(1, "the file is empty; expected a header row: title,owner,estimate,status")]
    header = [h.strip().casefold() for h in rows[0]]
    if "title" not in header:
        return [], [CsvProblem(1, "the header row must name the columns: title,owner,estimate,status")]
    index = {name: header.index(name) for name in COLUMNS if name in header}
    by_name = {m.name.casefold(): m.id for m in state.members.values()}
    last = max((i.rank for i in state.items.values() if i.sprint_id is None), default=None)
    ops: list[tuple[int, Op]] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue

        cells = [row[index[n]].strip() if n in index and index[n] < len(row) else "" for n in COLUMNS]
        title, owner, estimate, status = cells
        status = status.casefold() or "todo"
        row_problems = []
        if not title:
            row_problems.append("the title is empty")
        elif len(title) > 200:
            row_problems.append(f"the title is {len(title)} characters; the limit is 200")
        owner_id = ""
        if owner:
            owner_id = by_name.get(owner.casefold(), "")
            if not owner_id:
                row_problems.append(f"unknown owner {owner!r} (not a member of the team)")
        if estimate and estimate not in ESTIMATES:
            row_problems.append(f"estimate {estimate!r} is not in the deck {' '.join(ESTIMATES)}")
        if status not in ITEM_STATUSES or status == "blocked":
            row_problems.append(f"status {status!r} must be one of todo, doing, done")
        if row_problems:
            problems.extend(CsvProblem(line, p) for p in row_problems)
            continue
        last = ranks.after(last)
        ops.append((line, make("item.add", id=new_id("item-"), title=title, owner=owner_id, estimate=estimate,
                               status=status, rank=last)))
    if problems:
        return [], problems
    if not ops:
        return [], [CsvProblem(2, "no rows to import")]
    return ops, []
