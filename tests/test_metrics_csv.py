"""`import metrics FILE.csv` in the domain: every bad row reported by its line, nothing imported unless all rows
are good, and importing the same file twice gives the state of importing it once."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agile_tui.domain import FakeClock, State, apply, apply_all, make_op
from agile_tui.domain.metrics_csv import decode, parse_samples, sample_id, sample_ops

CLOCK = FakeClock("2026-11-28T09:00:00+00:00")


def base() -> State:
    return apply_all(State(), [
        make_op("member.add", CLOCK, id="m-ann", name="Ann Lee"),
        make_op("member.add", CLOCK, id="m-bob", name="Bob"),
        make_op("metric.define", CLOCK, id="share", name="Listen share", unit="%", target=70, scope="member"),
        make_op("metric.define", CLOCK, id="resp", name="Lead response time", unit="min", target=5,
                direction="lower"),
    ])


def imported(state: State, text: str) -> tuple[State, int, int]:
    """Import like the CLI does: all rows or none. Returns the state, rows added and rows skipped."""
    result = parse_samples(text, state)
    assert result.ok, result.problems
    ops = [make_op("metric.sample", CLOCK, **args) for _, args in result.rows]
    return apply_all(state, ops), len(ops), result.skipped


GOOD = """date,metric,member,value
2026-11-23,Listen share,Ann Lee,64
2026-11-23,share,m-bob,71.5
2026-11-24,lead response time,,7 min
2026-11-24,Lead response time,,90s
"""


def test_a_good_file_imports_every_row():
    state, added, skipped = imported(base(), GOOD)
    assert (added, skipped) == (4, 0)
    got = sorted((s.date, s.metric_id, s.member_id, s.value) for s in state.samples.values())
    assert got == [("2026-11-23", "share", "m-ann", 64), ("2026-11-23", "share", "m-bob", 71.5),
                   ("2026-11-24", "resp", None, 1.5), ("2026-11-24", "resp", None, 7)]


def test_the_same_file_twice_gives_the_state_of_once():
    once, added, _ = imported(base(), GOOD)
    twice, added_again, skipped = imported(once, GOOD)
    assert (added, added_again, skipped) == (4, 0, 4)
    assert twice.content() == once.content()


def test_semicolons_bom_header_case_and_column_order_do_not_change_the_samples():
    variant = "\ufeffVALUE;Member;Metric;Date\r\n64;m-ann;share;2026-11-23\r\n\"71,5\";Bob;share;2026-11-23\r\n"
    text = decode(variant.encode("utf-8"))  # decode drops the BOM, like the CLI
    state, added, _ = imported(base(), text)
    plain, _, _ = imported(base(), GOOD.split("2026-11-24")[0].rstrip(","))
    assert added == 2 and state.content()["samples"] == plain.content()["samples"]
    assert parse_samples(variant, base()).ok  # a BOM left in still reads the header


def test_identical_rows_are_separate_samples_and_a_longer_export_adds_only_its_new_rows():
    rows = "date,metric,member,value\n2026-11-23,share,Bob,60\n2026-11-23,share,Bob,60\n"
    state, added, _ = imported(base(), rows)
    assert added == 2 and len(state.samples) == 2
    longer = rows + "2026-11-23,share,Bob,60\n2026-11-24,share,Bob,65\n"
    state, added, skipped = imported(state, longer)
    assert (added, skipped, len(state.samples)) == (2, 2, 4)


@pytest.mark.parametrize("row, message", [
    ("2026-13-01,share,Bob,60", "date '2026-13-01' is not a date like 2026-01-31"),
    ("23/11/2026,share,Bob,60", "date '23/11/2026' is not a date"),
    (",share,Bob,60", "the date is empty"),
    ("2026-11-23,Talk ratio,Bob,60", "unknown metric 'Talk ratio' (define it first)"),
    ("2026-11-23,share,Zed,60", "unknown member 'Zed'"),
    ("2026-11-23,share,Bob,sixty", "'sixty' is not a number (in %)"),
    ("2026-11-23,share,Bob,", "the value is empty"),
    ("2026-11-23,share,Bob,101", "Listen share is a percentage; 101 is outside 0–100"),
    ("2026-11-23,resp,,-2", "Lead response time is a duration; -2 min is negative"),
])
def test_each_bad_row_is_reported_with_its_line_and_nothing_is_imported(row, message):
    text = f"date,metric,member,value\n2026-11-23,share,Bob,60\n{row}\n2026-11-24,share,Bob,61\n"
    result = parse_samples(text, base())
    assert result.rows == [] and not result.ok
    assert [p.line for p in result.problems] == [3] and message in str(result.problems[0])


def test_every_bad_row_is_reported():
    text = ("date;metric;member;value\n2026-11-31;share;Bob;50\n2026-11-23;share;Bob;50\n"
            "2026-11-23;nps;;x\n\n2026-11-23;share;Bob;150\n")
    result = parse_samples(text, base())
    assert [(p.line, p.message) for p in result.problems] == [
        (2, "date '2026-11-31' is not a date like 2026-01-31"),
        (4, "unknown metric 'nps' (define it first)"),
        (6, "Listen share is a percentage; 150 is outside 0–100"),
    ]
    ops, problems, skipped = sample_ops(text, base(), lambda type, **kw: make_op(type, CLOCK, **kw))
    assert ops == [] and len(problems) == 3 and skipped == 0


def test_lines_count_physical_lines_when_a_cell_spans_two():
    text = 'date,metric,member,value,note\n2026-11-23,share,Bob,60,"two\nlines"\n2026-11-23,share,Bob,x,\n'
    assert [p.line for p in parse_samples(text, base()).problems] == [4]


@pytest.mark.parametrize("text, message", [
    ("", "the file is empty"),
    ("\n\n", "the file is empty"),
    ("when,metric,value\n2026-11-23,share,1\n", "missing: date"),
    ("date,metric,member,value\n", "no rows to import"),
])
def test_files_without_rows(text, message):
    problems = parse_samples(text, base()).problems
    assert len(problems) == 1 and message in str(problems[0])


def test_timestamps_keep_their_date_and_the_member_column_is_optional():
    state, added, _ = imported(base(), "Date,Metric,Value\n2026-11-23T10:15:00Z,resp,4\n2026-11-24 08:00,resp,3\n")
    assert added == 2 and sorted(s.date for s in state.samples.values()) == ["2026-11-23", "2026-11-24"]


def test_ops_are_accepted_by_the_reducer():
    ops, problems, _ = sample_ops(GOOD, base(), lambda type, **kw: make_op(type, CLOCK, **kw))
    assert problems == [] and [line for line, _ in ops] == [2, 3, 4, 5]
    state = base()
    for _, op in ops:
        state = apply(state, op)
    assert len(state.samples) == 4


def test_sample_ids_are_stable_and_distinct():
    assert sample_id("2026-11-23", "share", "m-bob", 60.0, 0) == sample_id("2026-11-23", "share", "m-bob", 60.0, 0)
    assert len({sample_id("2026-11-23", "share", "m-bob", 60.0, n) for n in range(3)}) == 3
    assert len(sample_id("2026-11-23", "share", None, 1.0, 0)) <= 64


rows = st.lists(st.tuples(st.integers(1, 28), st.sampled_from(["share", "Listen share", "resp"]),
                          st.sampled_from(["", "Bob", "m-ann", "Ann Lee"]), st.integers(0, 100)),
                min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(rows, st.sampled_from([",", ";"]), st.booleans(), st.integers(0, 30))
def test_importing_twice_or_a_prefix_first_equals_importing_once(data, delimiter, bom, cut):
    header = delimiter.join(["date", "metric", "member", "value"])
    lines = [delimiter.join([f"2026-11-{d:02d}", m, who, str(v)]) for d, m, who, v in data]
    text = ("\ufeff" if bom else "") + "\n".join([header, *lines]) + "\n"
    once, added, _ = imported(base(), text)
    assert added == len(data)
    twice, added_again, skipped = imported(once, text)
    assert (added_again, skipped) == (0, len(data)) and twice.content() == once.content()
    prefix = "\n".join([header, *lines[:cut]]) + "\n"
    if cut:
        first, _, _ = imported(base(), prefix)
        assert imported(first, text)[0].content()["samples"] == once.content()["samples"]
