"""The standup screen by keyboard under Pilot, with a fake clock."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from textual import events
from textual.widgets import DataTable, Input

from agile_tui.domain.standup import live_standup, summary, update_of
from agile_tui.ui.screens.standup import QueuePanel
from agile_tui.ui.widgets.item_table import ItemTable
from agile_tui.ui.widgets.standup_view import SpeakerClock, SummaryView

from .conftest import TODAY, make_test_app, open_session

MEMBERS = [("ana", "Ana Souza 🚀"), ("ben", "王芳"), ("cai", "Cai [bold]Lin[/]"), ("dee", "Dee Okafor"),
           ("eve", "Eve Blake")]


def seed_team(session) -> None:
    for member_id, name in MEMBERS:
        session.submit("member.add", id=member_id, name=name, role="AE")
    session.submit("sprint.create", id="s1", name="Sprint 1", start=TODAY, days=14,
                   goal="Book 12 qualified demos with Nordic fintech accounts.")
    session.submit("sprint.start", id="s1")
    for n, (owner, title) in enumerate([("ana", "Proposal for Acme"), ("ben", "Demo for 字节跳动"),
                                        ("cai", "Security review")]):
        session.submit("item.add", id=f"item-{n}", title=title, owner=owner, sprint_id="s1", estimate="3")
    session.flush()


@pytest.fixture
def team(session):
    """A room with five members, an active sprint and a few items (the session fixture closes it)."""
    seed_team(session)
    return session


async def start_round(pilot, *, absent: int | None = None, minutes: str | None = None) -> None:
    """2, s, mark someone absent, fixed order, start."""
    await pilot.press("2", "s")
    await pilot.pause()
    if absent is not None:
        for _ in range(absent):
            await pilot.press("down")
        await pilot.press("space")
    await pilot.press("tab")  # Minutes
    if minutes is not None:
        await pilot.press("ctrl+a", "ctrl+k", *minutes)
    await pilot.press("tab", "space")  # shuffle off: the order is the team's
    await pilot.press("ctrl+s")
    await pilot.pause()


def clock_value(app) -> str:
    return app.screen.query_one(SpeakerClock).value


async def settle(pilot) -> None:
    """Let the screen's clock tick now (it ticks a few times a second by itself; a test needs no wall time)."""
    await pilot.pause()
    screen = pilot.app.get_screen_for_mode("standup")
    screen._tick()
    await pilot.pause()


