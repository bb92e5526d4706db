"""`agile-tui import metrics FILE.csv`: metric samples (date, metric, member, value) into a room, all or nothing.

Every call is a real subprocess (`python -m agile_tui ...`) on a real demo room in a temporary data folder, and
the room is held open by another real process where a test needs that; the room's state is read back through
`agile-tui export --format json`."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from agile_tui.domain import FakeClock
from agile_tui.domain.report import public_content

from .conftest import TODAY, open_session
from .test_cli import HEAVY, export_json, holding, imported_modules, room_files_state, run_cli, write_csv

HEADER = ["date", "metric", "member", "value"]
# Rows as a CRM report writes them, and the sample each must become: (metric id, member id, date, value).
GOOD_ROWS = [
    (["2026-11-27", "Listen share", "王芳", "72%"], ("listen-share", "m-wang", "2026-11-27", 72.0)),
    (["2026-11-27", "open-questions", "lucas garcía", "6.5"], ("open-questions", "m-lucas", "2026-11-27", 6.5)),
    (["2026-11-27", "MQL→SQL conversion", "", "31"], ("mql-sql", None, "2026-11-27", 31.0)),
    (["2026-11-27T16:30", "Lead response time", "", "4 min"], ("lead-response", None, "2026-11-27", 4.0)),
    (["2026-11-26", "Average deal size", "", "€ 18,500"], ("deal-size", None, "2026-11-26", 18500.0)),
    (["2026-11-26", "quota", "", "100"], ("quota", None, "2026-11-26", 100.0)),
    (["2026-11-26", "Listen share", "Ana Souza 🚀", "0"], ("listen-share", "m-ana", "2026-11-26", 0.0)),
]


def csv_text(rows: list[list[str]], delimiter: str = ",", newline: str = "\n") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue()


def good_csv(delimiter: str = ",", newline: str = "\n") -> str:
    return csv_text([row for row, _ in GOOD_ROWS], delimiter, newline)


def import_metrics(path: Path, room: str = "demo"):
    return run_cli("import", "metrics", str(path), "--room", room)


def room_data_files(data_dir: Path) -> dict[str, tuple[bytes, int]]:
    """The room's snapshot and journal (bytes and mtime); the lock file is rewritten by every owner."""
    files = room_files_state(data_dir)
    return {name: files[name] for name in ("demo.json", "demo.journal") if name in files}


def sample_key(sample: dict) -> tuple:
    return sample["metric_id"], sample.get("member_id"), sample["date"], sample["value"]


@pytest.fixture(scope="module")
def _demo_template(tmp_path_factory) -> tuple[Path, dict]:
    """The demo room built once per module by the real store (seeding it fsyncs ~1000 ops)."""
    folder = tmp_path_factory.mktemp("demo-metrics-template")
    session = open_session(folder, "demo", FakeClock(f"{TODAY}T09:00:00+00:00"), seed_demo=True)
    try:
        expected = json.loads(json.dumps(public_content(session.state)))
        expected["seq"] = session.store.seq
    finally:
        session.close()
    return folder / "rooms", expected


@pytest.fixture
def demo_room(_demo_template, data_dir) -> dict:
    """The demo room saved (and closed) in this test's data folder; returns what its JSON export must be."""
    rooms, expected = _demo_template
    (data_dir / "rooms").mkdir(parents=True, exist_ok=True)
    for path in rooms.iterdir():
        shutil.copy2(path, data_dir / "rooms" / path.name)
    assert expected["samples"], "the demo room has no samples to keep"
    return json.loads(json.dumps(expected))


def assert_refused_and_unchanged(result, demo_room: dict, before: dict, data_dir: Path) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Imported" not in result.stdout
    assert export_json() == demo_room
    assert room_data_files(data_dir) == before, "a refused import changed the room's files"


# ---------------------------------------------------------------------- --help


def test_help_names_the_metrics_import():
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    assert "agile-tui import metrics FILE.csv" in result.stdout
    sub = run_cli("import", "--help", xopts=("-X", "importtime"))
    assert sub.returncode == 0, sub.stderr
    assert "metrics" in sub.stdout and "date,metric,member,value" in sub.stdout
    modules = imported_modules(sub.stderr)
    assert "agile_tui" in modules
    assert not modules & HEAVY, f"`import --help` imported {sorted(modules & HEAVY)}"


# ---------------------------------------------------------------------- good files


