"""How each phase of the retro looks at 120×40 on the demo room (its last retro's actions under review).
Update after a deliberate change with `make snapshots`."""

from __future__ import annotations

import pytest

from agile_tui.domain import FakeClock

from .conftest import TODAY, make_test_app, open_session

CARDS = [("c1", "Went well", "Demos got shorter 🚀", "m-ana"), ("c2", "Went well", "Shorter demos win deals", "m-wang"),
         ("c3", "To improve", "CRM import broke again", "m-sam"), ("c4", "To improve", "CRM import | 字节", "m-ana"),
         ("c5", "Try next", "Pricing approvals take [bold]days[/]", "m-lucas")]
PHASES = ["review", "reflect", "group", "vote", "discuss", "close"]


def build(session, clock, until: str) -> None:
    s = session.submit
    at = [0.0]

    def tick(seconds: float = 30) -> float:
        clock.advance(seconds)
        at[0] += seconds
        return at[0]

    s("retro.create", id="r2", sprint_id="sprint-2", started_mono=clock.monotonic(), clock_source=clock.source)
    s("retro.review", retro_id="r2", action_id=session.state.retros["r2"].review[0].action_id, outcome="done")
    if until == "review":
        return
    s("retro.phase", retro_id="r2", action="next", at=tick(), force=True)
    for card_id, column, text, author in CARDS:
        s("retro.card", retro_id="r2", id=card_id, column=column, text=text, member_id=author)
    s("retro.timer", retro_id="r2", action="start", at=tick())
    tick(100)
    if until == "reflect":
        return
    s("retro.phase", retro_id="r2", action="next", at=tick(), force=True)
    s("retro.group", retro_id="r2", topic_id="t1", card_ids=["c1", "c2"], title="Shorter demos")
    if until == "group":
        return
    s("retro.phase", retro_id="r2", action="next", at=tick(), force=True)
    s("retro.vote", retro_id="r2", votes={"t1": 3, "c3": 2}, member_id="m-ana")
    s("retro.vote", retro_id="r2", votes={"c4": 1}, member_id="m-wang")
    s("retro.ready", retro_id="r2", member_id="m-ana")
    if until == "vote":
        return
    s("retro.phase", retro_id="r2", action="next", at=tick(), force=True)
    s("retro.note", retro_id="r2", topic_id="t1", text="Keep the 20-minute demo script")
    s("retro.action", retro_id="r2", id="a1", title="Write the 20-minute demo script", owner="m-ana",
      due="2026-12-04", topic_id="t1")
    s("retro.timer", retro_id="r2", action="start", at=tick())
    tick(200)
    if until == "discuss":
        return
    s("retro.phase", retro_id="r2", action="next", at=tick(), force=True)


@pytest.mark.parametrize("phase", PHASES)
def test_each_phase(snap_compare, data_dir, phase):
    clock = FakeClock(f"{TODAY}T09:00:00+00:00")
    session = open_session(data_dir, "demo", clock, seed_demo=True)
    build(session, clock, phase)
    session.flush()
    app = make_test_app(session)

    async def run(pilot):
        await pilot.press("4")
        await pilot.pause()

    try:
        assert snap_compare(app, terminal_size=(120, 40), run_before=run)
    finally:
        session.close()
