"""How the metrics board looks at 120×40 on the demo room (green, amber and red rows, focus metrics first) and a
metric's detail chart. Update after a deliberate change with `make snapshots`."""

from __future__ import annotations

from agile_tui.domain import FakeClock

from .conftest import TODAY, make_test_app, open_session


def demo_app(data_dir):
    session = open_session(data_dir, "demo", FakeClock(f"{TODAY}T09:00:00+00:00"), seed_demo=True)
    return make_test_app(session), session


async def board_with_a_red_row(pilot) -> None:
    await pilot.press("3")
    await pilot.pause()
    for _ in range(4):  # focus metrics first, then by name: Average deal size, Lead response time
        await pilot.press("j")
    await pilot.press("a", *"30", "enter")  # 30 min against a 5 min target: red
    await pilot.pause(0.3)


def test_the_board(snap_compare, data_dir):
    app, session = demo_app(data_dir)
    try:
        assert snap_compare(app, terminal_size=(120, 40), run_before=board_with_a_red_row)
    finally:
        session.close()


def test_a_detail_chart(snap_compare, data_dir):
    app, session = demo_app(data_dir)

    async def detail(pilot):
        await pilot.press("3", "enter")  # Listen share (a focus metric), per member
        await pilot.pause(0.5)

    try:
        assert snap_compare(app, terminal_size=(120, 40), run_before=detail)
    finally:
        session.close()
