"""The real app in a real terminal: `python -m agile_tui` runs inside a detached tmux session, keys go in with
`send-keys`, and the screen comes back with `capture-pane`. What the app saved is then read back with the
real `agile-tui export`. Every wait polls the screen (or the pane) for a condition, with a deadline."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.renderables.digits import DIGITS, DIGITS3X3, DIGITS3X3_BOLD

from .conftest import open_session

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 30.0  # seconds for any one condition to show up; the poll returns as soon as it does
POLL = 0.05

pytestmark = [
    pytest.mark.serial,
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def app_env() -> dict[str, str]:
    env = dict(os.environ)  # the tmp AGILE_TUI_DATA_DIR / AGILE_TUI_CONFIG_DIR of the autouse fixture
    locale = " ".join(env.get(k, "") for k in ("LC_ALL", "LC_CTYPE", "LANG")).lower()
    if "utf-8" not in locale and "utf8" not in locale:
        env["LANG"] = "C.UTF-8"
    env.pop("TMUX", None)  # never talk to a tmux we may be running inside
    # pytest-xdist workers export COLUMNS=80 LINES=24; Textual (shutil.get_terminal_size) would believe them
    # over the real terminal, and never see a resize.
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    env["PYTHONFAULTHANDLER"] = "1"  # see Tmux.dump_threads
    return env


class Tmux:
    """One private tmux server (its own socket) holding one session, ``app``, whose pane runs the app.

    The app runs under ``/bin/sh -c 'app; echo $? > exit-status'``: the file says when and how it ended.
    (tmux's own ``#{pane_dead_status}`` is not reliable: tmux 3.3a was seen marking the pane dead when its
    terminal closed, then leaving the exited app an unreaped zombie with no status for good.)"""

    def __init__(self, folder: Path) -> None:
        self.socket = f"agile-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.env = app_env()
        self.exit_file = folder / "exit-status"

    def tmux(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(["tmux", "-u", "-L", self.socket, "-f", "/dev/null", *args], env=self.env,
                                capture_output=True, timeout=TIMEOUT, encoding="utf-8", errors="replace")
        if check and result.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def start(self, *app_args: str, width: int = 120, height: int = 40) -> None:
        # No redirection of the app's output: Textual draws on stderr. remain-on-exit keeps the pane (and
        # what the app printed last) after it ends.
        app = shlex.join([sys.executable, "-m", "agile_tui", *app_args])
        marker = shlex.quote(str(self.exit_file))
        script = f"{app}; echo $? > {marker}.tmp && mv {marker}.tmp {marker}"
        env_args = []
        for name in ("AGILE_TUI_DATA_DIR", "AGILE_TUI_CONFIG_DIR", "LANG", "PYTHONFAULTHANDLER"):
            if name in self.env:
                env_args += ["-e", f"{name}={self.env[name]}"]
        self.tmux("start-server", ";", "set-option", "-g", "remain-on-exit", "on", ";",
                  "new-session", "-d", "-s", "app", "-x", str(width), "-y", str(height), "-c", str(ROOT),
                  *env_args, shlex.join(["/bin/sh", "-c", script]))

    def kill(self) -> None:
        self.tmux("kill-server", check=False)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "app")

    def exit_status(self) -> int | None:
        """The app's exit status, or None while it runs."""
        try:
            return int(self.exit_file.read_text())
        except FileNotFoundError:
            return None

    def size(self) -> tuple[int, int]:
        out = self.tmux("display-message", "-p", "-t", "app", "#{window_width} #{window_height}")
        width, height = out.split()
        return int(width), int(height)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "app", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "app", "-l", text)

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float = TIMEOUT) -> str:
        """Poll the screen until ``condition(screen)`` holds; fail (showing the screen) at the deadline or
        as soon as the app has ended."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if condition(screen):
                return screen
            status = self.exit_status()
            if status is not None:
                screen = self.tmux("capture-pane", "-p", "-t", "app", "-S", "-500")
                raise AssertionError(f"the app ended (status {status}) before {what}:\n{screen}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}:\n{screen}")
            time.sleep(POLL)

    def wait_for_exit(self, timeout: float = TIMEOUT) -> int:
        """The app's exit status, once it has ended."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.exit_status()
            if status is not None:
                return status
            if time.monotonic() > deadline:
                raise AssertionError(f"the app did not exit within {timeout}s:\n{self.dump_threads()}")
            time.sleep(POLL)

    def dump_threads(self) -> str:
        """For a hung app: SIGABRT makes faulthandler (PYTHONFAULTHANDLER=1) print every thread's stack on
        the pane; return the pane with its scrollback."""
        shell = self.tmux("display-message", "-p", "-t", "app", "#{pane_pid}", check=False).strip()
        try:
            children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
        except OSError:
            children = []
        for pid in children:
            try:
                os.kill(int(pid), signal.SIGABRT)
            except (ProcessLookupError, ValueError):
                pass
        deadline = time.monotonic() + 5
        while children and self.exit_status() is None and time.monotonic() < deadline:
            time.sleep(POLL)
        return self.tmux("capture-pane", "-p", "-t", "app", "-S", "-500", check=False)


