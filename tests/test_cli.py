"""The `agile-tui` command, run for real: every call is a subprocess (`python -m agile_tui ...`) on real rooms
in a temporary data folder, and rooms are held open by other real processes. Nothing of ours is mocked."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from agile_tui.domain import FakeClock
from agile_tui.domain.report import public_content

from .conftest import TODAY, open_session

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60  # seconds; a generous ceiling for a slow CI machine, never a sleep
HEAVY = {"textual", "tinydb", "httpx", "rich", "plotext", "textual_plotext", "yaml"}
GOAL = "Book 12 qualified demos with Nordic fintech accounts."

# A second process that owns a room the way the app does: RoomStore + RoomSession. It optionally adds an
# item (argv[3] is its title), waits until the op is on disk, says "ready", and keeps the room until a line
# arrives on stdin.
HOLDER = r"""
import sys
from agile_tui.domain import SystemClock
from agile_tui.session import RoomSession
from agile_tui.store import RoomStore

data, room = sys.argv[1], sys.argv[2]
title = sys.argv[3] if len(sys.argv) > 3 else ""
store = RoomStore.open(data, room)
session = RoomSession(store, clock=SystemClock())
if title:
    session.submit("item.add", id="item-held-" + str(store.seq), title=title)
    session.flush()
print("ready", flush=True)
sys.stdin.readline()
session.close()
print("closed", flush=True)
"""


# ---------------------------------------------------------------------- helpers


def cli_env() -> dict[str, str]:
    env = dict(os.environ)  # carries the tmp AGILE_TUI_DATA_DIR / AGILE_TUI_CONFIG_DIR of the autouse fixture
    env.pop("PYTHONWARNINGS", None)
    return env


def run_cli(*args: str, xopts: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *xopts, "-m", "agile_tui", *args], cwd=ROOT, env=cli_env(),
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT,
                          encoding="utf-8", errors="replace")


def imported_modules(importtime_stderr: str) -> set[str]:
    """Top-level names of every module in a `python -X importtime` report."""
    names = set()
    for line in importtime_stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        name = line.rsplit("|", 1)[1].strip()
        if name and name != "package":  # skip the header row
            names.add(name.split(".")[0])
    return names


def room_files_state(data_dir: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of the rooms folder: its bytes and its mtime (ns)."""
    folder = data_dir / "rooms"
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir()) if p.is_file()}


def wait_for_output(proc: subprocess.Popen, expected: bytes, timeout: float = TIMEOUT) -> bytes:
    """Read ``proc``'s stdout until ``expected`` appears (or EOF, or the deadline)."""
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    seen = b""
    while expected not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:  # EOF: the process ended
            break
        seen += chunk
    if expected not in seen:
        proc.kill()
        _, err = proc.communicate(timeout=TIMEOUT)
        raise AssertionError(f"never printed {expected!r}; stdout={seen!r}, stderr={err!r}")
    return seen


@contextmanager
def holding(data_dir: Path, room: str, title: str = ""):
    """A separate process that owns ``room`` (and, with ``title``, has added an item) until the block ends."""
    args = [sys.executable, "-c", HOLDER, str(data_dir), room] + ([title] if title else [])
    proc = subprocess.Popen(args, cwd=ROOT, env=cli_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, bufsize=0)
    try:
        wait_for_output(proc, b"ready")
        yield proc
        proc.stdin.write(b"\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0, err.decode("utf-8", "replace")
        assert b"closed" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=TIMEOUT)


def write_csv(path: Path, text: str, bom: bool = False) -> Path:
    path.write_bytes(text.encode("utf-8-sig" if bom else "utf-8"))
    return path


def export_json(room: str = "demo") -> dict:
    result = run_cli("export", "--format", "json", "--room", room)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def _demo_template(tmp_path_factory) -> tuple[Path, dict]:
    """The demo room built once per module by the real store (seeding it fsyncs ~1000 ops)."""
    folder = tmp_path_factory.mktemp("demo-template")
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
    for path in rooms.iterdir():  # snapshot, journal and lock file, as a closed room leaves them
        shutil.copy2(path, data_dir / "rooms" / path.name)
    return json.loads(json.dumps(expected))


# ---------------------------------------------------------------------- --version / --help


