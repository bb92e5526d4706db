"""A whole planning session by keyboard under Pilot, checked against the JSON export."""

from __future__ import annotations

import json

from agile_tui.domain import planning
from agile_tui.domain.report import to_json
from agile_tui.ui.widgets.item_table import ItemTable

from .conftest import make_test_app


async def type_text(pilot, text: str) -> None:
    for ch in text:
        await pilot.press(ch if ch != " " else "space")


async def add_member(pilot, name: str, role: str) -> None:
    await pilot.press("T")
    await pilot.pause()
    await type_text(pilot, name)
    await pilot.press("tab")
    await type_text(pilot, role)
    await pilot.press("enter")
    await pilot.pause()


async def test_whole_planning_session_by_keyboard(session):
    app = make_test_app(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        # A team.
        for name, role in (("王芳", "AE"), ("Sam", "SDR"), ("Priya", "SDR")):
            await add_member(pilot, name, role)
        assert sorted(m.name for m in session.state.members.values()) == ["Priya", "Sam", "王芳"]

        # A sprint without a goal cannot start: the reason is shown and nothing changes.
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("enter")  # defaults: Sprint 1, today, 14 days
        await pilot.pause()
        sprint = planning.planning_sprint(session.state)
        assert sprint is not None and sprint.status == "planned" and sprint.days == 14
        await pilot.press("S")
        await pilot.pause()
        assert planning.planning_sprint(session.state).status == "planned"

        # Set the goal (E edits the sprint; the goal field has focus).
        await pilot.press("E")
        await pilot.pause()
        await type_text(pilot, "Book 10 demos with fintech leads.")
        await pilot.press("enter")
        await pilot.pause()
        assert planning.planning_sprint(session.state).goal == "Book 10 demos with fintech leads."

        # Five items with owners and estimates, added to the sprint from the inline editor.
        rows = [("Call Nordea", "王芳", "5"), ("Email Klarna", "Sam", "3"), ("Prep demo deck", "Priya", "2"),
                ("Follow up MQLs", "Sam", "8"), ("Pricing review", "王芳", "1")]
        await pilot.press("a")
        await pilot.pause()
        for title, owner, estimate in rows:
            await type_text(pilot, title)
            await pilot.press("tab")
            await type_text(pilot, owner)
            await pilot.press("tab")
            await type_text(pilot, estimate)
            await pilot.press("enter")
            await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        sprint = planning.planning_sprint(session.state)
        items = planning.items_in(session.state, sprint.id)
        assert [(i.title, session.state.members[i.owner].name, i.estimate) for i in items] == rows

        # Reorder: move the last item to the top with K, the cursor follows it.
        table = app.screen.query_one("#sprint-table", ItemTable)
        table.focus()
        await pilot.press("G")
        await pilot.pause()
        for _ in range(4):
            await pilot.press("K")
            await pilot.pause()
        titles = [i.title for i in planning.items_in(session.state, sprint.id)]
        assert titles == ["Pricing review", "Call Nordea", "Email Klarna", "Prep demo deck", "Follow up MQLs"]
        assert table.selected_id == planning.items_in(session.state, sprint.id)[0].id

        # Start the sprint, finish two items (space: todo → doing → done).
        await pilot.press("S")
        await pilot.pause()
        assert planning.active_sprint(session.state).id == sprint.id
        await pilot.press("g")
        for _ in range(2):
            await pilot.press("space", "space")
            await pilot.press("j")
        await pilot.pause()
        statuses = [i.status for i in planning.items_in(session.state, sprint.id)]
        assert statuses == ["done", "done", "todo", "todo", "todo"]

        # Close with carry-over: first unfinished item to the backlog, the rest to the next sprint.
        await pilot.press("C")
        await pilot.pause()
        await pilot.press("space")  # toggles the first unfinished item to "backlog"
        await pilot.press("enter")
        await pilot.pause()
        closed = session.state.sprints[sprint.id]
        assert closed.status == "closed" and closed.velocity == 6
        await pilot.press("q")

    session.flush()
    exported = json.loads(to_json(session.state, session.store.seq))
    by_title = {i["title"]: i for i in exported["items"].values()}
    assert by_title["Email Klarna"]["sprint_id"] is None
    next_sprint = by_title["Prep demo deck"]["sprint_id"]
    assert next_sprint not in (None, sprint.id) and exported["sprints"][next_sprint]["status"] == "planned"
    assert by_title["Follow up MQLs"]["sprint_id"] == next_sprint
    assert by_title["Pricing review"]["status"] == "done" and by_title["Pricing review"]["sprint_id"] == sprint.id
    assert exported["sprints"][sprint.id]["velocity"] == 6
    assert exported["sprints"][sprint.id]["goal"] == "Book 10 demos with fintech leads."


async def test_undo_redo_delete_and_filter(demo_session):
    app = make_test_app(demo_session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#sprint-table", ItemTable)
        first = table.selected_id
        title = demo_session.state.items[first].title
        await pilot.press("d")
        await pilot.pause()
        assert first not in demo_session.state.items
        await pilot.press("u")
        await pilot.pause()
        assert demo_session.state.items[first].title == title
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert first not in demo_session.state.items
        await pilot.press("u")
        await pilot.pause()

        # Filter by owner: only that owner's items stay in the tables.
        await pilot.press("slash")
        await type_text(pilot, "owner:sam")
        await pilot.press("enter")
        await pilot.pause()
        shown = table.ids
        assert shown and all(demo_session.state.items[i].owner == "m-sam" for i in shown)
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == len(planning.items_in(demo_session.state, "sprint-2"))


async def test_blocked_takes_a_note_and_m_moves_between_lists(demo_session):
    app = make_test_app(demo_session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#sprint-table", ItemTable)
        item_id = table.selected_id
        await pilot.press("b")
        await pilot.pause()
        await pilot.press("enter")  # an empty note is refused, the dialog stays
        await pilot.pause()
        assert demo_session.state.items[item_id].status != "blocked"
        await type_text(pilot, "waiting for legal")
        await pilot.press("enter")
        await pilot.pause()
        assert demo_session.state.items[item_id].status == "blocked"
        assert demo_session.state.items[item_id].note == "waiting for legal"
        await pilot.press("m")
        await pilot.pause()
        assert demo_session.state.items[item_id].sprint_id is None


async def test_refused_edit_keeps_what_was_typed(demo_session):
    app = make_test_app(demo_session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await type_text(pilot, "New deal")
        await pilot.press("tab", "tab")
        await type_text(pilot, "4")  # not in the deck
        await pilot.press("enter")
        await pilot.pause()
        editor = app.screen.query_one("#item-editor")
        assert editor.is_open and app.focused.id in ("editor-title", "editor-owner", "editor-estimate", "editor-kind")
        assert app.screen.query_one("#editor-title").value == "New deal"
        assert "deck" in str(app.screen.query_one("#editor-label").content)
        assert not any(i.title == "New deal" for i in demo_session.state.items.values())


async def test_keys_one_to_four_and_help(demo_session):
    app = make_test_app(demo_session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for key, mode in (("2", "standup"), ("3", "metrics"), ("4", "retro"), ("1", "planning")):
            await pilot.press(key)
            await pilot.pause()
            assert app.current_mode == mode
            assert "Nordic fintech" in str(app.screen.query_one("RoomBar").render())
        await pilot.press("question_mark")
        await pilot.pause()
        from agile_tui.ui.widgets.help_screen import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        keys = {str(row[0]) for row in app.screen._rows}
        for key in ("a", "e", "d", "u", "ctrl+r", "space", "K", "J", "m", "/", "1", "q", "?"):
            assert any(key == k or key in k.split() for k in keys), key


async def test_palette_commands_reach_planning_actions(demo_session):
    app = make_test_app(demo_session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("3")
        await pilot.pause()
        await pilot.press("ctrl+p")
        await type_text(pilot, "Add item")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert app.current_mode == "planning"
        editor = app.screen.query_one("#item-editor")
        assert editor.is_open and app.focused.id == "editor-title"


async def test_toasts_show_user_text_literally(demo_session):
    """Delete, undo, redo and a refusal each show a toast naming user text; markup in it stays text."""
    demo_session.submit("item.update", id="item-00", title="[bold]Book[/] demo $x \\[y]")
    app = make_test_app(demo_session)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#sprint-table", ItemTable)
        table.select("item-00")
        for key in ("d", "u", "ctrl+r", "u"):
            await pilot.press(key)
            await pilot.pause(0.1)
        assert app.submit("sprint.start", id="sprint-2")  # refused: already active
        await pilot.pause(0.2)
        toasts = list(app.screen.query("Toast"))
        assert toasts, "no toast was shown"
        rendered = " ".join(str(toast.render()) for toast in toasts)
        assert "[bold]Book[/] demo $x \\[y]" in rendered
        assert "only a planned sprint can start" in rendered


async def test_tab_stays_in_the_editor_and_escape_closes_it(demo_session):
    app = make_test_app(demo_session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await type_text(pilot, "Keep me")
        for _ in range(4):
            await pilot.press("tab")
        await pilot.pause()
        assert app.focused.id == "editor-title" and app.focused.value == "Keep me"
        await pilot.press("shift+tab")
        assert app.focused.id == "editor-kind"
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.query_one("#item-editor").is_open
        assert isinstance(app.focused, ItemTable)
