"""A whole retro under Pilot by keyboard only: template, cards from three members, grouping, votes at the
limits, discussion in vote order, two actions; after close they are items of the next sprint and show in the
next retro's review."""

from __future__ import annotations

import pytest

from agile_tui.domain import retro as q
from agile_tui.ui.screens.retro import RetroList
from agile_tui.ui.widgets.standup_dialogs import ConfirmDialog

from .conftest import TODAY, make_test_app

SIZE = (120, 40)
MEMBERS = [("ana", "Ana Souza 🚀"), ("ben", "王芳"), ("cai", "Cai [bold]Lin[/]")]


@pytest.fixture
def team(session):
    for member_id, name in MEMBERS:
        session.submit("member.add", id=member_id, name=name, role="AE")
    session.submit("sprint.create", id="s1", name="Sprint 1", start=TODAY, days=14, goal="Book 12 demos.")
    session.submit("sprint.start", id="s1")
    session.flush()
    return session


def lines(app) -> list[str]:
    listing = app.screen.query_one(RetroList)
    return [str(listing.get_option_at_index(n).prompt) for n in range(listing.option_count)]


async def cursor_to(pilot, app, text: str) -> None:
    """Move the list's cursor to the line holding ``text`` with j and k, as a user does."""
    listing = app.screen.query_one(RetroList)
    target = next(n for n, line in enumerate(lines(app)) if text in line)
    for _ in range(listing.option_count + 1):
        if listing.highlighted == target:
            return
        await pilot.press("j" if (listing.highlighted or 0) < target else "k")
    raise AssertionError(f"could not reach {text!r}")


async def act_as(pilot, index: int) -> None:
    """A, then the member at ``index`` (0: the facilitator)."""
    await pilot.press("A")
    await pilot.pause()
    for _ in range(index):
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()


async def card(pilot, text: str) -> None:
    await pilot.press("a", *text, "enter")
    await pilot.pause()


async def next_phase(pilot, app, confirm: bool = False) -> None:
    await pilot.press("greater_than_sign")
    await pilot.pause()
    if confirm:
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await pilot.pause()