def test_version_prints_the_version():
    from agile_tui import __version__

    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"agile-tui {__version__}"


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    for word in ("usage: agile-tui", "--demo", "export", "import", "rooms", "--data-dir",
                 "AGILE_TUI_DATA_DIR"):
        assert word in result.stdout


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_import_nothing_heavy(flag):
    result = run_cli(flag, xopts=("-X", "importtime"))
    assert result.returncode == 0, result.stderr
    modules = imported_modules(result.stderr)
    assert "agile_tui" in modules, "the importtime report was not parsed"
    assert not modules & HEAVY, f"{flag} imported {sorted(modules & HEAVY)}"


# ---------------------------------------------------------------------- export


def test_export_json_is_the_whole_room(demo_room):
    result = run_cli("export", "--format", "json", "--room", "demo")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert data == demo_room
    titles = {item["title"] for item in data["items"].values()}
    assert {"Book demo with Nordea innovation team", "谈判：上海客户续约 renewal",
            "Clean up stale opportunities in CRM"} <= titles
    assert data["members"]["m-wang"]["name"] == "王芳"


def test_export_uses_the_demo_room_by_default(demo_room):
    result = run_cli("export", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == demo_room


def test_export_markdown_has_the_goal_and_a_table(demo_room):
    result = run_cli("export", "--format", "markdown", "--room", "demo")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("# Nordic Sales Pod — room demo\n")
    assert f"**Goal:** {GOAL}" in text
    assert "| # | Item | Owner | Est. | Status |" in text
    assert "|---|------|-------|------|--------|" in text
    assert "| 谈判：上海客户续约 renewal | 王芳 | 3 | todo |" in text
    assert "blocked (Waiting for legal to approve the DPA)" in text
    assert "## Backlog (6 items)" in text
    assert "- Sprint 1: " in text  # velocity of the closed sprint


def test_export_of_a_missing_room_says_so():
    result = run_cli("export", "--room", "nosuchroom")
    assert result.returncode != 0
    assert result.stdout == ""
    assert "There is no room 'nosuchroom'" in result.stderr


def test_export_refuses_an_invalid_room_name(data_dir):
    result = run_cli("export", "--room", "../etc")
    assert result.returncode != 0
    assert "not a valid room name" in result.stderr
    assert not (data_dir / "etc.json").exists()


def test_rooms_lists_the_saved_rooms(demo_room, data_dir, clock):
    open_session(data_dir, "team-b", clock).close()
    result = run_cli("rooms")
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {"demo", "team-b"}


def test_export_while_another_process_has_the_room_open(demo_room, data_dir):
    title = f"Held item {uuid.uuid4().hex[:8]} — 王芳 🚀"
    with holding(data_dir, "demo", title):
        before = room_files_state(data_dir)
        result = run_cli("export", "--format", "json", "--room", "demo")
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        held = [item for item in data["items"].values() if item["title"] == title]
        assert len(held) == 1, "the op appended by the other process is not in the export"
        assert held[0]["sprint_id"] is None
        assert data["seq"] == demo_room["seq"] + 1

        markdown = run_cli("export", "--format", "markdown", "--room", "demo")
        assert markdown.returncode == 0, markdown.stderr
        assert f"- {title}" in markdown.stdout
        assert "## Backlog (7 items)" in markdown.stdout
        # Export takes no lock and writes nothing: same files, same bytes, same times (lock file too).
        assert room_files_state(data_dir) == before
    after = export_json()
    assert [i for i in after["items"].values() if i["title"] == title]


# ---------------------------------------------------------------------- import backlog

GOOD_ROWS = [
    # title, owner as written, owner id, estimate, status
    ("Call 王芳 about the Nordea renewal", "王芳", "m-wang", "5", "todo"),
    ("Prep pricing, terms and DPA for Klarna", "Lucas García", "m-lucas", "3", "doing"),
    ("Send the recap to Ana", "ana souza 🚀", "m-ana", "?", "done"),
    ("Unowned idea", "", "", "", "todo"),
]


def _csv_text(delimiter: str, newline: str = "\n") -> str:
    lines = [delimiter.join(["title", "owner", "estimate", "status"])]
    for title, owner, _, estimate, status in GOOD_ROWS:
        cells = [f'"{title}"' if delimiter in title else title, owner, estimate, status]
        lines.append(delimiter.join(cells))
    return newline.join(lines) + newline


def _check_imported(result, before: dict) -> None:
    assert result.returncode == 0, result.stderr
    assert f"Imported {len(GOOD_ROWS)} items" in result.stdout
    after = export_json()
    new = {k: v for k, v in after["items"].items() if k not in before["items"]}
    assert len(new) == len(GOOD_ROWS)
    by_title = {item["title"]: item for item in new.values()}
    for title, _, owner_id, estimate, status in GOOD_ROWS:
        item = by_title[title]
        assert (item["owner"], item["estimate"], item["status"], item["sprint_id"]) == \
               (owner_id, estimate, status, None), title
    # Appended at the end of the backlog, in file order.
    backlog = sorted((i for i in after["items"].values() if i["sprint_id"] is None), key=lambda i: i["rank"])
    assert [i["title"] for i in backlog[-len(GOOD_ROWS):]] == [row[0] for row in GOOD_ROWS]
    # Everything that was there is still there, unchanged.
    assert {k: v for k, v in after["items"].items() if k in before["items"]} == before["items"]


@pytest.mark.parametrize("variant", ["comma", "bom", "semicolon-crlf-bom"])
def test_import_backlog_imports_every_row(demo_room, tmp_path, variant):
    if variant == "comma":
        path = write_csv(tmp_path / "backlog.csv", _csv_text(","))
    elif variant == "bom":
        path = write_csv(tmp_path / "backlog.csv", _csv_text(","), bom=True)
    else:
        path = write_csv(tmp_path / "backlog.csv", _csv_text(";", "\r\n"), bom=True)
    result = run_cli("import", "backlog", str(path), "--room", "demo")
    _check_imported(result, demo_room)


def test_import_semicolon_file_with_commas_in_titles(demo_room, tmp_path):
    title = "Follow up with Klarna, Nordea, Zalando, Bolt, Vinted, and Spotify"
    rows = [f"{title} {n};王芳;3;todo" for n in range(3)]
    path = write_csv(tmp_path / "backlog.csv", "title;owner;estimate;status\n" + "\n".join(rows) + "\n")
    result = run_cli("import", "backlog", str(path), "--room", "demo")
    assert result.returncode == 0, result.stderr
    titles = {i["title"] for i in export_json()["items"].values()}
    assert {f"{title} {n}" for n in range(3)} <= titles


BAD_CSV = """title,owner,estimate,status
A fine row,王芳,3,todo
Ask about the budget,Nobody Here,3,todo
Estimate off the deck,,4,todo
Stuck on legal,,2,blocked
,王芳,1,todo
Waiting on the client,,1,waiting
"""
BAD_LINES = {
    3: "unknown owner 'Nobody Here'",
    4: "estimate '4' is not in the deck",
    5: "status 'blocked'",
    6: "the title is empty",
    7: "status 'waiting'",
}


def test_import_backlog_reports_every_bad_row_and_changes_nothing(demo_room, data_dir, tmp_path):
    path = write_csv(tmp_path / "bad.csv", BAD_CSV)
    before = room_files_state(data_dir)
    result = run_cli("import", "backlog", str(path), "--room", "demo")
    assert result.returncode != 0
    assert "Imported" not in result.stdout
    assert "nothing imported" in result.stderr
    lines = result.stderr.splitlines()
    for number, fragment in BAD_LINES.items():
        assert any(f"line {number}:" in line and fragment in line for line in lines), \
            f"line {number} ({fragment}) not reported in:\n{result.stderr}"
    assert not any("line 2:" in line for line in lines), "the good row was reported as bad"
    assert export_json() == demo_room
    after = room_files_state(data_dir)
    for name in ("demo.json", "demo.journal"):
        assert after[name] == before[name], f"{name} was modified by a refused import"
    assert set(after) == set(before)


def test_import_of_a_file_that_is_not_utf8_says_so(demo_room, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("title,owner\nCafé meeting,Lucas García\n".encode("latin-1"))
    result = run_cli("import", "backlog", str(path), "--room", "demo")
    assert result.returncode != 0
    assert "not UTF-8" in result.stderr
    assert export_json() == demo_room


def test_import_of_a_missing_file_says_so(demo_room, tmp_path):
    result = run_cli("import", "backlog", str(tmp_path / "nope.csv"), "--room", "demo")
    assert result.returncode != 0
    assert "cannot read" in result.stderr and "nope.csv" in result.stderr


def test_import_into_a_room_open_elsewhere_changes_nothing(demo_room, data_dir, tmp_path):
    path = write_csv(tmp_path / "backlog.csv", _csv_text(","))
    with holding(data_dir, "demo") as holder:
        before = room_files_state(data_dir)
        result = run_cli("import", "backlog", str(path), "--room", "demo")
        assert result.returncode != 0
        assert "Imported" not in result.stdout
        assert "already open" in result.stderr
        assert f"pid {holder.pid}" in result.stderr
        assert "Nothing was imported" in result.stderr
        assert room_files_state(data_dir) == before
    assert export_json() == demo_room


# ---------------------------------------------------------------------- a second agile-tui


def test_second_app_on_the_same_room_fails_fast_naming_the_first(demo_room, data_dir):
    with holding(data_dir, "demo") as holder:
        before = room_files_state(data_dir)
        result = run_cli("--demo", xopts=("-X", "importtime"))
        assert result.returncode != 0
        message = [line for line in result.stderr.splitlines() if line.startswith("agile-tui:")]
        assert len(message) == 1, result.stderr
        assert "Room 'demo' is already open in another agile-tui" in message[0]
        assert f"pid {holder.pid}" in message[0]
        assert "Close that one first" in message[0]
        # Fast: it gave up before loading the UI at all.
        assert "textual" not in imported_modules(result.stderr)
        assert room_files_state(data_dir) == before
    # The holder closed normally; nothing was lost.
    assert export_json() == demo_room


# ---------------------------------------------------------------------- a corrupt room file

GARBAGE = b'{"meta": {"1": {"schema": 1, "seq": 12}}, "state": {"1": {"room": \x00\xff garbage'


@pytest.fixture
def corrupt_room(demo_room, data_dir) -> Path:
    path = data_dir / "rooms" / "demo.json"
    path.write_bytes(GARBAGE)
    return path


def _aside_copies(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".corrupt-*"))


def test_export_of_a_corrupt_room_says_what_is_wrong_and_touches_nothing(corrupt_room, data_dir):
    before = room_files_state(data_dir)
    for fmt in ("json", "markdown"):
        result = run_cli("export", "--format", fmt, "--room", "demo")
        if result.returncode == 0:
            assert result.stdout.strip(), "a successful export printed nothing"
        assert str(corrupt_room) in result.stderr
        assert "could not be read" in result.stderr
        assert "not valid JSON" in result.stderr
    # Export is read-only: the bad file stays where it is, byte for byte, and nothing is set aside.
    assert room_files_state(data_dir) == before
    assert corrupt_room.read_bytes() == GARBAGE
    assert _aside_copies(corrupt_room) == []


def test_opening_a_corrupt_room_keeps_the_bad_file_aside(corrupt_room, tmp_path):
    path = write_csv(tmp_path / "backlog.csv", "title\nStart over\n")
    result = run_cli("import", "backlog", str(path), "--room", "demo")
    assert result.returncode == 0, result.stderr
    aside = _aside_copies(corrupt_room)
    assert len(aside) == 1, list(corrupt_room.parent.iterdir())
    assert aside[0].read_bytes() == GARBAGE
    # The room file is readable again; the later exports are clean.
    again = run_cli("export", "--format", "json", "--room", "demo")
    assert again.returncode == 0 and again.stderr == ""
    assert [i["title"] for i in json.loads(again.stdout)["items"].values()] == ["Start over"]


def test_import_into_a_corrupt_room_tells_the_user(corrupt_room, tmp_path):
    path = write_csv(tmp_path / "backlog.csv", "title\nStart over\n")
    result = run_cli("import", "backlog", str(path), "--room", "demo")
    assert "could not be read" in result.stderr
    assert ".corrupt-" in result.stderr


def test_export_of_a_new_room_names_it(tmp_path):
    path = write_csv(tmp_path / "backlog.csv", "title\nFirst lead list\n")
    assert run_cli("import", "backlog", str(path), "--room", "q3-pipeline").returncode == 0
    result = run_cli("export", "--format", "markdown", "--room", "q3-pipeline")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].endswith("room q3-pipeline")


def test_a_new_room_starts_with_the_default_sales_metrics(data_dir, clock):
    from agile_tui.cli import name_new_room
    from agile_tui.domain.demo import METRICS

    from .conftest import open_session

    session = open_session(data_dir, "fresh", clock)
    name_new_room(session, "fresh")
    assert sorted(m.name for m in session.state.metrics.values()) == sorted(m[1] for m in METRICS)
    assert not session.state.undo.get(session.actor)  # nothing for `u` to take back
    session.close()
