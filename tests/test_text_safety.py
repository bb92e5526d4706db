"""User text is text: markup, ANSI escapes, Chinese and emoji show exactly as typed and stay aligned."""

from __future__ import annotations

from rich.cells import cell_len

from agile_tui.domain import planning
from agile_tui.ui.text import plain, safe
from agile_tui.ui.widgets.item_table import ItemTable

from .conftest import make_test_app

TITLES = [
    "[bold]not bold[/bold]",
    "closing tag [/] alone",
    "\x1b[31mred?\x1b[0m plain",
    "谈判：上海客户续约",
    "Ship it 🚀🎉 today",
    "[link=https://x]click[/link] \\[escaped]",
]
OWNERS = [("m-x", "[red]Eve[/]"), ("m-cn", "王芳"), ("m-emoji", "Ana 🚀")]


def test_plain_makes_control_codes_visible():
    assert plain("\x1b[31m") == "␛[31m"
    assert plain("a\tb\x7f\x9b") == "a␉b␡�"
    assert safe("[bold]x[/bold]").plain == "[bold]x[/bold]"
    assert safe("[bold]x").spans == []


async def test_titles_and_names_show_as_typed_and_aligned(session):
    session.submit("sprint.create", id="s1", name="Sprint [b]1[/b]", start="2026-11-23", days=14,
                   goal="Prove [that] markup stays text 🚀.")
    for member_id, name in OWNERS:
        session.submit("member.add", id=member_id, name=name, role="AE")
    for n, title in enumerate(TITLES):
        session.submit("item.add", id=f"i{n}", title=title, owner=OWNERS[n % 3][0], estimate="3", sprint_id="s1")
    app = make_test_app(session)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#sprint-table", ItemTable)
        lines = [table.render_line(y).text for y in range(1, len(TITLES) + 1)]
        for line, title in zip(lines, TITLES, strict=True):
            assert plain(title) in line, (line, title)
        # The owner column starts at the same terminal cell on every row, whatever the title holds.
        starts = set()
        for n, line in enumerate(lines):
            owner = OWNERS[n % 3][1]
            starts.add(cell_len(line[: line.index(owner)]))
        assert len(starts) == 1, starts
        header = str(app.screen.query_one("RoomBar").render())
        assert "Sprint [b]1[/b]" in header and "Prove [that] markup stays text 🚀." in header
        assert planning.items_in(session.state, "s1")[2].title == TITLES[2]  # stored exactly as typed
