"""What the first paint costs: the stylesheet parsed once, already in the remembered theme; no frame composed
(and thrown away) while the app starts; the collector held until the first frame; nothing imported that the
planning screen does not show. bench/bench_startup.py measures the time itself."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest
from textual._compositor import Compositor
from textual.css.stylesheet import Stylesheet

from .conftest import make_test_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("theme", ["agile-dark", "agile-light"])
async def test_the_stylesheet_is_parsed_once_in_the_remembered_theme(demo_session, monkeypatch, theme):
    reparses = []
    original = Stylesheet.reparse

    def reparse(self):
        reparses.append(self)
        original(self)

    monkeypatch.setattr(Stylesheet, "reparse", reparse)
    app = make_test_app(demo_session, theme=theme)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert not reparses, "the stylesheet was parsed again on the way to the first frame"
        dark = app.available_themes[theme].dark
        assert app.theme == theme and app.has_class(f"-theme-{theme}")
        assert app.has_class("-dark-mode") == dark and app.has_class("-light-mode") == (not dark)
        assert app.stylesheet._variables == app.get_css_variables()
        # A theme chosen later still re-parses the stylesheet, as Textual does.
        app.set_theme("agile-high-contrast")
        await pilot.pause()
        assert reparses
        assert app.stylesheet._variables == app.get_css_variables()


async def test_no_frame_is_composed_while_the_app_starts(demo_session, monkeypatch):
    frames = []  # (in a batch update?, a whole-screen frame?)
    full, partial = Compositor.render_full_update, Compositor.render_partial_update
    app = make_test_app(demo_session)

    def render_full_update(self, *args, **kwargs):
        frames.append((bool(app._batch_count), True))
        return full(self, *args, **kwargs)

    def render_partial_update(self, *args, **kwargs):
        frames.append((bool(app._batch_count), False))
        return partial(self, *args, **kwargs)

    monkeypatch.setattr(Compositor, "render_full_update", render_full_update)
    monkeypatch.setattr(Compositor, "render_partial_update", render_partial_update)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert frames, "no frame was composed"
        assert not any(in_batch for in_batch, _ in frames), frames  # App._display would throw it away
        assert frames[0] == (False, True), frames  # the first frame is the whole screen
        # Switching modes batches updates too: the screen shown afterwards is whole and current.
        await pilot.press("2")
        await pilot.pause(0.2)
        await pilot.press("1")
        await pilot.pause(0.2)
        assert app.current_mode == "planning" and "Goal:" in str(app.screen.query_one("#room-bar").render())


def test_the_collector_waits_for_the_first_frame(data_dir, monkeypatch):
    from agile_tui import cli
    from agile_tui.ui import app as app_module

    seen = {}

    class FakeApp:
        return_code = 0

        def run(self):
            seen["during start-up"] = gc.isenabled()

    monkeypatch.setattr(app_module, "make_app", lambda *args, **kwargs: FakeApp())
    try:
        assert cli.main(["--data-dir", str(data_dir), "--room", "team"]) == 0
        assert seen == {"during start-up": False}
        assert gc.isenabled()  # on again once the app is over, whatever happened
        gc.disable()
        app_module.AgileApp._settle_memory()  # the first frame turns it back on
        assert gc.isenabled()
    finally:
        gc.enable()


def test_the_planning_screen_loads_nothing_it_does_not_show():
    code = ("import json, sys\n"
            "import agile_tui.cli, agile_tui.config, agile_tui.store, agile_tui.session, agile_tui.ui.app\n"
            "print(json.dumps(sorted(sys.modules)))")
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                           check=True).stdout))
    assert "agile_tui.ui.screens.planning" in loaded
    later = {"agile_tui.ui.widgets.dialogs", "agile_tui.ui.widgets.help_screen", "agile_tui.domain.metrics",
             "agile_tui.domain.standup", "agile_tui.ui.screens.standup", "agile_tui.ui.screens.metrics",
             "agile_tui.ui.screens.retro", "plotext", "yaml"}
    assert not loaded & later, sorted(loaded & later)