async def test_a_whole_standup_by_keyboard(team, clock):
    session = team
    app = make_test_app(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_round(pilot, absent=4)  # Eve is absent
        standup = live_standup(session.state)
        assert standup.order == ("ana", "ben", "cai", "dee")
        assert update_of(standup, "eve").absent
        assert update_of(standup, "ana").box_s == 225  # 15 minutes / 4 speakers
        assert clock_value(app) == "3:45"

        # Ana: 200 s, notes typed while the clock runs, a blocker with a helper and an item.
        clock.advance(200)
        await settle(pilot)
        assert clock_value(app) == "0:25"
        await pilot.press("i", *"Called Acme", "enter", *"Send the 合同", "enter")
        await pilot.press(*"Waiting on legal", "enter")
        await pilot.pause()
        await pilot.press("down", "enter")  # who helps: nobody yet, 王芳, Cai… → 王芳
        await pilot.pause()
        await pilot.press("down", "enter")  # which item: no item, Proposal for Acme
        await pilot.pause()
        await pilot.press("escape")
        assert isinstance(app.focused, QueuePanel)
        await pilot.press("n")
        await pilot.pause()

        # 王芳: 60 s, paused 30 s, 40 s more.
        clock.advance(60)
        await pilot.press("space")
        clock.advance(30)
        await settle(pilot)
        assert clock_value(app) == "2:45"  # paused: the clock holds
        await pilot.press("space")
        clock.advance(40)
        await pilot.press("n")

        # Cai: overtime.
        clock.advance(300)
        await settle(pilot)
        assert clock_value(app) == "+1:15"
        assert app.screen.query_one(SpeakerClock).has_class("-red")
        await pilot.press("n")

        # Dee: a parking-lot topic, then past the last speaker, then the end.
        clock.advance(50)
        await pilot.press("p", *"Pricing for multi-year deals", "enter")
        await pilot.press("n")
        await pilot.pause()
        assert "Pricing for multi-year deals" in str(app.screen.query_one("#parking-view").render())
        await pilot.press("e")
        await pilot.pause()

        state = session.state
        standup = state.standups[standup.id]
        assert standup.status == "closed"
        airtime = {u.member_id: u.airtime_s for u in standup.updates}
        assert airtime == {"ana": 200, "ben": 100, "cai": 300, "dee": 50, "eve": 0}
        assert standup.ended_after_s == 680  # every second of the fake clock, the pause included
        ana = update_of(standup, "ana")
        assert (ana.yesterday, ana.today, ana.blockers) == ("Called Acme", "Send the 合同", "Waiting on legal")
        [blocker] = [b for b in state.blockers.values() if b.standup_id == standup.id]
        assert (blocker.member_id, blocker.helper_id, blocker.item_id) == ("ana", "ben", "item-0")
        assert standup.parking == ("Pricing for multi-year deals",)

        report = summary(state, standup)
        assert report.quickest.member_id == "dee" and report.longest.member_id == "cai"
        text = app.screen.query_one(SummaryView).plain_text()
        for figure in ("3:20", "1:40", "5:00", "0:50", "11:20", "Cai [bold]Lin[/]", "Eve Blake"):
            assert figure in text, figure
        await pilot.press("escape")
        await pilot.pause()
        table = app.screen.query_one("#standups-table", DataTable)
        assert table.row_count == 1



async def test_quit_during_the_third_speaker_and_reopen(data_dir, clock):
    session = open_session(data_dir, "team", clock)
    seed_team(session)
    app = make_test_app(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_round(pilot, minutes="10")  # 5 speakers: 2:00 each
        clock.advance(90)
        await pilot.press("n")
        clock.advance(100)
        await pilot.press("n")
        clock.advance(40)  # the third speaker has 1:20 left
        await settle(pilot)
        assert clock_value(app) == "1:20"
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")  # the clock runs: quitting asks first
        await pilot.pause()
    session.close()

    clock.advance(25)  # time passes while the app is closed
    session = open_session(data_dir, "team", clock)
    app = make_test_app(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        standup = live_standup(session.state)
        assert standup.order[standup.current] == "cai"
        assert clock_value(app) == "0:55"
        clock.advance(5)
        await settle(pilot)
        assert clock_value(app) == "0:50"
    session.close()


async def test_a_changed_wall_clock_does_not_move_the_timer(team, clock):
    session = team
    app = make_test_app(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_round(pilot)
        clock.advance(30)
        await settle(pilot)
        shown = clock_value(app)
        clock.set_wall(clock.now() + timedelta(hours=3))
        await settle(pilot)
        assert clock_value(app) == shown



async def test_quitting_while_the_clock_runs_can_be_cancelled(team, clock):
    session = team
    app = make_test_app(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_round(pilot)
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("n")  # no: stay
        await pilot.pause()
        assert app.is_running and live_standup(session.state) is not None



async def test_blocker_age_shows_in_the_standup_and_on_planning(team, clock):
    session = team
    three_days_ago = (date.fromisoformat(TODAY) - timedelta(days=3)).isoformat()
    session.submit("blocker.open", id="b1", member_id="ana", text="Legal has the DPA", item_id="item-0",
                   opened_on=three_days_ago)
    session.flush()
    app = make_test_app(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#sprint-table", ItemTable)
        row = table.ids.index("item-0")
        assert "day 3" in table.render_line(row + 1).text  # +1: the header line

        await start_round(pilot)  # Ana speaks first
        work = str(app.screen.query_one("#speaker-work").render())
        assert "day 3" in work and "Legal has the DPA" in work

        await pilot.press("r")  # resolve from the standup
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert session.state.blockers["b1"].resolved_on == TODAY



async def test_a_late_joiner_goes_to_the_end_and_skip_marks_absent(team, clock):
    session = team
    app = make_test_app(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_round(pilot, absent=0)  # Ana is not here yet
        await pilot.press("x")  # 王芳 is skipped without a word: absent
        await pilot.press("l")
        await pilot.pause()
        await pilot.press("enter")  # Ana arrives
        await pilot.pause()
        standup = live_standup(session.state)
        assert standup.order[-1] == "ana" and update_of(standup, "ana").late
        assert update_of(standup, "ben").absent
        queue = str(app.screen.query_one(QueuePanel).render())
        assert "late" in queue



async def test_notes_typed_are_saved_without_leaving_the_field(team, clock):
    session = team
    app = make_test_app(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_round(pilot)
        await pilot.press("i", "tab", *"今天 call 🚀")
        for _ in range(100):  # the note saves once typing pauses (NOTE_SAVE_AFTER_S); wait for it, up to 10 s
            if update_of(live_standup(session.state), "ana").today == "今天 call 🚀":
                break
            await pilot.pause(0.1)
        assert update_of(live_standup(session.state), "ana").today == "今天 call 🚀"
        assert isinstance(app.focused, Input)



async def test_yesterday_starts_from_last_times_today(team, clock):
    session = team
    session.submit("standup.record", id="old", date="2026-11-27",
                   updates=[{"member_id": "ana", "today": "Ring the Nordic leads"}])
    session.flush()
    app = make_test_app(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_round(pilot)
        assert app.screen.query_one("#note-yesterday", Input).value == "Ring the Nordic leads"



async def test_the_command_palette_starts_and_ends_a_standup(team, clock):
    from agile_tui.ui.widgets.standup_dialogs import StartStandupDialog

    session = team
    app = make_test_app(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p", *"Start standup")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, StartStandupDialog)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert live_standup(session.state) is not None
        await pilot.press("ctrl+p", *"End standup")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert live_standup(session.state) is None


async def test_nothing_typed_is_lost_when_the_speaker_changes(team, clock):
    app = make_test_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_round(pilot)
        await pilot.press("i", "tab", *"Call Acme", "tab")
        app.focused.post_message(events.Paste("Legal \x1b[31m"))  # pasted: a blocker, not yet entered
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        standup = live_standup(team.state)
        assert update_of(standup, "ana").today == "Call Acme"
        [blocker] = [b for b in team.state.blockers.values() if b.standup_id == standup.id]
        assert blocker.text == "Legal ␛[31m"  # control codes arrive as visible text
        assert isinstance(app.focused, QueuePanel)


async def test_x_marks_absent_even_after_a_few_seconds_and_l_brings_them_back(team, clock):
    app = make_test_app(team)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_round(pilot)
        clock.advance(4)  # Ana is not answering
        await pilot.press("x")
        await pilot.pause()
        standup = live_standup(team.state)
        assert update_of(standup, "ana").absent and update_of(standup, "ana").airtime_s == 0
        await pilot.press("l")
        await pilot.pause()
        await pilot.press("enter")  # the only one to bring back: Ana
        await pilot.pause()
        standup = live_standup(team.state)
        assert standup.order[-1] == "ana" and not update_of(standup, "ana").absent