async def test_a_whole_retro_by_keyboard(team):
    app = make_test_app(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "N")
        await pilot.pause()
        await pilot.press("down", "down", "down", "down")  # template: Glad / Sad / Mad
        await pilot.press("ctrl+s")
        await pilot.pause()
        retro = q.current_retro(team.state)
        assert retro.columns == ("Glad", "Sad", "Mad") and retro.phase == "reflect" and retro.anonymous

        # Reflect: cards from three members (the cursor's column takes the card; l moves to the next column).
        await act_as(pilot, 1)
        await card(pilot, "Demos got shorter")
        await pilot.press("l")
        await card(pilot, "CRM import broke again")
        await act_as(pilot, 2)
        await cursor_to(pilot, app, "Glad")
        await card(pilot, "Shorter demos win deals")
        await pilot.press("l")
        await card(pilot, "CRM import | 字节")
        await act_as(pilot, 3)
        await cursor_to(pilot, app, "Mad")
        await card(pilot, "Pricing approvals take [bold]days[/]")
        retro = q.current_retro(team.state)
        assert sorted(c.author for c in retro.cards) == ["ana", "ana", "ben", "ben", "cai"]
        assert any("[bold]days[/]" in line for line in lines(app))  # text, not markup
        await pilot.press("r")  # Cai is ready; the others are not: advancing asks
        await next_phase(pilot, app, confirm=True)

        # Group: two topics.
        assert q.current_retro(team.state).phase == "group"
        await cursor_to(pilot, app, "Demos got shorter")
        await pilot.press("space")
        await cursor_to(pilot, app, "Shorter demos win deals")
        await pilot.press("m")
        await pilot.pause()
        await cursor_to(pilot, app, "CRM import broke again")
        await pilot.press("space")
        await cursor_to(pilot, app, "CRM import | 字节")
        await pilot.press("m")
        await pilot.pause()
        retro = q.current_retro(team.state)
        assert len(retro.topics) == 2 and sorted(len(t.card_ids) for t in retro.topics) == [2, 2]
        topic_crm = next(t for t in retro.topics if "CRM" in t.title)
        await cursor_to(pilot, app, "▸ CRM")  # rename the CRM topic
        await pilot.press("e", "ctrl+a", "ctrl+k", *"CRM imports", "enter")
        await pilot.pause()
        await next_phase(pilot, app, confirm=True)

        # Vote at the limits: 5 each, at most 3 on one topic.
        retro = q.current_retro(team.state)
        assert retro.phase == "vote"
        topic_demos = next(t for t in retro.topics if t.id != topic_crm.id)
        await act_as(pilot, 1)
        await cursor_to(pilot, app, "CRM imports")
        await pilot.press("plus", "plus", "plus", "plus")  # the 4th is over the cap: refused
        await pilot.pause()
        assert q.votes_of(q.current_retro(team.state), "ana") == {topic_crm.id: 3}
        await cursor_to(pilot, app, "Shorter demos win deals")  # a new topic is named after the card it was merged onto
        await pilot.press("v", "v", "v")  # the 3rd would make 6 of 5: refused
        await pilot.pause()
        assert q.votes_of(q.current_retro(team.state), "ana") == {topic_crm.id: 3, topic_demos.id: 2}
        await pilot.press("r")  # finished
        await act_as(pilot, 2)
        await cursor_to(pilot, app, "CRM imports")
        await pilot.press("plus", "plus", "minus")  # one taken back
        await pilot.pause()
        assert q.votes_of(q.current_retro(team.state), "ben") == {topic_crm.id: 1}
        assert "in all" not in " ".join(lines(app))  # hidden until reveal
        await pilot.press("R")
        await pilot.pause()
        assert "4 in all" in " ".join(lines(app))
        await next_phase(pilot, app, confirm=True)

        # Discuss in vote order, two actions.
        retro = q.current_retro(team.state)
        assert retro.phase == "discuss" and q.discussion_order(retro)[:2] == [topic_crm.id, topic_demos.id]
        assert retro.discussing == topic_crm.id
        await pilot.press("i", *"Fix the nightly job", "escape")
        await pilot.press("a", *"Fix the CRM import", "tab", *"王芳", "tab", *"2026-12-04", "enter")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert q.current_retro(team.state).discussing == topic_demos.id
        await pilot.press("a", *"Demo script under 20 minutes", "tab", *"Ana Souza 🚀", "enter")
        await pilot.pause()
        retro = q.current_retro(team.state)
        assert q.talk_of(retro, topic_crm.id).notes == "Fix the nightly job"
        assert [(a.title, a.owner, a.due) for a in retro.actions] == [
            ("Fix the CRM import", "ben", "2026-12-04"), ("Demo script under 20 minutes", "ana", None)]

        # Close: the actions become items of the next sprint, with their owners.
        await next_phase(pilot, app)
        await pilot.press("C")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        state = team.state
        closed = state.retros[retro.id]
        assert closed.status == "closed"
        items = [state.items[a.item_id] for a in closed.actions]
        assert [(i.title, i.owner) for i in items] == [("Fix the CRM import", "ben"),
                                                      ("Demo script under 20 minutes", "ana")]
        next_sprint = state.sprints[items[0].sprint_id]
        assert next_sprint.id != "s1" and next_sprint.status == "planned"

        # The next retro reviews them.
        await pilot.press("N")
        await pilot.pause()
        await pilot.press("ctrl+s")  # the default sprint: the newest (the next one)
        await pilot.pause()
        following = q.current_retro(team.state)
        assert following.id != retro.id and following.phase == "review"
        assert [e.title for e in following.review] == ["Fix the CRM import", "Demo script under 20 minutes"]
        await pilot.press("d")  # the first is done
        await pilot.pause()
        assert q.current_retro(team.state).review[0].outcome == "done"
        assert team.state.items[items[0].id].status == "done"