@pytest.fixture
def term(tmp_path):
    tmux = Tmux(tmp_path)
    try:
        yield tmux
    finally:
        tmux.kill()


def words(screen: str) -> str:
    """The screen's text as one line of words: box-drawing and block glyphs (borders, the toast's edge) and
    line ends become spaces, so a phrase wrapped inside a box is found whole."""
    return " ".join("".join(" " if 0x2500 <= ord(c) <= 0x259F else c for c in screen).split())


def export_json(room: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agile_tui", "export", "--format", "json", "--room", room],
                          cwd=ROOT, env=app_env(), stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=TIMEOUT * 2, encoding="utf-8")


def test_add_an_item_with_chinese_and_emoji_then_quit(term):
    title = "Call 王芳 about renewal 🚀"
    term.start("--demo")
    term.wait_for(lambda s: "Goal:" in s, "the header")
    assert "Goal: Book 12 qualified demos with Nordic fintech accounts." in term.screen()

    term.keys("a")
    term.wait_for(lambda s: "New item in the sprint" in s, "the item editor")
    term.type(title)
    term.wait_for(lambda s: title in s, "the typed title in the editor")
    term.keys("Enter")
    term.wait_for(lambda s: any(title in line and "todo" in line for line in s.splitlines()),
                  "the new item as a row of the sprint list")
    term.keys("Escape")
    screen = term.wait_for(lambda s: "Close editor" not in s and "next item in" not in s, "the editor to close")
    assert title in screen

    term.keys("q")
    assert term.wait_for_exit() == 0

    result = export_json("demo")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    found = [item for item in data["items"].values() if item["title"] == title]
    assert len(found) == 1, [item["title"] for item in data["items"].values()]
    assert found[0]["sprint_id"] == "sprint-2"  # added to the focused list: the active sprint
    assert found[0]["status"] == "todo"


def test_resize_relays_out_the_planning_screen(term):
    term.start("--demo", width=120, height=40)
    term.wait_for(lambda s: "Goal:" in s and "Burndown · Sprint 2" in s and "day of sprint" in s,
                  "the header and the burndown chart at 120 columns")

    term.tmux("resize-window", "-t", "app", "-x", "80", "-y", "24")
    assert term.size() == (80, 24)
    screen = term.wait_for(lambda s: "Burndown" not in s and "day of sprint" not in s
                           and "Goal:" in s and "Title" in s and "Sprint 2 · active" in s
                           and len(s.splitlines()) <= 24,
                           "the chart to go at 80 columns")
    assert "Goal: Book 12 qualified" in screen
    assert "Sprint 2 · active" in screen  # the lists are still there
    assert "Title" in screen

    term.tmux("resize-window", "-t", "app", "-x", "120", "-y", "40")
    term.wait_for(lambda s: "Burndown · Sprint 2" in s and "Goal:" in s,
                  "the chart to come back at 120 columns")

    term.keys("q")
    assert term.wait_for_exit() == 0


def test_app_on_a_corrupt_room_says_so_and_keeps_the_bad_file(term, data_dir, clock):
    open_session(data_dir, "team", clock, seed_demo=True).close()
    bad = data_dir / "rooms" / "team.json"
    garbage = b'{"meta": {"1": {"schema": 1, "seq": 7}}, "state": \x00\xff not json'
    bad.write_bytes(garbage)

    term.start("--room", "team")
    term.wait_for(lambda s: "Goal:" in s, "the header")
    # The notification wraps inside its box: compare the words, not the lines.
    screen = term.wait_for(lambda s: "could not be read" in words(s),
                           "the notification about the unreadable room file")
    assert "kept unchanged" in words(screen)
    assert str(bad) in words(screen).replace(" ", "") or "team.json" in words(screen)

    aside = sorted(bad.parent.glob("team.json.corrupt-*"))
    assert len(aside) == 1
    assert aside[0].read_bytes() == garbage

    term.keys("q")
    assert term.wait_for_exit() == 0
    result = export_json("team")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert json.loads(result.stdout)["items"] == {}  # the room started empty, as the message said


