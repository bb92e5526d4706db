"""A shared room's screens under Pilot, with a real hub: what a participant's role hides, the header's
connection state, a participant's own standup notes (private until their turn), and handing the facilitator
role over from the keyboard."""

from __future__ import annotations

from textual.widgets import Input, OptionList

from agile_tui.domain.standup import live_standup, update_of
from agile_tui.ui.widgets.room_bar import RoomBar

from .conftest import make_test_app
from .hubkit import HubProcess, free_port
from .syncit import ana_and_ben, join_room, live, open_session, settled, share_room


async def until(pilot, check, what: str, timeout: float = 10.0) -> None:
    loops = int(timeout / 0.05)
    for _ in range(loops):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def palette(pilot, query: str) -> list[str]:
    """The command palette's entries for ``query`` (opened, searched, closed)."""
    app = pilot.app
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*query)
    await pilot.pause(0.4)
    found = app.screen.query_one(OptionList)
    names = [str(found.get_option_at_index(i).prompt) for i in range(found.option_count)]
    await pilot.press("escape")
    await pilot.pause()
    return names


def header(app) -> str:
    return app.screen.query_one(RoomBar).render().plain


async def test_a_participant_sees_no_facilitator_keys_and_writes_only_their_own_notes(tmp_path):
    with ana_and_ben(tmp_path) as (_hub, ana, ben, _room):
        app = make_test_app(ben)
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.press("2")
            await pilot.pause()
            screen = app.screen
            assert screen.check_action("start", ()) is False  # the facilitator's
            assert "Start standup" not in screen.query_one("KeyBar").render().plain
            await until(pilot, lambda: "● live" in header(app), "the header to say live")
            panel = screen.query_one("#presence").render().plain
            assert "Ana ★" in panel and "Ben · you" in panel
            # Ana starts the round (Ben speaks second); Ben's fields are his own notes at once
            ana.submit("standup.start", id="st1", order=["ana", "ben"], length_min=15)
            await until(pilot, lambda: live_standup(ben.state) is not None, "the round at Ben")
            # the palette has no facilitator commands for him either
            assert not any("Start standup" in n or "End standup" in n for n in await palette(pilot, "standup"))
            assert any("Park a topic" in n for n in await palette(pilot, "park"))
            await pilot.press("i")
            assert isinstance(app.focused, Input) and app.focused.id == "note-yesterday"
            await pilot.press(*"Booked 3 demos")
            await pilot.press("enter")  # saves what was typed
            await until(pilot, lambda: ben.wait_sent(0.01), "Ben's note at the hub")
            settled(ana, ben)
            mine = update_of(ben.state.standups["st1"], "ben")
            assert mine is not None and mine.yesterday == "Booked 3 demos"
            seen_by_ana = update_of(ana.state.standups["st1"], "ben")
            assert seen_by_ana is None or seen_by_ana.yesterday == ""  # a draft until his turn starts
            # while Ana speaks, Ben's fields are his own; hers show under them
            ana.submit("standup.note", id="st1", member_id="ana", today="Demo for 字节跳动")
            await until(pilot, lambda: "Demo for 字节跳动" in str(screen.query_one("#speaker-work").render()),
                        "the speaker's notes under Ben's fields")
            assert "Ana's notes" in str(screen.query_one("#speaker-work").render())
            ana.submit("standup.turn", id="st1", action="next", expect=0, at=30)
            settled(ana, ben)
            assert update_of(ana.state.standups["st1"], "ben").yesterday == "Booked 3 demos"



async def test_the_header_says_offline_with_the_changes_waiting_and_live_again_after(tmp_path):
    (tmp_path / "hub").mkdir()
    hub = HubProcess(tmp_path / "hub", free_port())
    hub.start()
    try:
        invite = share_room(hub.url, tmp_path / "ana")
        room_b = join_room(invite, tmp_path / "ben", "Ben")
        ben = open_session(tmp_path / "ben", room_b)
        app = make_test_app(ben)
        async with app.run_test(size=(140, 40)) as pilot:
            await until(pilot, lambda: "● live" in header(app), "live")
            hub.kill()
            await until(pilot, lambda: "reconnecting" in header(app) or "offline" in header(app), "the drop")
            await pilot.press("a", *"Typed offline", "enter")
            await pilot.pause()
            await until(pilot, lambda: "1 waiting" in header(app), "the change waiting")
            assert "1 waiting" in app.screen.query_one("#presence").render().plain
            hub.start()
            await until(pilot, lambda: "● live" in header(app) and "waiting" not in header(app), "live again",
                        timeout=20)
        ben.close()
        ana = open_session(tmp_path / "ana", "team")
        live(ana)
        settled(ana)
        assert any(i.title == "Typed offline" for i in ana.state.items.values())
        ana.close()
    finally:
        hub.kill()


async def test_the_facilitator_hands_the_role_over_from_the_command_palette(tmp_path):
    with ana_and_ben(tmp_path) as (_hub, ana, ben, _room):
        app = make_test_app(ana)
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.press("2")
            await until(pilot, lambda: app.screen.check_action("start", ()) is True, "the facilitator keys")
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"Hand over")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause()
            picker = app.screen.query_one(OptionList)
            assert "Ben" in str(picker.get_option_at_index(0).prompt)
            await pilot.press("enter")
            await until(pilot, lambda: ben.role == "facilitator" and ana.role == "participant", "the hand-over")
            await until(pilot, lambda: app.screen.check_action("start", ()) is False, "Ana's keys to go")
            await until(pilot, lambda: "Ben ★" in app.screen.query_one("#presence").render().plain,
                        "the star to move")
