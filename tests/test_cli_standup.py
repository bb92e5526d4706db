"""`agile-tui export standup`: one standup as Markdown or JSON, the latest or by date, read-only.

Most calls are real subprocesses (`python -m agile_tui export standup ...`) on real rooms in a temporary data
folder; the error paths also go through ``main(argv)`` in this process. The live round is driven through ops
with a FakeClock, the way the app drives it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from agile_tui.cli import main
from agile_tui.domain import FakeClock
from agile_tui.domain.standup import RoundTime, live_standup, next_facilitator
from agile_tui.domain.standup_report import (
    find_standup,
    md_cell,
    md_text,
    nearest_dates,
    standup_to_dict,
    standup_to_markdown,
)
from agile_tui.store import load_readonly

from .conftest import TODAY, open_session
from .test_cli import imported_modules, room_files_state, run_cli

DEMO_DATES = [f"2026-11-{day}" for day in range(18, 28)]  # the demo's ten recorded standups
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


# ---------------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def _demo_template(tmp_path_factory) -> Path:
    """The demo room built once per module by the real store."""
    folder = tmp_path_factory.mktemp("demo-standup-template")
    open_session(folder, "demo", FakeClock(f"{TODAY}T09:00:00+00:00"), seed_demo=True).close()
    return folder / "rooms"


@pytest.fixture
def demo_room(_demo_template, data_dir):
    """The demo room saved (and closed) in this test's data folder; returns its state as saved."""
    (data_dir / "rooms").mkdir(parents=True, exist_ok=True)
    for path in _demo_template.iterdir():
        shutil.copy2(path, data_dir / "rooms" / path.name)
    state, _, problems = load_readonly(data_dir, "demo")
    assert problems == []
    return state


def export(*args: str, room: str = "demo"):
    return run_cli("export", "standup", "--room", room, *args)


def export_json(*args: str, room: str = "demo") -> dict:
    result = export("--format", "json", *args, room=room)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


