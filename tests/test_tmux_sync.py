"""A shared room in a real terminal: `agile-tui join URL --name` under tmux against a hub in a subprocess.
The teammate adds an item from the keyboard, the facilitator's client gets it, the hub goes down and comes back
(the header says so), and after quitting, plain `agile-tui` reopens the room through its hub."""

from __future__ import annotations

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
        term.type("Call 李雷 back 🚀")
        term.keys("Enter")
        wait_for(lambda: any(i.title == "Call 李雷 back 🚀" for i in ana.state.items.values()), 20,
                 "Ben's item at Ana")
        hub.kill()
        term.wait_for(lambda s: "reconnecting" in s or "offline" in s, "the header to say the hub is gone")
        term.type("While the hub was down")  # the editor stays open for the next item
        term.keys("Enter")
        term.wait_for(lambda s: "1 waiting" in words(s), "one change waiting")
        term.keys("Escape")
        term.wait_for(lambda s: "Close editor" not in s and "next item in" not in s, "the editor to close")
        term.keys("q")
        assert term.wait_for_exit() == 0
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
