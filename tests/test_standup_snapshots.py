"""How the standup looks at 120×40 on the demo room with a fake clock: the lobby, the clock green, amber and
in overtime, and the summary. Update after a deliberate change with `make snapshots`."""

from __future__ import annotations

import pytest

from agile_tui.domain import FakeClock

from .conftest import TODAY, make_test_app, open_session


@pytest.fixture
def standup_app(data_dir):
    sessions = []

    def build():
        clock = FakeClock(f"{TODAY}T09:00:00+00:00")
        session = open_session(data_dir, "demo", clock, seed_demo=True)
        sessions.append(session)
        return make_test_app(session), clock

    yield build
    for session in sessions:
        session.close()


async def start(pilot) -> None:
    await pilot.press("2", "s")
    await pilot.pause()
    await pilot.press("tab", "tab", "space", "ctrl+s")  # fixed order, so the picture is the same every run
    await pilot.pause()


async def settle(pilot) -> None:
    await pilot.pause()
    pilot.app.get_screen_for_mode("standup")._tick()  # the clock shows the fake clock's time now
    await pilot.pause()


@pytest.mark.parametrize("seconds, band", [(30, "green"), (140, "amber"), (200, "overtime")])
def test_the_speakers_clock(snap_compare, standup_app, seconds, band):
    app, clock = standup_app()

    async def run(pilot):
        await start(pilot)
        await pilot.press("i", *"Booked the Klarna demo 🚀", "enter")
        clock.advance(seconds)
        await pilot.press("escape")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run)


def test_the_summary(snap_compare, standup_app):
    app, clock = standup_app()

    async def run(pilot):
        await start(pilot)
        for n, seconds in enumerate((95, 170, 0, 140, 61, 200)):
            clock.advance(seconds)
            if seconds == 0:
                await pilot.press("x")  # absent
                continue
            if n == 1:
                await pilot.press("p", *"Pricing for multi-year deals", "enter")
            await pilot.press("n")
        await pilot.press("e")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run)


def test_the_lobby(snap_compare, standup_app):
    app, _clock = standup_app()

    async def run(pilot):
        await pilot.press("2")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run)
