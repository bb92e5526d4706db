"""Helpers for the client-side sync tests: a real hub, rooms linked through the real `share` and `join`
commands, and SharedSessions opened on them. Nothing of ours is mocked."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from agile_tui.cli import main as cli
from agile_tui.store import RoomStore
from agile_tui.sync.local import SharedFiles, list_shared, read_link
from agile_tui.sync.session import SharedSession

from .hubkit import team_state


def make_local_room(data_dir: Path, room: str = "team") -> None:
    """A local room with the hubkit team (ana, ben, cai; retro r1 in reflect), as if planned offline."""
    from agile_tui.domain import FakeClock, make_op

    store = RoomStore.open(data_dir, room)
    try:
        state = team_state(anonymous=False)
        store.append(make_op("room.setup", FakeClock("2026-11-30T09:00:00+00:00"), name=room, team="Sales"),
                     state=state)
        store.compact(state, store.seq)
    finally:
        store.close()


def share_room(hub_url: str, data_dir: Path, room: str = "team", name: str = "Ana", capsys=None) -> str:
    """`agile-tui share`; returns the invite URL it printed."""
    make_local_room(data_dir, room)
    assert cli(["share", "--data-dir", str(data_dir), "--room", room, "--server", hub_url, "--name", name]) == 0
    link = read_link(data_dir, room)
    assert link is not None and link.role == "facilitator"
    return link.invite_url()


def join_room(invite: str, data_dir: Path, name: str) -> str:
    """`agile-tui join --no-open`; returns the local room name."""
    assert cli(["join", invite, "--name", name, "--data-dir", str(data_dir), "--no-open"]) == 0
    rooms = list_shared(data_dir)
    assert len(rooms) == 1
    return rooms[0]


def open_session(data_dir: Path, room: str) -> SharedSession:
    return SharedSession(SharedFiles(data_dir, room))


def wait_for(check: Callable[[], bool], timeout: float = 10.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def live(*sessions: SharedSession) -> None:
    wait_for(lambda: all(s.connection.status == "live" for s in sessions), what="every client to be live")


def settled(*sessions: SharedSession, timeout: float = 15.0) -> None:
    """Every client's ops are on the hub and every client has every seq of the hub."""
    for s in sessions:
        assert s.wait_sent(timeout), f"{s.link.name} still has {len(s.replica.pending)} ops waiting"
    wait_for(lambda: len({s.replica.seq for s in sessions}) == 1 and not any(s.replica.pending for s in sessions),
             timeout, "every client to reach the same seq")


@contextmanager
def ana_and_ben(tmp_path: Path):
    """A real hub; Ana shares the team room (her data in tmp_path/ana), Ben joins (tmp_path/ben); both clients
    open and live. Yields (hub, ana, ben, Ben's local room name); both are closed after."""
    from .hubkit import running_hub

    with running_hub(tmp_path / "hub") as hub:
        invite = share_room(hub.url, tmp_path / "ana")
        room_b = join_room(invite, tmp_path / "ben", "Ben")
        ana, ben = open_session(tmp_path / "ana", "team"), open_session(tmp_path / "ben", room_b)
        try:
            live(ana, ben)
            yield hub, ana, ben, room_b
        finally:
            ana.close()
            ben.close()
