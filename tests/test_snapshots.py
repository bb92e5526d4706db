"""How the planning screen looks: 120×40 and 80×24, dark and light, on the demo room at a fixed date.
Update after a deliberate change with `make snapshots` (look at snapshot_report.html first)."""

from __future__ import annotations

import pytest

from agile_tui.domain import FakeClock

from .conftest import TODAY, make_test_app, open_session


@pytest.fixture
def demo_app_factory(data_dir):
    sessions = []

    def build(theme: str):
        session = open_session(data_dir, "demo", FakeClock(f"{TODAY}T09:00:00+00:00"), seed_demo=True)
        sessions.append(session)
        return make_test_app(session, theme=theme)

    yield build
    for session in sessions:
        session.close()


async def settle(pilot):
    """Let the burndown (mounted a moment after the first paint) arrive."""
    await pilot.pause(0.5)
    await pilot.pause()


@pytest.mark.parametrize("theme", ["agile-dark", "agile-light"])
@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_planning_screen(snap_compare, demo_app_factory, theme, size):
    assert snap_compare(demo_app_factory(theme), terminal_size=size, run_before=settle)


def test_planning_with_editor_open(snap_compare, demo_app_factory):
    async def open_editor(pilot):
        await settle(pilot)
        await pilot.press("a")
        for ch in "Call 王芳 [bold]now[/] 🚀":
            await pilot.press(ch if ch != " " else "space")
        await pilot.pause()

    assert snap_compare(demo_app_factory("agile-dark"), terminal_size=(120, 40), run_before=open_editor)