@pytest.mark.parametrize("variant", ["comma", "semicolon-bom", "semicolon-crlf-bom"])
def test_import_metrics_adds_every_row(demo_room, tmp_path, variant):
    if variant == "comma":
        path = write_csv(tmp_path / "metrics.csv", good_csv(","))
    elif variant == "semicolon-bom":
        path = write_csv(tmp_path / "metrics.csv", good_csv(";"), bom=True)
    else:
        path = write_csv(tmp_path / "metrics.csv", good_csv(";", "\r\n"), bom=True)
    result = import_metrics(path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Imported {len(GOOD_ROWS)} samples into room 'demo' (0 rows already there)."
    after = export_json()
    new = [s for k, s in after["samples"].items() if k not in demo_room["samples"]]
    assert sorted(map(sample_key, new), key=repr) == sorted((want for _, want in GOOD_ROWS), key=repr)
    # Every sample that was there is still there, unchanged, and nothing else moved.
    assert {k: v for k, v in after["samples"].items() if k in demo_room["samples"]} == demo_room["samples"]
    assert after["seq"] == demo_room["seq"] + len(GOOD_ROWS)
    for name in ("items", "members", "metrics", "sprints"):
        assert after[name] == demo_room[name], name


def test_a_semicolon_file_with_decimal_commas(demo_room, tmp_path):
    text = "\ufeffdate;metric;member;value\n2026-11-27;Open questions per call;Sam Okafor;6,5\n"
    path = write_csv(tmp_path / "metrics.csv", text)
    result = import_metrics(path)
    assert result.returncode == 0, result.stderr
    new = [s for k, s in export_json()["samples"].items() if k not in demo_room["samples"]]
    assert list(map(sample_key, new)) == [("open-questions", "m-sam", "2026-11-27", 6.5)]


# ---------------------------------------------------------------------- bad rows: nothing imported

BAD_CASES = {
    # name: (row, line 3's expected message fragment)
    "bad date": (["2026-13-01", "Quota attainment", "", "80"], "date '2026-13-01' is not a date like 2026-01-31"),
    "not a date": (["yesterday", "quota", "", "80"], "date 'yesterday' is not a date"),
    "unknown metric": (["2026-11-27", "Churn rate", "", "3"], "unknown metric 'Churn rate'"),
    "non-number": (["2026-11-27", "Open questions per call", "王芳", "lots"], "'lots' is not a number"),
    "percent above 100": (["2026-11-27", "Quota attainment", "", "120"],
                          "Quota attainment is a percentage; 120 is outside 0–100"),
    "percent sign above 100": (["2026-11-27", "Listen share", "王芳", "100.5%"],
                               "Listen share is a percentage; 100.5 is outside 0–100"),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_one_bad_row_is_reported_by_line_and_nothing_is_imported(demo_room, data_dir, tmp_path, case):
    row, fragment = BAD_CASES[case]
    path = write_csv(tmp_path / "metrics.csv", csv_text([GOOD_ROWS[0][0], row, GOOD_ROWS[2][0]]))
    before = room_data_files(data_dir)
    result = import_metrics(path)
    assert_refused_and_unchanged(result, demo_room, before, data_dir)
    assert "nothing imported" in result.stderr
    lines = result.stderr.splitlines()
    assert any(line.strip().startswith("line 3:") and fragment in line for line in lines), result.stderr
    assert not any("line 2:" in line or "line 4:" in line for line in lines), "a good row was reported as bad"


def test_every_bad_row_is_reported_with_its_line(demo_room, data_dir, tmp_path):
    rows = [GOOD_ROWS[0][0]] + [row for row, _ in BAD_CASES.values()] + [GOOD_ROWS[1][0]]
    path = write_csv(tmp_path / "metrics.csv", csv_text(rows, ";"), bom=True)
    before = room_data_files(data_dir)
    result = import_metrics(path)
    assert_refused_and_unchanged(result, demo_room, before, data_dir)
    lines = result.stderr.splitlines()
    assert lines[0] == f"agile-tui: {path}: nothing imported; fix these rows:"
    for number, (_, fragment) in enumerate(BAD_CASES.values(), start=3):
        assert any(f"line {number}:" in line and fragment in line for line in lines), \
            f"line {number} ({fragment}) not reported in:\n{result.stderr}"
    assert not any("line 2:" in line or f"line {len(rows) + 1}:" in line for line in lines)


def test_a_header_without_rows_imports_nothing(demo_room, data_dir, tmp_path):
    path = write_csv(tmp_path / "metrics.csv", "date,metric,member,value\n")
    before = room_data_files(data_dir)
    result = import_metrics(path)
    assert_refused_and_unchanged(result, demo_room, before, data_dir)
    assert "no rows to import" in result.stderr


def test_a_file_without_the_columns_says_which_are_missing(demo_room, data_dir, tmp_path):
    path = write_csv(tmp_path / "metrics.csv", "title,owner,estimate,status\nCall Nordea,王芳,3,todo\n")
    before = room_data_files(data_dir)
    result = import_metrics(path)
    assert_refused_and_unchanged(result, demo_room, before, data_dir)
    assert "line 1:" in result.stderr and "missing: date, metric, value" in result.stderr


# ---------------------------------------------------------------------- unreadable files and rooms


def test_an_empty_file_says_so(demo_room, data_dir, tmp_path):
    path = write_csv(tmp_path / "empty.csv", "")
    before = room_data_files(data_dir)
    result = import_metrics(path)
    assert_refused_and_unchanged(result, demo_room, before, data_dir)
    assert f"{path} is empty" in result.stderr and "date,metric,member,value" in result.stderr


def test_a_file_that_is_not_utf8_says_so(demo_room, data_dir, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("date,metric,member,value\n2026-11-27,Listen share,Lucas García,70\n".encode("latin-1"))
    before = room_data_files(data_dir)
    result = import_metrics(path)
    assert_refused_and_unchanged(result, demo_room, before, data_dir)
    assert "not UTF-8" in result.stderr


@pytest.mark.parametrize("kind", ["missing", "a folder"])
def test_a_file_that_cannot_be_read_says_so(demo_room, data_dir, tmp_path, kind):
    path = tmp_path / "nope.csv"
    if kind == "a folder":
        path.mkdir()
    before = room_data_files(data_dir)
    result = import_metrics(path)
    assert_refused_and_unchanged(result, demo_room, before, data_dir)
    assert "cannot read" in result.stderr and "nope.csv" in result.stderr


def test_a_room_that_does_not_exist_is_not_created(demo_room, data_dir, tmp_path):
    path = write_csv(tmp_path / "metrics.csv", good_csv())
    result = import_metrics(path, room="q3-pipeline")
    assert result.returncode == 1
    assert "There is no room 'q3-pipeline'" in result.stderr
    assert not list((data_dir / "rooms").glob("q3-pipeline*"))


# ---------------------------------------------------------------------- the same file twice


def test_the_same_file_twice_gives_the_same_state_as_once(demo_room, data_dir, tmp_path):
    path = write_csv(tmp_path / "metrics.csv", good_csv(";"), bom=True)
    first = import_metrics(path)
    assert first.returncode == 0, first.stderr
    once = export_json()
    files_once = room_data_files(data_dir)

    again = import_metrics(path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"Imported 0 samples into room 'demo' ({len(GOOD_ROWS)} rows already there)."
    assert export_json() == once
    assert room_data_files(data_dir) == files_once, "a repeated import rewrote the room"
    # The same rows saved as a comma file (another export of the same report) add nothing either.
    comma = import_metrics(write_csv(tmp_path / "again.csv", good_csv(",")))
    assert comma.returncode == 0, comma.stderr
    assert "Imported 0 samples" in comma.stdout
    assert export_json()["samples"] == once["samples"]


def test_repeated_rows_count_and_a_longer_file_adds_only_its_new_rows(demo_room, tmp_path):
    row = ["2026-11-27", "Lead response time", "", "3"]  # two leads answered in 3 minutes: two samples
    first = import_metrics(write_csv(tmp_path / "week.csv", csv_text([row, row])))
    assert first.returncode == 0, first.stderr
    assert "Imported 2 samples" in first.stdout
    longer = csv_text([row, row, row, ["2026-11-28", "Lead response time", "", "5"]])
    second = import_metrics(write_csv(tmp_path / "longer.csv", longer))
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "Imported 2 samples into room 'demo' (2 rows already there)."
    new = [s for k, s in export_json()["samples"].items() if k not in demo_room["samples"]]
    assert sorted(map(sample_key, new)) == sorted([("lead-response", None, "2026-11-27", 3.0)] * 3
                                                  + [("lead-response", None, "2026-11-28", 5.0)])


# ---------------------------------------------------------------------- a room the app has open


def test_import_while_the_app_has_the_room_open_changes_nothing(demo_room, data_dir, tmp_path):
    path = write_csv(tmp_path / "metrics.csv", good_csv())
    with holding(data_dir, "demo") as holder:
        before = room_files_state(data_dir)
        result = import_metrics(path)
        assert result.returncode == 1
        assert "Imported" not in result.stdout
        assert "Room 'demo' is already open in another agile-tui" in result.stderr
        assert f"pid {holder.pid}" in result.stderr
        assert "Nothing was imported: the room belongs to the running app." in result.stderr
        assert room_files_state(data_dir) == before  # the lock file too
    assert export_json() == demo_room
    # Once the app has closed the room, the same file imports.
    after = import_metrics(path)
    assert after.returncode == 0, after.stderr
    assert f"Imported {len(GOOD_ROWS)} samples" in after.stdout
