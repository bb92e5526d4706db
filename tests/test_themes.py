"""Themes are data files: shipped ones, user ones, bad ones reported; the choice is remembered."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from agile_tui.config import Memory
from agile_tui.ui.themes import load_themes, shipped_folder

from .conftest import make_test_app

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_themes_load():
    themes, problems = load_themes([shipped_folder()])
    names = {t.name for t in themes}
    assert {"agile-dark", "agile-light", "agile-high-contrast"} <= names
    assert not problems
    assert any(not t.dark for t in themes)


async def test_bad_theme_file_is_reported_and_the_app_falls_back(session):
    user_themes = Path(os.environ["AGILE_TUI_CONFIG_DIR"]) / "themes"
    user_themes.mkdir(parents=True)
    (user_themes / "broken.yaml").write_text("name: broken\nprimary: not-a-colour\n", encoding="utf-8")
    (user_themes / "garbage.toml").write_text("this is = = not toml", encoding="utf-8")
    (user_themes / "mine.yaml").write_text("name: mine\nprimary: '#ff8800'\ndark: false\n", encoding="utf-8")
    app = make_test_app(session, theme="broken")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        messages = [str(n.message) for n in app._notifications]
        assert any("broken.yaml" in m and "not a colour" in m for m in messages), messages
        assert any("garbage.toml" in m for m in messages), messages
        assert app.theme == "agile-dark"  # the fallback
        assert "mine" in app.available_themes


async def test_theme_choice_is_remembered(session):
    app = make_test_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.set_theme("agile-light")
        await pilot.pause()
    memory = Memory.load(Path(os.environ["AGILE_TUI_DATA_DIR"]))
    assert memory.theme == "agile-light"
    again = make_test_app(session)
    async with again.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert again.theme == "agile-light"


async def test_theme_switch_from_the_command_palette(session):
    app = make_test_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        for ch in "Theme: agile-high":
            await pilot.press(ch if ch != " " else "space")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "agile-high-contrast"


async def test_no_color_is_honoured(session, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_test_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.no_color
        # Status never depends on colour alone: the words and marks are there.
        assert "saved" in str(app.screen.query_one("RoomBar").render())


def test_every_package_is_listed_for_the_wheel():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {".".join(p.relative_to(ROOT).parts[:-1]) for p in (ROOT / "agile_tui").rglob("__init__.py")}
    assert found <= listed, found - listed


@pytest.mark.serial
def test_wheel_ships_themes_and_stylesheet(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("agile_tui-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "agile_tui/themes/agile-dark.toml" in names
    assert "agile_tui/themes/agile-high-contrast.toml" in names
    assert "agile_tui/ui/app.tcss" in names
