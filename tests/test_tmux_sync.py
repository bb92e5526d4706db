"""A shared room in a real terminal: `agile-tui join URL --name` under tmux against a hub in a subprocess.
The teammate adds an item from the keyboard, the facilitator's client gets it, the hub goes down and comes back
(the header says so), and after quitting, plain `agile-tui` reopens the room through its hub."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .hubkit import HubProcess, free_port
from .syncit import live, open_session, settled, share_room, wait_for
from .test_tmux import Tmux, pytestmark, words  # noqa: F401 - the tmux markers apply here too


@pytest.fixture
def term(tmp_path):
    tmux = Tmux(tmp_path)
    try:
        yield tmux
    finally:
        tmux.kill()


def test_join_in_a_terminal_edit_lose_the_hub_and_reopen(term, tmp_path):
    (tmp_path / "hub").mkdir()
    hub = HubProcess(tmp_path / "hub", free_port())
    hub.start()
    try:
        invite = share_room(hub.url, tmp_path / "ana")
        ana = open_session(tmp_path / "ana", "team")
        live(ana)
        ben_dir = Path(os.environ["AGILE_TUI_DATA_DIR"])  # the app's data folder in the terminal
        term.start("join", invite, "--name", "Ben", width=130, height=36)
        term.wait_for(lambda s: "● live" in s and "Ana ★" in s, "Ben's app to be live with Ana here")
        term.keys("a")
        term.wait_for(lambda s: "New item in" in s, "the item editor")
        term.type("Call 李雷 back 🚀")
        term.wait_for(lambda s: "Call 李雷 back 🚀" in s, "the typed title in the editor")
        term.keys("Enter")
        wait_for(lambda: any(i.title == "Call 李雷 back 🚀" for i in ana.state.items.values()), 20,
                 "Ben's item at Ana")
        hub.kill()
        term.wait_for(lambda s: "reconnecting" in s or "offline" in s, "the header to say the hub is gone")
        term.wait_for(lambda s: "Added" in s, "the editor, open for the next item")
        term.type("While the hub was down")
        term.wait_for(lambda s: "While the hub was down" in s, "the second title in the editor")
        term.keys("Enter")
        term.wait_for(lambda s: "1 waiting" in words(s), "one change waiting")
        term.keys("Escape")
        term.wait_for(lambda s: "Close editor" not in s and "next item in" not in s, "the editor to close")
        term.keys("q")
        assert term.wait_for_exit() == 0
        printed = term.tmux("capture-pane", "-p", "-t", "app", "-S", "-200")  # (after the app's screen is gone)
        assert "1 change(s) are saved here and wait for the hub" in words(printed)
        hub.start()
        term.kill()
        term2 = Tmux(tmp_path / "again")
        (tmp_path / "again").mkdir()
        try:
            term2.start(width=130, height=36)  # plain `agile-tui`: the last room, through its hub
            term2.wait_for(lambda s: "● live" in s and "waiting" not in s and "While the hub was down" in s,
                           "the reopened room, live, with the offline change sent")
            live(ana)
            settled(ana)
            assert any(i.title == "While the hub was down" for i in ana.state.items.values())
            term2.keys("q")
            assert term2.wait_for_exit() == 0
        finally:
            term2.kill()
        assert ben_dir.is_dir()
        ana.close()
    finally:
        hub.kill()


def test_a_hang_up_ends_the_app_cleanly_with_the_notes_typed_so_far_saved(term, tmp_path):
    """SIGHUP (the terminal or the SSH link went away): the app saves its drafts, exits 0, frees the room."""
    import signal
    import subprocess
    import sys

    from .test_tmux import ROOT, app_env

    term.start("--demo", width=130, height=36)
    term.wait_for(lambda s: "Backlog" in s, "the planning screen")
    term.keys("2")
    term.wait_for(lambda s: "No standup is running" in s, "the standup lobby")
    term.keys("s")
    term.wait_for(lambda s: "Start" in s and "ctrl+s" in s, "the start dialog")
    term.keys("C-s")
    term.wait_for(lambda s: "Yesterday" in s and "speaker 1 of" in s and "ctrl+s" not in s,
                  "the round, with the notes fields, and the start dialog gone")
    term.keys("i")
    term.type("Draft when the line dropped")
    # (the field may show its end scrolled a little: the saved note below is checked whole)
    term.wait_for(lambda s: "when the line dropped" in s, "the typed note")
    shell = term.tmux("display-message", "-p", "-t", "app", "#{pane_pid}").strip()
    children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
    assert children, "the app's process"
    os.kill(int(children[0]), signal.SIGHUP)
    assert term.wait_for_exit() == 0
    again = subprocess.run([sys.executable, "-m", "agile_tui", "export", "--format", "json", "--room", "demo"],
                           cwd=ROOT, env=app_env(), capture_output=True, timeout=60, encoding="utf-8")
    assert again.returncode == 0, again.stderr
    standups = json.loads(again.stdout)["standups"].values()
    notes = [u["yesterday"] for s in standups if s["status"] == "live" for u in s["updates"]]
    assert "Draft when the line dropped" in notes
    from agile_tui.store import RoomStore  # the room is free again: this process can own it

    RoomStore.open(Path(os.environ["AGILE_TUI_DATA_DIR"]), "demo").close()