# The glyphs of Textual's Digits widget (3 columns by 3 rows a character, plain and bold), read back to text.
GLYPHS = {tuple(font[3 * n + row].ljust(3) for row in range(3)): char
          for font in (DIGITS3X3, DIGITS3X3_BOLD) for n, char in enumerate(DIGITS)}
STATUS = re.compile(r"box (\d+):(\d\d)\s+·\s+spoken (\d+):(\d\d)")
CLOCK = re.compile(r"(\d+):(\d\d)")


def read_digits(rows: list[str], column: int) -> str | None:
    """The text a Digits widget draws on these three rows from ``column``, or None if they are not digits."""
    width = max(len(row) for row in rows)
    cells = [row.ljust(width + 3) for row in rows]
    text = ""
    for x in range(column, width, 3):  # glyph by glyph, up to what is not one (the panel's edge)
        char = GLYPHS.get(tuple(cell[x:x + 3] for cell in cells))
        if char is None:
            break
        text += char
    return text.strip() or None


def speaker_clock(screen: str) -> tuple[int, int, int] | None:
    """(seconds left on the big clock, seconds spoken, the box) read off the standup screen, or None when
    the screen shows no consistent clock. The status line ("box 2:30 · spoken 0:03") is under the clock,
    at the same column; the clock's three rows are just above it (the clock has a bottom margin)."""
    lines = screen.splitlines()
    for n, line in enumerate(lines):
        status = STATUS.search(line)
        if status is None:
            continue
        box = int(status[1]) * 60 + int(status[2])
        spoken = int(status[3]) * 60 + int(status[4])
        for top in range(max(0, n - 6), n - 2):
            match = CLOCK.fullmatch(read_digits(lines[top:top + 3], status.start()) or "")
            if match:
                left = int(match[1]) * 60 + int(match[2])
                # The clock counts down on the current second (ceil), "spoken" rounds: both from one frame,
                # they add up to the box or one more. Anything else is a frame caught half drawn.
                return (left, spoken, box) if box <= left + spoken <= box + 1 else None
    return None


def test_standup_clock_counts_down(term):
    term.start("--demo")
    term.wait_for(lambda s: "Goal:" in s, "the planning screen")
    term.keys("2")
    term.wait_for(lambda s: "No standup is running" in s, "the standup lobby")
    term.keys("s")
    term.wait_for(lambda s: "Start today's standup" in s and "Minutes" in s and "Jordan Blake" in s,
                  "the start dialog")
    term.keys("C-s")
    screen = term.wait_for(lambda s: speaker_clock(s) is not None, "the speaker's clock")
    assert "speaker 1 of 6" in screen  # the demo team of six, all present
    first = speaker_clock(screen)
    assert first[2] == 150, screen  # 15 minutes / 6 speakers = a box of 2:30
    assert first[0] <= 150

    # Watch the clock until it has gone down by at least two seconds; every reading on the way is no later
    # than the one before it.
    readings = [first]

    def moved(s: str) -> bool:
        reading = speaker_clock(s)
        if reading is not None and reading != readings[-1]:
            readings.append(reading)
        return readings[-1][0] <= first[0] - 2

    screen = term.wait_for(moved, f"the clock to count down from {first[0]} s (readings {readings})")
    lefts = [left for left, _, _ in readings]
    spokens = [spoken for _, spoken, _ in readings]
    assert lefts == sorted(lefts, reverse=True), readings
    assert spokens == sorted(spokens), readings
    assert spokens[-1] >= spokens[0] + 2, readings
    assert "PAUSED" not in screen and "OVERTIME" not in screen

    term.keys("q")  # a clock runs: the app asks first
    term.wait_for(lambda s: "Quit anyway?" in s, "the quit confirmation")
    term.keys("y")
    assert term.wait_for_exit() == 0
