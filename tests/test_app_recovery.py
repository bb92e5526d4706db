"""The app opens on a damaged room, says what happened, and keeps the bad file aside untouched."""

from __future__ import annotations

from agile_tui.domain import FakeClock

from .conftest import TODAY, make_test_app, open_session


async def test_app_opens_on_a_corrupt_room_and_says_so(data_dir):
    rooms = data_dir / "rooms"
    rooms.mkdir(parents=True)
    garbage = b'{"meta": {"1": {"schema": 1, "seq": 3}}, "state": {"1": {"items": [oops'
    (rooms / "team.json").write_bytes(garbage)
    session = open_session(data_dir, "team", FakeClock(f"{TODAY}T09:00:00+00:00"))
    try:
        assert session.store.problems
        app = make_test_app(session)
        app.startup_problems = list(session.store.problems)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            messages = " ".join(str(n.message) for n in app._notifications)
            assert "corrupt" in messages.lower() or "could not" in messages.lower(), messages
            assert app.current_mode == "planning"
            await pilot.press("T")
            for ch in "Li":
                await pilot.press(ch)
            await pilot.press("enter")
            await pilot.pause()
            assert [m.name for m in session.state.members.values()] == ["Li"]
        kept = list(rooms.glob("team.json.corrupt-*"))
        assert len(kept) == 1 and kept[0].read_bytes() == garbage
    finally:
        session.close()
