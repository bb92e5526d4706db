"""The metrics board by keyboard under Pilot: samples, definitions, focus, filter, detail, CSV import."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Sparkline

from agile_tui.ui.screens.metric_detail import MetricChart, MetricDetailScreen
from agile_tui.ui.widgets.metric_board import MetricRowView
from agile_tui.ui.widgets.metric_dialogs import MetricDialog, SampleDialog

from .conftest import TODAY, make_test_app

SIZE = (120, 40)


@pytest.fixture
def team(session):
    session.submit("member.add", id="ana", name="Ana Souza 🚀", role="AE")
    session.submit("member.add", id="ben", name="王芳", role="SDR")
    session.submit("metric.define", id="calls", name="Calls [bold]made[/]", unit="", target=20,
                   direction="higher", scope="member", summary="sum")
    session.submit("metric.define", id="resp", name="Lead response time", unit="min", target=5,
                   direction="lower")
    for day, value in (("2026-11-25", 12), ("2026-11-26", 14), ("2026-11-27", 15)):
        session.submit("metric.sample", id=f"c-{day}", metric_id="calls", value=value, member_id="ana", date=day)
    session.flush()
    return session


def row_view(app, metric_id: str) -> MetricRowView:
    return next(v for v in app.screen.query(MetricRowView) if v.metric_id == metric_id)


def cells(view: MetricRowView) -> dict[str, str]:
    return {name: str(view.query_one(f".metric-{name}").render())
            for name in ("name", "latest", "change", "target", "status")}


async def test_a_new_sample_updates_its_row_in_place(team):
    app = make_test_app(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await pilot.pause()
        calls, resp = row_view(app, "calls"), row_view(app, "resp")
        assert cells(calls)["latest"] == "15" and "50–99%" in cells(calls)["status"]
        assert cells(calls)["name"].strip() == "Calls [bold]made[/]"  # user text is text
        spark_before = list(calls.query_one(Sparkline).data)
        resp_row = resp.row

        await pilot.press("a")  # the focused (first) metric is Calls…
        await pilot.pause()
        assert isinstance(app.screen, SampleDialog)
        await pilot.press(*"31")
        # right: take the suggestion of a name
        await pilot.press("tab", *"Ana", "right", "tab", "ctrl+a", "ctrl+k", *TODAY, "enter")
        await pilot.pause()

        assert row_view(app, "calls") is calls  # the same widget, updated in place
        assert cells(calls)["latest"] == "31" and "on target" in cells(calls)["status"]
        assert cells(calls)["change"].startswith("▲ 16")
        assert calls.query_one(".metric-change").has_class("-better")
        assert list(calls.query_one(Sparkline).data) == [*spark_before, 31.0]
        assert resp.row is resp_row  # the other row was not touched


async def test_a_bad_value_keeps_the_dialog_and_what_was_typed(team):
    app = make_test_app(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "j", "a")  # Lead response time
        await pilot.pause()
        await pilot.press(*"soon", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SampleDialog)
        assert "not a number" in str(app.screen.query_one(".dialog-error").render())
        assert app.screen.query_one("#sample-value").value == "soon"
        assert not [s for s in team.state.samples.values() if s.metric_id == "resp"]


async def test_status_honours_direction(team):
    app = make_test_app(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "j", "a")
        await pilot.pause()
        await pilot.press(*"12", "enter")  # 12 min against ≤ 5: red
        await pilot.pause()
        assert "below 50%" in cells(row_view(app, "resp"))["status"]
        await pilot.press("a", *"4:30", "enter")  # m:ss
        await pilot.pause()
        samples = sorted(s.value for s in team.state.samples.values() if s.metric_id == "resp")
        assert samples == [4.5, 12]


async def test_define_edit_focus_and_remove_a_metric(team):
    team.submit("sprint.create", id="s1", name="Sprint 1", start=TODAY, days=14, goal="Ship it.")
    team.flush()
    app = make_test_app(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "n")
        await pilot.pause()
        assert isinstance(app.screen, MetricDialog)
        await pilot.press(*"Demos booked", "tab", "tab", *"8", "enter")
        await pilot.pause()
        [demos] = [m for m in team.state.metrics.values() if m.name == "Demos booked"]
        assert (demos.target, demos.direction, demos.scope) == (8, "higher", "team")

        ids = [v.metric_id for v in app.screen.query(MetricRowView)]
        assert ids == ["calls", demos.id, "resp"]  # by name
        row_view(app, "resp").focus()
        await pilot.press("asterisk")
        await pilot.pause()
        assert team.state.sprints["s1"].focus_metrics == ("resp",)
        assert [v.metric_id for v in app.screen.query(MetricRowView)][0] == "resp"  # focus metrics first
        assert cells(row_view(app, "resp"))["name"].startswith("★")

        row_view(app, demos.id).focus()
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("tab", "tab", "ctrl+a", "ctrl+k", *"10", "enter")
        await pilot.pause()
        assert team.state.metrics[demos.id].target == 10

        await pilot.press("d")
        await pilot.pause()
        assert demos.id not in team.state.metrics
        await pilot.press("u")
        await pilot.pause()
        assert team.state.metrics[demos.id].target == 10


async def test_filter_to_one_member(team):
    team.submit("metric.sample", id="b1", metric_id="calls", value=40, member_id="ben", date="2026-11-27")
    team.flush()
    app = make_test_app(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await pilot.pause()
        assert cells(row_view(app, "calls"))["latest"] == "55"  # the team: Ana's 15 + 王芳's 40 (summary: sum)
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("down", "down", "enter")  # The team, Ana, 王芳
        await pilot.pause()
        assert cells(row_view(app, "calls"))["latest"] == "40"
        assert "王芳" in str(app.screen.query_one("#board-heading").render())


async def test_detail_shows_a_chart_and_a_table_per_member(team):
    app = make_test_app(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, MetricDetailScreen)
        table = app.screen.query_one("#detail-members", DataTable)
        names = [str(table.get_row_at(n)[0]) for n in range(table.row_count)]
        assert names == ["Ana Souza 🚀", "王芳"]
        chart = app.screen.query_one(MetricChart)
        assert chart._shown is not None and 15 in chart._shown[1]
        width = chart.size.width
        await pilot.resize_terminal(100, 30)
        await pilot.pause(0.3)
        assert chart.size.width < width
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, MetricDetailScreen)


async def test_import_csv_from_the_board(team, tmp_path):
    good = tmp_path / "calls.csv"
    good.write_text("\ufeffdate;metric;member;value\n2026-11-28;Calls [bold]made[/];王芳;22\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("date,metric,member,value\n2026-13-01,Calls [bold]made[/],Ana Souza 🚀,3\n"
                   "2026-11-28,Nope,,4\n", encoding="utf-8")
    app = make_test_app(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "i")
        await pilot.pause()
        await pilot.press(*str(bad), "enter")
        await pilot.pause()
        error = str(app.screen.query_one(".dialog-error").render())
        assert "Nothing imported" in error and "line 2" in error and "line 3" in error
        assert len(team.state.samples) == 3
        await pilot.press("ctrl+a", "ctrl+k", *str(good), "enter")
        await pilot.pause(0.3)
        assert len(team.state.samples) == 4
        await pilot.press("i", *str(good), "enter")  # the same file again adds nothing
        await pilot.pause(0.3)
        assert len(team.state.samples) == 4


async def test_the_command_palette_imports_metrics(team, tmp_path):
    good = tmp_path / "calls.csv"
    good.write_text("date,metric,member,value\n2026-11-28,calls,ben,22\n", encoding="utf-8")
    app = make_test_app(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p", *"Import metrics CSV")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        await pilot.press(*str(good), "enter")
        await pilot.pause(0.3)
        assert any(s.member_id == "ben" and s.value == 22 for s in team.state.samples.values())
        assert app.current_mode == "metrics"


async def test_a_wrong_sample_is_undone_with_u(team):
    app = make_test_app(team)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("3", "a", *"2000", "enter")
        await pilot.pause()
        assert any(s.value == 2000 for s in team.state.samples.values())
        await pilot.press("u")
        await pilot.pause()
        assert not any(s.value == 2000 for s in team.state.samples.values())
        assert any("Undid: a sample of Calls [bold]made[/] (2000" in str(n.message) for n in app._notifications)


async def test_a_future_sample_is_refused(team):
    app = make_test_app(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "a", *"12", "tab", "tab", "ctrl+a", "ctrl+k", *"2026-12-27", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SampleDialog)
        assert "in the future" in str(app.screen.query_one(".dialog-error").render())


async def test_markup_in_a_unit_is_text_in_the_detail(session):
    session.submit("metric.define", id="m", name="Odd [b]", unit="[/]", target=3)
    session.submit("metric.sample", id="s", metric_id="m", value=4, date="2026-11-27")
    session.flush()
    app = make_test_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, MetricDetailScreen)
        table = app.screen.query_one("#detail-members", DataTable)
        assert str(table.get_row_at(0)[1]) == "4 [/]"


async def test_no_data_draws_no_bars_and_the_palette_works_from_a_detail(team):
    team.submit("metric.define", id="empty", name="Empty one", target=5)
    team.flush()
    app = make_test_app(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await pilot.pause()
        assert list(row_view(app, "empty").query_one(Sparkline).data) == []
        assert "no data" in cells(row_view(app, "empty"))["status"]
        await pilot.press("enter")
        await pilot.pause(0.3)
        await pilot.press("ctrl+p", *"Add a metric sample")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, SampleDialog)


async def test_focus_metrics_are_chosen_when_planning(team):
    team.submit("sprint.create", id="s1", name="Sprint 1", start=TODAY, days=14, goal="Ship it.")
    team.flush()
    app = make_test_app(team)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("F")
        await pilot.pause()
        await pilot.press("down", "enter")  # by name: Calls [bold]made[/], Lead response time
        await pilot.pause()
        assert team.state.sprints["s1"].focus_metrics == ("resp",)
        await pilot.press("3")
        await pilot.pause()
        assert [v.metric_id for v in app.screen.query(MetricRowView)][0] == "resp"
