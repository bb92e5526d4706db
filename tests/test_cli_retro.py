"""`agile-tui export retro`: columns, topics with votes, notes, actions with owners; anonymity kept."""

from __future__ import annotations

import json

from agile_tui.cli import main

from .conftest import open_session


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_export_the_demo_retro_as_json_and_markdown(data_dir, clock, capsys):
    open_session(data_dir, "demo", clock, seed_demo=True).close()
    code, out, _ = run(capsys, "export", "retro", "--room", "demo", "--format", "json", "--data-dir", str(data_dir))
    assert code == 0
    data = json.loads(out)
    assert data["actions"] and all("owner" in a for a in data["actions"])
    assert "author" not in json.dumps(data) or all(not c.get("author") for c in data.get("cards", []))
    code, out, _ = run(capsys, "export", "retro", "--room", "demo", "--data-dir", str(data_dir))
    assert code == 0 and "Sprint 1" in out


def test_an_anonymous_retro_exports_no_authors(data_dir, clock, capsys):
    session = open_session(data_dir, "team", clock)
    session.submit("member.add", id="ana", name="Ana Secret-Author")
    session.submit("sprint.create", id="s1", name="Sprint 1", start="2026-11-28", days=14)
    session.submit("retro.create", id="r1", sprint_id="s1")
    session.submit("retro.card", retro_id="r1", id="c1", column="Went well", text="Calls | went [bold]well[/]",
                   member_id="ana")
    session.close()
    for fmt in ("json", "markdown"):
        code, out, _ = run(capsys, "export", "retro", "--room", "team", "--sprint", "Sprint 1", "--format", fmt,
                           "--data-dir", str(data_dir))
        assert code == 0 and "Ana Secret-Author" not in out and "ana" not in out.replace("Ana", "")
        assert "went" in out


def test_unknown_sprint_or_no_retro(data_dir, clock, capsys):
    open_session(data_dir, "demo", clock, seed_demo=True).close()
    code, _, err = run(capsys, "export", "retro", "--room", "demo", "--sprint", "Nope", "--data-dir", str(data_dir))
    assert code == 2 and "no retro of sprint 'Nope'" in err
    open_session(data_dir, "empty", clock).close()
    code, _, err = run(capsys, "export", "retro", "--room", "empty", "--data-dir", str(data_dir))
    assert code == 2 and "no retro yet" in err
    code, _, err = run(capsys, "export", "--sprint", "x", "--room", "demo", "--data-dir", str(data_dir))
    assert code == 2 and "--sprint goes with" in err


def test_the_whole_room_export_keeps_anonymous_authors_and_secret_votes_out(data_dir, clock, capsys):
    session = open_session(data_dir, "team", clock)
    session.submit("member.add", id="cai", name="Cai")
    session.submit("sprint.create", id="s1", name="Sprint 1", start="2026-11-28", days=14)
    session.submit("retro.create", id="r1", sprint_id="s1")
    session.submit("retro.card", retro_id="r1", id="c1", column="Went well", text="Calls", member_id="cai")
    session.submit("retro.phase", retro_id="r1", action="next", at=1.0, force=True)
    session.submit("retro.phase", retro_id="r1", action="next", at=2.0, force=True)
    session.submit("retro.vote", retro_id="r1", topic_id="c1", count=2, member_id="cai")
    session.close()
    code, out, _ = run(capsys, "export", "--room", "team", "--format", "json", "--data-dir", str(data_dir))
    retro = json.loads(out)["retros"]["r1"]
    assert code == 0 and retro["cards"][0]["author"] == "" and retro["votes"] == [] and retro["votes_hidden"] == 2
