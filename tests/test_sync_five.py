"""Five clients in one room on a real hub (127.0.0.1, a free port): the facilitator (Ana) and one participant
(Ben) are the real app under Pilot, driven by keys; Cai, Dana and 李雷 are headless SharedSessions. The room is
shared and joined through the real `share` and `join` commands.

By keys: Ana adds a backlog item and Ben moves it on; Ana starts the standup and moves to the next speaker; Ben
writes a retro card in reflect, Ana moves the retro on (confirming who is not ready) to group, where the card is
shown to everyone, then to vote; Ben votes and Ana reveals. A metric sample comes in through the Metrics API.
Each of these shows in all four other clients (their state, and on the Pilot apps' screens). Ben's app hides
the facilitator's keys; the presence panel lists the five with Ana's ★. At the end every client's JSON export
is identical to the hub's snapshot for that client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
from textual._context import active_app

from agile_tui.domain import State
from agile_tui.domain import retro as q
from agile_tui.domain.report import to_json
from agile_tui.domain.standup import live_standup
from agile_tui.sync.local import read_link
from agile_tui.sync.session import SharedSession
from agile_tui.ui.app import make_app
from agile_tui.ui.widgets.item_table import ItemTable
from agile_tui.ui.widgets.key_bar import KeyBar
from agile_tui.ui.widgets.presence import presence_text
from agile_tui.ui.widgets.standup_dialogs import ConfirmDialog, StartStandupDialog

from .hubkit import running_hub
from .syncit import join_room, open_session, settled, share_room
from .test_planning_pilot import type_text
from .test_retro_pilot import cursor_to, lines

SIZE = (140, 45)
NAMES = ("Ana", "Ben", "Cai", "Dana", "李雷")


async def until(pilot, check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    """Let the apps run until ``check()`` holds (the hub's news come in from the sync threads)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


@contextmanager
def inside(app) -> Iterator[None]:
    """Code of the test that asks a widget something: Textual finds "the app" in a context variable, which
    holds the app whose run_test was entered last; with two apps, point it at the right one."""
    token = active_app.set(app)
    try:
        yield
    finally:
        active_app.reset(token)


def allowed(app, action: str) -> bool | None:
    with inside(app):
        return app.screen.check_action(action, ())


def table_text(app, table: ItemTable) -> str:
    with inside(app):
        return "\n".join("".join(seg.text for seg in table.render_line(y)) for y in range(table.row_count + 1))


def screen_text(app, selector: str) -> str:
    with inside(app):
        shown = app.screen.query_one(selector).render()
        return shown.plain if hasattr(shown, "plain") else str(shown)


def key_bar(app) -> str:
    return app.screen.query_one(KeyBar).render().plain


def hub_export(url: str, room: str, token: str) -> str:
    got = httpx.get(f"{url}/v1/rooms/{room}/snapshot", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert got.status_code == 200, got.text
    return to_json(State.from_dict(got.json()["state"]), 0)


async def test_five_clients_see_each_others_changes_and_end_with_the_hubs_snapshot(tmp_path):
    with running_hub(tmp_path / "hub") as hub:
        invite = share_room(hub.url, tmp_path / "ana")
        rooms = {"Ana": "team"}
        for name in NAMES[1:]:
            rooms[name] = join_room(invite, tmp_path / name, name)
        folders = {"Ana": tmp_path / "ana", **{name: tmp_path / name for name in NAMES[1:]}}
        sessions: dict[str, SharedSession] = {}
        try:
            for name in NAMES:
                sessions[name] = open_session(folders[name], rooms[name])
            ana, ben = sessions["Ana"], sessions["Ben"]
            app_a, app_b = make_app(ana), make_app(ben)
            async with app_a.run_test(size=SIZE) as pa, app_b.run_test(size=SIZE) as pb:
                await until(pa, lambda: all(s.connection.status == "live" for s in sessions.values()),
                            "every client to be live")
                assert ana.role == "facilitator" and all(s.role == "participant" for s in list(sessions.values())[1:])
                # The presence panel: the five, Ana the facilitator (★), on both screens.
                await until(pa, lambda: all(sum(1 for p in s.participants if p.get("here")) == 5
                                            for s in (ana, ben)), "five here")
                for app, me in ((app_a, "Ana ★ · you"), (app_b, "Ben · you")):
                    panel = screen_text(app, "#presence")
                    assert "Here 5/5" in panel and "Ana ★" in panel and me in panel, panel
                    assert all(name in panel for name in NAMES), panel
                    assert panel.count("★") == 1, panel

                # --- a backlog item: Ana adds it (a, type, enter), Ben moves it on (space: todo → doing).
                await pa.press("1", "a")
                await type_text(pa, "Call Nordea")
                await pa.press("enter")
                await pa.pause()
                await pa.press("escape")
                item = next(i for i in ana.state.items.values() if i.title == "Call Nordea")
                await until(pa, lambda: all(item.id in s.state.items for s in sessions.values()),
                            "the new item everywhere")
                table_b = app_b.screen.query_one("#sprint-table", ItemTable)
                await until(pb, lambda: item.id in table_b.ids, "the new item on Ben's screen")
                assert "Call Nordea" in table_text(app_b, table_b)
                with inside(app_b):
                    table_b.focus()
                for _ in range(len(table_b.ids)):
                    if table_b.selected_id == item.id:
                        break
                    await pb.press("j")
                assert table_b.selected_id == item.id
                await pb.press("space")
                await until(pb, lambda: all(s.state.items[item.id].status == "doing" for s in sessions.values()),
                            "Ben's edit everywhere")
                table_a = app_a.screen.query_one("#sprint-table", ItemTable)
                await until(pa, lambda: any("Call Nordea" in row and "◐ doing" in row
                                            for row in table_text(app_a, table_a).splitlines()),
                            "Ben's edit on Ana's screen")

                # --- the standup: Ana starts it (2, s, the dialog) and moves to the next speaker (n).
                await pb.press("2")
                await pb.pause()
                assert allowed(app_b, "start") is False
                assert "Start standup" not in key_bar(app_b)
                await pb.press("s")  # nothing happens for a participant
                await pb.pause()
                assert not isinstance(app_b.screen, StartStandupDialog)
                await pa.press("2")
                await pa.pause()
                assert allowed(app_a, "start") is True and "Start standup" in key_bar(app_a)
                await pa.press("s")
                await pa.pause()
                assert isinstance(app_a.screen, StartStandupDialog)
                await pa.press("ctrl+s")
                await pa.pause()
                standup = live_standup(ana.state)
                assert standup is not None and len(standup.order) == 5
                await until(pa, lambda: all(live_standup(s.state) is not None
                                            and live_standup(s.state).id == standup.id for s in sessions.values()),
                            "the standup everywhere")
                first, second = (ana.state.members[m].name for m in standup.order[:2])
                await until(pb, lambda: f"{first}  ·  speaker 1 of 5" in screen_text(app_b, "#speaker-line"),
                            "the first speaker on Ben's screen")
                await pa.press("n")
                await until(pa, lambda: all(live_standup(s.state).current == 1 for s in sessions.values()),
                            "the next speaker everywhere")
                await until(pb, lambda: f"{second}  ·  speaker 2 of 5" in screen_text(app_b, "#speaker-line"),
                            "the next speaker on Ben's screen")

                # --- the retro: Ben writes a card in reflect (4, a, text, enter).
                await pb.press("4")
                await pb.pause()
                await pb.press("a")
                await pb.pause()
                await type_text(pb, "Demos got shorter")
                await pb.press("enter")
                await pb.pause()
                card = next(c for c in ben.state.retros["r1"].cards if c.text == "Demos got shorter")
                await until(pb, lambda: not ben.replica.pending, "Ben's card on the hub")
                written = ben.replica.seq
                await until(pa, lambda: all(s.replica.seq >= written for s in sessions.values()),
                            "everyone past Ben's card")
                for name, s in sessions.items():
                    if name != "Ben":  # private to Ben until the group phase: the others know only that he wrote one
                        assert all(c.id != card.id for c in s.state.retros["r1"].cards), name
                        assert s.hidden["r1"]["cards"] == {"ben": 1}, name
                # Ana's panel says so ("· 1 card" on Ben's line; drawn wide here: on screen a line that also says
                # the speaker's ▶ may cut it short).
                assert any(line.startswith("● Ben") and line.endswith("· 1 card")
                           for line in presence_text(ana, width=60).plain.splitlines())
                assert allowed(app_b, "phase") is False and "Next phase" not in key_bar(app_b)
                # Ana moves on (>): nobody has ticked ready, so she confirms; in group the card is everyone's.
                await pa.press("4")
                await pa.pause()
                assert allowed(app_a, "phase") is True and "Next phase" in key_bar(app_a)
                assert not any("Demos got shorter" in line for line in lines(app_a))
                await pa.press("greater_than_sign")
                await pa.pause()
                assert isinstance(app_a.screen, ConfirmDialog)
                await pa.press("y")
                await until(pa, lambda: all(any(c.id == card.id for c in s.state.retros["r1"].cards)
                                            for s in sessions.values()), "Ben's card everywhere after the reveal")
                await until(pa, lambda: any("Demos got shorter" in line for line in lines(app_a)),
                            "Ben's card on Ana's screen")
                await pa.press("greater_than_sign")
                await pa.pause()
                assert isinstance(app_a.screen, ConfirmDialog)  # nobody has ticked ready in group either
                await pa.press("y")
                await until(pa, lambda: all(s.state.retros["r1"].phase == "vote" for s in sessions.values()),
                            "the vote phase everywhere")
                # Ben votes (+) on his card; before the reveal the others see only the count.
                await until(pb, lambda: any("Demos got shorter" in line for line in lines(app_b)), "vote lines")
                await cursor_to(pb, app_b, "Demos got shorter")
                await pb.press("plus")
                await pb.pause()
                assert q.votes_of(ben.state.retros["r1"], ben.actor) == {card.id: 1}
                await until(pa, lambda: all((s.hidden.get("r1") or {}).get("votes_cast") == 1
                                            for n, s in sessions.items() if n != "Ben"), "the count of votes")
                await until(pa, lambda: "1 vote cast" in screen_text(app_a, "#presence"), "the count on Ana's panel")
                assert any(line.startswith("● Ben") and line.endswith("· voted")  # the facilitator sees who voted
                           for line in screen_text(app_a, "#presence").splitlines())
                assert "voted" not in screen_text(app_b, "#presence")  # (a participant only the count)
                assert not any("in all" in line for line in lines(app_a))
                await pa.press("R")  # Ana reveals
                await until(pa, lambda: all(q.votes_of(s.state.retros["r1"], "ben") == {card.id: 1}
                                            for s in sessions.values()), "Ben's vote everywhere")
                await until(pa, lambda: any("Demos got shorter" in line and "1 in all" in line
                                            for line in lines(app_a)), "the vote on Ana's screen")

                # --- a metric sample through the Metrics API.
                link = read_link(folders["Ana"], "team")
                posted = httpx.post(f"{hub.url}/v1/rooms/{link.room}/metrics",
                                    json={"samples": [{"id": "crm-1", "metric": "Calls", "value": 7, "member": "Ben"}]},
                                    headers={"Authorization": f"Bearer {link.metrics_token}"}, timeout=10)
                assert posted.status_code == 200, posted.text
                await until(pa, lambda: all("crm-1" in s.state.samples for s in sessions.values()),
                            "the sample everywhere")

                # --- the end: every client's export is the hub's snapshot for that client.
                await asyncio.to_thread(settled, *sessions.values())
                for name, s in sessions.items():
                    link = read_link(folders[name], rooms[name])
                    assert to_json(s.state, 0) == hub_export(hub.url, link.room, link.token), name
        finally:
            for s in sessions.values():
                s.close()
