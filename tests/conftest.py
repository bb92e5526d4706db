"""Shared fixtures: real stores in temporary folders, a fake clock, the demo room."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agile_tui.domain import FakeClock
from agile_tui.domain.demo import demo_ops

TODAY = "2026-11-28"


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    """Never touch the real user folders."""
    monkeypatch.setenv("AGILE_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AGILE_TUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(f"{TODAY}T09:00:00+00:00")


@pytest.fixture
def data_dir(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    return folder


def open_session(data_dir: Path, room: str, clock, seed_demo: bool = False):
    from agile_tui.session import RoomSession
    from agile_tui.store import RoomStore

    store = RoomStore.open(data_dir, room)
    session = RoomSession(store, clock=clock)
    if seed_demo and store.seq == 0:
        for op in demo_ops(clock.now().date()):
            session.submit_op(op)
        session.flush()
    return session


@pytest.fixture
def session(data_dir, clock):
    s = open_session(data_dir, "team", clock)
    yield s
    s.close()


@pytest.fixture
def demo_session(data_dir, clock):
    s = open_session(data_dir, "demo", clock, seed_demo=True)
    yield s
    s.close()


def make_test_app(session, tmp_path: Path | None = None, theme: str | None = None):
    from agile_tui.config import Memory
    from agile_tui.ui.app import make_app

    folder = Path(os.environ["AGILE_TUI_DATA_DIR"])
    memory = Memory.load(folder)
    if theme:
        memory.theme = theme
    return make_app(session, memory=memory, config_dir=Path(os.environ["AGILE_TUI_CONFIG_DIR"]),
                    today=session.clock.now().date())