def call_main(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def check_tables(markdown: str) -> int:
    """Every table row has as many cells as its table's header; returns how many rows were checked."""
    rows = 0
    width = None
    for line in markdown.splitlines():
        if not line.startswith("|"):
            width = None
            continue
        assert line.endswith("|") and not line.endswith("\\|"), line
        cells = len(UNESCAPED_PIPE.split(line)) - 2
        if width is None:
            width = cells
        assert cells == width, f"a row with {cells} cells in a table of {width}: {line!r}"
        rows += 1
    return rows


# ---------------------------------------------------------------------- the demo's standups


def test_export_standup_markdown_is_the_latest_standup(demo_room):
    result = export("--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    text = result.stdout
    assert text == standup_to_markdown(demo_room, demo_room.standups["standup-2026-11-27"])
    assert text.startswith("# Standup 2026-11-27 — Nordic Sales Pod\n")
    assert "- **Sprint:** Sprint 2" in text and "- **Status:** closed" in text
    assert "| # | Speaker | Airtime | Box | Over/under | Notes |" in text
    assert "### 王芳" in text and "Ana Souza 🚀" in text
    assert "- **Yesterday:** Nordea demo and recap email" in text
    assert check_tables(text) >= 8
    # Markdown is the default format, and "standup" with no date means the latest.
    assert export().stdout == text


def test_export_standup_json_matches_the_recorded_standup(demo_room):
    data = export_json()
    standup = demo_room.standups["standup-2026-11-27"]
    names = {m.id: m.name for m in demo_room.members.values()}
    assert data == json.loads(json.dumps(standup_to_dict(demo_room, standup)))
    assert (data["date"], data["id"], data["status"]) == ("2026-11-27", standup.id, "closed")
    assert data["room"] == {"name": "demo", "team": "Nordic Sales Pod"}
    assert data["sprint"] == {"id": "sprint-2", "name": "Sprint 2"}
    assert data["facilitator"] == {"id": standup.facilitator_id, "name": names[standup.facilitator_id]}
    assert (data["length_min"], data["length_s"], data["length"]) == (15, 900, "15:00")
    spoke = [u for u in standup.updates if not (u.absent and u.airtime_s == 0)]
    assert [s["member_id"] for s in data["speakers"]] == [u.member_id for u in spoke]
    for row, update in zip(data["speakers"], spoke, strict=True):
        assert row["name"] == names[update.member_id]
        assert (row["airtime_s"], row["box_s"]) == (update.airtime_s, update.box_s)
        assert row["over_s"] == pytest.approx(update.airtime_s - update.box_s)
        assert row["verdict"] == ("over" if update.airtime_s > update.box_s else "under")
        assert re.fullmatch(r"\d+:\d\d", row["airtime"]) and row["box"] == "2:30"
        assert (row["yesterday"], row["today"], row["blockers"]) == (update.yesterday, update.today,
                                                                     update.blockers)
    assert data["total_s"] == pytest.approx(sum(u.airtime_s for u in spoke))
    assert data["quickest"]["airtime_s"] == min(u.airtime_s for u in spoke)
    assert data["longest"]["airtime_s"] == max(u.airtime_s for u in spoke)
    assert data["absent"] == [{"member_id": u.member_id, "name": names[u.member_id]}
                              for u in standup.updates if u.absent and u.airtime_s == 0]
    # The latest standup: the next facilitator is the rotation's.
    assert data["next_facilitator"] == names[next_facilitator(demo_room)]


@pytest.mark.parametrize("day", ["2026-11-18", "2026-11-21", "2026-11-23", "2026-11-25"])
def test_export_standup_by_date(demo_room, day):
    data = export_json("--date", day)
    assert data["date"] == day and data["id"] == f"standup-{day}"
    markdown = export("--date", day, "--format", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout.startswith(f"# Standup {day} — ")
    assert markdown.stdout == standup_to_markdown(demo_room, demo_room.standups[f"standup-{day}"])
    check_tables(markdown.stdout)


def test_blockers_opened_and_resolved_are_listed_with_owner_helper_item_and_age(demo_room):
    opened = export_json("--date", "2026-11-21")["blockers_opened"]
    assert opened == [{
        "id": "b-dpa", "text": "Legal has not approved the Spotify DPA",
        "owner": {"id": "m-wang", "name": "王芳"}, "helper": {"id": "m-jordan", "name": "Jordan Blake"},
        "item": {"id": "item-06", "title": demo_room.items["item-06"].title},
        "opened_on": "2026-11-21", "resolved_on": None, "age_days": 0,
    }]
    resolved = export_json("--date", "2026-11-23")["blockers_resolved"]
    assert [(b["id"], b["opened_on"], b["resolved_on"], b["age_days"]) for b in resolved] == \
           [("b-crm", "2026-11-20", "2026-11-23", 3)]
    assert resolved[0]["helper"]["name"] == "Ana Souza 🚀"
    text = export("--date", "2026-11-23").stdout
    assert "## Blockers resolved (1)" in text
    assert "| CRM import fails for webinar leads | Sam Okafor | Ana Souza 🚀 | " in text
    assert "| 2026-11-20 | 3 days |" in text


def test_parking_lot_and_the_next_facilitator_of_an_earlier_standup(demo_room):
    data = export_json("--date", "2026-11-25")
    assert data["parking"] == ["Pricing exceptions for multi-year deals"]
    assert "## Parking lot (1)\n\n- Pricing exceptions for multi-year deals\n" in export("--date", "2026-11-25").stdout
    # For an earlier standup, the next facilitator is who facilitated the one after it.
    following = demo_room.standups["standup-2026-11-26"].facilitator_id
    assert data["next_facilitator"] == demo_room.members[following].name


def test_an_unknown_date_lists_the_nearest_dates(demo_room):
    result = export("--date", "2026-11-02")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "has no standup on 2026-11-02" in result.stderr
    assert "2026-11-18, 2026-11-19, 2026-11-20" in result.stderr
    after = export("--date", "2026-12-24", "--format", "json")
    assert after.returncode == 2 and after.stdout == ""
    assert "2026-11-25, 2026-11-26, 2026-11-27" in after.stderr
    assert nearest_dates(demo_room, "2026-11-22") == ["2026-11-21", "2026-11-22", "2026-11-23"]


@pytest.mark.parametrize("bad", ["27/11/2026", "2026-02-30", "yesterday", ""])
def test_a_bad_date_says_what_a_date_looks_like(demo_room, capsys, bad):
    with pytest.raises(SystemExit) as exit_:
        main(["export", "standup", "--room", "demo", "--date", bad])
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{bad!r} is not a date like 2026-11-27 (YYYY-MM-DD)" in err


def test_a_room_without_standups_says_so(data_dir, clock, capsys):
    session = open_session(data_dir, "fresh", clock)
    session.submit("member.add", id="m1", name="Ana")
    session.close()
    code, out, err = call_main(capsys, "export", "standup", "--room", "fresh")
    assert (code, out) == (2, "")
    assert "room 'fresh' has no standups yet" in err
    code, out, err = call_main(capsys, "export", "standup", "--room", "fresh", "--date", "2026-11-27")
    assert (code, out) == (2, "") and "no standups yet" in err


def test_date_goes_with_standup_only(demo_room, capsys):
    code, out, err = call_main(capsys, "export", "--room", "demo", "--date", "2026-11-27")
    assert (code, out) == (2, "")
    assert "--date goes with `export standup`" in err


def test_export_room_is_still_the_whole_room(demo_room, capsys):
    code, plain, err = call_main(capsys, "export", "--room", "demo", "--format", "json")
    assert (code, err) == (0, "")
    code, explicit, err = call_main(capsys, "export", "room", "--room", "demo", "--format", "json")
    assert (code, err) == (0, "")
    assert plain == explicit
    assert set(json.loads(plain)["standups"]) == {f"standup-{d}" for d in DEMO_DATES}


def test_export_standup_of_a_missing_room_says_so(capsys):
    code, out, err = call_main(capsys, "export", "standup", "--room", "nosuchroom")
    assert code != 0 and out == ""
    assert "There is no room 'nosuchroom'" in err


def test_export_standup_help_stays_light():
    result = run_cli("export", "standup", "--help", xopts=("-X", "importtime"))
    assert result.returncode == 0, result.stderr
    assert "{room,standup,retro}" in result.stdout and "--date YYYY-MM-DD" in result.stdout
    modules = imported_modules(result.stderr)
    assert "agile_tui" in modules
    assert not modules & {"textual", "tinydb", "httpx", "rich"}
    assert "agile_tui.domain" not in result.stderr


# ---------------------------------------------------------------------- several standups on one day


def test_a_date_with_two_standups_gives_the_later_one(data_dir, clock, capsys):
    session = open_session(data_dir, "twice", clock)
    for member_id, name in (("m1", "Ana"), ("m2", "Ben")):
        session.submit("member.add", id=member_id, name=name)
    session.submit("standup.record", id="s-day-before", date="2026-11-27", facilitator_id="m1",
                   updates=[{"member_id": "m1", "airtime_s": 60, "box_s": 450}])
    time = RoundTime(clock)
    for standup_id, facilitator in (("s-morning", "m1"), ("s-again", "m2")):
        session.submit("standup.start", id=standup_id, order=["m1", "m2"], facilitator_id=facilitator,
                       **time.started())
        clock.advance(30)
        session.submit("standup.end", id=standup_id, at=time.now(session.state.standups[standup_id]))
        clock.advance(3600)
    session.close()
    code, out, err = call_main(capsys, "export", "standup", "--room", "twice", "--date", TODAY,
                               "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert (data["id"], data["facilitator"]["name"]) == ("s-again", "Ben")
    code, out, _ = call_main(capsys, "export", "standup", "--room", "twice", "--format", "json")
    assert json.loads(out)["id"] == "s-again"
    code, out, _ = call_main(capsys, "export", "standup", "--room", "twice", "--date", "2026-11-27",
                             "--format", "json")
    assert json.loads(out)["id"] == "s-day-before"


# ---------------------------------------------------------------------- user text cannot break the Markdown

NAMES = {"m-pipe": "Eve | [bold]Boss[/bold]", "m-wang": "王芳", "m-star": "*Ana* 🚀 _x_ `y`"}
YESTERDAY = "line one\nline two | pipe"
TODAY_TEXT = "`code` _under_ **strong** [link](https://example.com) <b>html</b> &amp; 🚀"
BLOCKERS = "[bold]urgent[/bold] | 王芳 needs \x1b[31mlegal\x1b[0m"
PARKING = ["- not a list", "1. not ordered", "# not a heading", "> not a quote", "a | b\nc"]
ITEM_TITLE = "Deal | €48k [Q4] *hot*"
BLOCKER_TEXT = "Legal | DPA\n[red]stuck[/red] 🚀"


@pytest.fixture
def tricky_room(data_dir, clock) -> str:
    session = open_session(data_dir, "tricky", clock)
    session.submit("room.setup", name="tricky", team="Team | *Pipes* 🚀")
    for member_id, name in NAMES.items():
        session.submit("member.add", id=member_id, name=name)
    session.submit("sprint.create", id="sp", name="Sprint [1] | _one_", start="2026-11-23", days=14)
    session.submit("item.add", id="it", title=ITEM_TITLE, owner="m-wang", sprint_id="sp")
    session.submit("standup.record", id="s1", date="2026-11-27", sprint_id="sp", facilitator_id="m-pipe",
                   updates=[{"member_id": "m-pipe", "yesterday": YESTERDAY, "today": TODAY_TEXT,
                             "blockers": BLOCKERS, "airtime_s": 61.5, "box_s": 60},
                            {"member_id": "m-wang", "today": "谈判：上海客户续约 🚀", "airtime_s": 30, "box_s": 60},
                            {"member_id": "m-star", "absent": True, "box_s": 60}],
                   parking=PARKING)
    session.submit("blocker.open", id="b1", member_id="m-wang", text=BLOCKER_TEXT, item_id="it",
                   helper_id="m-pipe", opened_on="2026-11-27", standup_id="s1")
    session.close()
    return "tricky"


def test_user_text_renders_safely_in_markdown(tricky_room):
    result = export(room=tricky_room)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert check_tables(text) == (2 + 2) + (1 + 2)  # speakers, blockers opened: rows and 2 header rows each
    assert "| 1 | Eve \\| \\[bold\\]Boss\\[/bold\\] | 1:02 (61.5 s) | 1:00 (60 s) | over (+0:02) | – |" in text
    assert "| 2 | 王芳 | 0:30 (30 s) | 1:00 (60 s) | under (-0:30) | – |" in text
    assert "**Absent:** \\*Ana\\* 🚀 \\_x\\_ \\`y\\`" in text
    assert "- **Yesterday:** line one<br>line two \\| pipe\n" in text
    assert ("- **Today:** \\`code\\` \\_under\\_ \\*\\*strong\\*\\* \\[link\\](https://example.com) "
            "\\<b\\>html\\</b\\> &amp;amp; 🚀\n") in text
    assert "- **Blockers:** \\[bold\\]urgent\\[/bold\\] \\| 王芳 needs ␛\\[31mlegal␛\\[0m\n" in text
    assert "- **Blockers:** Legal \\| DPA<br>\\[red\\]stuck\\[/red\\] 🚀\n" in text  # raised in the standup
    assert "\x1b" not in text
    assert ("| Legal \\| DPA<br>\\[red\\]stuck\\[/red\\] 🚀 | 王芳 | Eve \\| \\[bold\\]Boss\\[/bold\\] | "
            "Deal \\| €48k \\[Q4\\] \\*hot\\* | 2026-11-27 | 0 days |") in text
    parking = text.split("## Parking lot (5)\n\n", 1)[1].splitlines()
    assert parking == ["- \\- not a list", "- 1\\. not ordered", "- \\# not a heading", "- \\> not a quote",
                       "- a \\| b<br>c"]
    assert text.startswith("# Standup 2026-11-27 — Team \\| \\*Pipes\\* 🚀\n")
    assert "- **Sprint:** Sprint \\[1\\] \\| \\_one\\_" in text
    # Nothing of the user's text starts a line of its own: every line is ours (a heading, a fact, a row...).
    for line in text.splitlines():
        assert line == "" or re.match(r"(#{1,3} |- |\| |\|-|\*\*Absent:\*\* |None\.$|Empty\.$)", line), line


def test_user_text_is_exact_in_json(tricky_room):
    data = export_json(room=tricky_room)
    pipe = data["speakers"][0]
    assert (pipe["name"], pipe["yesterday"], pipe["today"]) == (NAMES["m-pipe"], YESTERDAY, TODAY_TEXT)
    assert pipe["blockers"] == BLOCKERS
    assert data["speakers"][1]["today"] == "谈判：上海客户续约 🚀"
    assert data["speakers"][1]["blockers"] == BLOCKER_TEXT  # the blocker raised in the standup is added
    assert data["absent"] == [{"member_id": "m-star", "name": NAMES["m-star"]}]
    assert data["parking"] == PARKING
    assert data["blockers_opened"][0]["text"] == BLOCKER_TEXT
    assert data["blockers_opened"][0]["item"] == {"id": "it", "title": ITEM_TITLE}
    assert data["sprint"]["name"] == "Sprint [1] | _one_"
    raw = export("--format", "json", room=tricky_room).stdout
    assert "王芳" in raw and "🚀" in raw  # not \\u escapes


@pytest.mark.parametrize("text, expected", [
    ("plain words", "plain words"),
    ("a|b", "a\\|b"),
    ("*x* _y_ `z` [l](u) ~s~ #h $m$", "\\*x\\* \\_y\\_ \\`z\\` \\[l\\](u) \\~s\\~ \\#h \\$m\\$"),
    ("back\\slash", "back\\\\slash"),
    ("one\ntwo\r\nthree\rfour", "one<br>two<br>three<br>four"),
    ("\n  padded  \n\n", "padded"),
    ("- item", "\\- item"),
    ("+ item", "\\+ item"),
    ("12. item", "12\\. item"),
    ("3) item", "3\\) item"),
    ("R&D &amp; &#169;", "R&D &amp;amp; &\\#169;"),
    ("tab\there", "tab here"),
    ("\x1b[1m\x07\x7f\x9b", "␛\\[1m␇␡\ufffd"),
    ("王芳 谈判 🚀🎉", "王芳 谈判 🚀🎉"),
    ("", ""),
    (None, ""),
])
def test_md_text_escapes(text, expected):
    assert md_text(text) == expected


def test_md_cell_shows_a_dash_for_nothing():
    assert md_cell("") == "–" and md_cell("  \n ") == "–" and md_cell("a|b") == "a\\|b"


# ---------------------------------------------------------------------- a live round, exported while open


ORDER = ["m-wang", "m-lucas", "m-ana"]


def test_a_live_round_exported_while_open_and_after_its_end(demo_room, data_dir, clock):
    session = open_session(data_dir, "demo", clock)
    try:
        time = RoundTime(clock)
        session.submit("standup.start", id="live-1", order=ORDER, length_min=5, facilitator_id="m-wang",
                       started_mono=clock.monotonic(), clock_source=clock.source)
        times = [0.0]

        def turn(seconds: float, type_: str = "standup.turn", **args) -> None:
            clock.advance(seconds)
            at = time.now(live_standup(session.state))
            times.append(at)
            session.submit(type_, id="live-1", at=at, **args)

        turn(95.5, action="next", expect=0)
        session.submit("standup.note", id="live-1", member_id="m-wang", today="Nordea | renewal 🚀")
        session.flush()

        # While the round runs and the room is open here, another process exports it (read-only).
        before = room_files_state(data_dir)
        live = export_json()
        assert room_files_state(data_dir) == before, "export changed the room's files"
        assert (live["id"], live["date"], live["status"]) == ("live-1", TODAY, "live")
        assert live["current_speaker"] == {"id": "m-lucas", "name": "Lucas García"}
        assert live["sprint"]["name"] == "Sprint 2"
        assert [(s["member_id"], s["airtime_s"]) for s in live["speakers"]] == [
            ("m-wang", 95.5), ("m-lucas", 0), ("m-ana", 0)]
        assert live["speakers"][0]["today"] == "Nordea | renewal 🚀"
        assert live["next_facilitator"] is None
        markdown = export()
        assert markdown.returncode == 0, markdown.stderr
        assert "- **Status:** live" in markdown.stdout and "- **Speaking now:** Lucas García" in markdown.stdout
        assert "Nordea \\| renewal 🚀" in markdown.stdout

        turn(130.25, action="next", expect=1)
        turn(84.75, type_="standup.end")
        session.flush()

        data = export_json()
        assert data["status"] == "closed" and data["current_speaker"] is None
        airtimes = [s["airtime_s"] for s in data["speakers"]]
        assert airtimes == [times[1] - times[0], times[2] - times[1], times[3] - times[2]]
        assert airtimes == [95.5, 130.25, 84.75]
        assert data["total_s"] == times[3] == 310.5
        assert (data["total"], data["total_over_s"], data["total_over"]) == ("5:10", 10.5, "+0:10")
        # 5 minutes for three: 100 s each, the last capped by what the meeting had left (300 - 225.75).
        assert [s["box_s"] for s in data["speakers"]] == [100, 100, 74.25]
        assert [s["verdict"] for s in data["speakers"]] == ["under", "over", "over"]
        assert [s["over_s"] for s in data["speakers"]] == [-4.5, 30.25, 10.5]
        assert [s["airtime"] for s in data["speakers"]] == ["1:36", "2:10", "1:25"]
        assert data["quickest"]["member_id"] == "m-ana" and data["longest"]["member_id"] == "m-lucas"
        absent = {m.id for m in demo_room.members.values() if m.active} - set(ORDER)
        assert {a["member_id"] for a in data["absent"]} == absent
        names = {m.id: m.name for m in session.state.members.values()}
        assert data["next_facilitator"] == names[next_facilitator(session.state)]
        assert data == json.loads(json.dumps(standup_to_dict(session.state, session.state.standups["live-1"])))
        assert find_standup(session.state) == session.state.standups["live-1"]
        markdown = export().stdout
        assert "| 2 | Lucas García | 2:10 (130.25 s) | 1:40 (100 s) | over (+0:30) | – |" in markdown
        assert "- **Total time:** 5:10 (310.5 s; +0:10 against the length)" in markdown
    finally:
        session.close()
    assert export_json()["total_s"] == 310.5  # the same once the room is closed