async def test_anonymous_cards_show_no_author_to_others(team):
    team.submit("retro.create", id="r1", sprint_id="s1", started_mono=0.0, clock_source="fake")
    team.submit("retro.card", retro_id="r1", id="c1", column="Went well", text="Quiet week", member_id="ana")
    team.flush()
    app = make_test_app(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await pilot.pause()
        assert not any("Ana" in line for line in lines(app))
        await act_as(pilot, 1)
        assert any("— you" in line for line in lines(app))


async def test_a_vote_redraws_its_line_only(team):
    """In a retro too long for the screen, a vote changes its topic's line in place: the cursor, the scroll and
    the other lines stay as they were (no rebuild of the list), and what is drawn is the new line."""
    from textual.geometry import Region

    team.submit("retro.create", id="r1", sprint_id="s1", started_mono=0.0, clock_source="fake")
    assert team.state.retros["r1"].phase == "reflect"  # nothing to review
    for n in range(45):
        team.submit("retro.card", retro_id="r1", id=f"c{n}", column="Went well", text=f"Card number {n}",
                    member_id="ana")
    for at in (1.0, 2.0):
        team.submit("retro.phase", retro_id="r1", action="next", at=at, force=True)
    assert team.state.retros["r1"].phase == "vote"
    team.flush()
    app = make_test_app(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await pilot.pause()
        listing = app.screen.query_one(RetroList)
        assert listing.option_count == 45
        await cursor_to(pilot, app, "Card number 40")
        await pilot.pause()
        scroll, options = listing.scroll_y, list(listing.options)
        assert scroll > 0
        for key, dots in (("plus", "●○○"), ("plus", "●●○"), ("minus", "●○○")):
            await pilot.press(key)
            await pilot.pause()
            assert q.votes_of(team.state.retros["r1"], team.actor) == {"c40": dots.count("●")}
            assert listing.highlighted == 40 and listing.scroll_y == scroll
            assert all(a is b for a, b in zip(listing.options, options, strict=True))  # not rebuilt
            assert [n for n, line in enumerate(lines(app)) if not line.startswith("○○○")] == [40]
            assert lines(app)[40].startswith(dots)
            drawn = [strip.text for strip in listing.render_lines(Region(0, 0, listing.size.width,
                                                                         listing.size.height))]
            assert any(line.strip().startswith(f"{dots}  Card number 40") for line in drawn), drawn
            assert any(line.strip().startswith("○○○  Card number 39") for line in drawn), drawn


async def test_notes_are_kept_when_the_phase_moves_on_and_u_undoes_a_card(team):
    team.submit("retro.create", id="r1", sprint_id="s1", started_mono=0.0, clock_source="fake")
    team.submit("retro.card", retro_id="r1", id="c1", column="Went well", text="Quiet week", member_id="ana")
    team.submit("retro.phase", retro_id="r1", action="next", at=1.0, force=True)
    team.submit("retro.phase", retro_id="r1", action="next", at=2.0, force=True)
    team.submit("retro.phase", retro_id="r1", action="next", at=3.0, force=True)
    team.flush()
    app = make_test_app(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "i", *"Keep it quiet")  # no pause: the save timer has not fired
        await pilot.press("escape", "greater_than_sign")
        await pilot.pause()
        retro = team.state.retros["r1"]
        assert retro.phase == "close" and q.talk_of(retro, "c1").notes == "Keep it quiet"
        assert isinstance(app.focused, RetroList)
        await pilot.press("a", *"Keep Fridays quiet", "enter")
        await pilot.pause()
        assert len(team.state.retros["r1"].actions) == 1
        await pilot.press("u")
        await pilot.pause()
        assert team.state.retros["r1"].actions == ()
