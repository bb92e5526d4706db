"""Themes as data files: every YAML or TOML file in the shipped ``themes/`` folder and in the user's
``<config>/themes`` folder becomes a Textual theme. A bad file is reported, never fatal."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "agile-dark"
COLOUR_KEYS = ("primary", "secondary", "accent", "warning", "error", "success", "foreground", "background",
               "surface", "panel", "boost")
STATUS_DEFAULTS = {"status-todo": "$text-muted", "status-doing": "$primary", "status-done": "$success",
                   "status-blocked": "$error"}


@dataclass(frozen=True)
class ThemeProblem:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"Theme file {self.path} was skipped: {self.reason}"


def shipped_folder() -> Path:
    """The top-level ``themes/`` folder: beside the package in a checkout, inside it in a wheel."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "themes", here / "themes"):
        if candidate.is_dir():
            return candidate
    return here.parent / "themes"


def parse_theme(path: Path) -> Theme:
    raw_text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        data = tomllib.loads(raw_text)
    else:
        import yaml  # only when someone has a YAML theme: keeps start-up lean

        try:
            data = yaml.safe_load(raw_text)
        except yaml.YAMLError as error:
            raise ValueError(str(error).splitlines()[0]) from None
    if not isinstance(data, dict):
        raise ValueError("expected a mapping of name, colours and dark")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a theme needs a name")
    if "primary" not in data:
        raise ValueError("a theme needs at least a primary colour")
    colours = {}
    for key in COLOUR_KEYS:
        if key in data:
            try:
                Color.parse(str(data[key]))
            except ColorParseError:
                raise ValueError(f"{key} {data[key]!r} is not a colour") from None
            colours[key] = str(data[key])
    variables = data.get("variables") or {}
    if not isinstance(variables, dict):
        raise ValueError("variables must be a mapping")
    return Theme(name=name.strip(), dark=bool(data.get("dark", True)), variables={str(k): str(v) for k, v in
                                                                               variables.items()}, **colours)


def load_themes(folders: list[Path]) -> tuple[list[Theme], list[ThemeProblem]]:
    themes: list[Theme] = []
    problems: list[ThemeProblem] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix not in (".yaml", ".yml", ".toml"):
                continue
            try:
                themes.append(parse_theme(path))
            except (OSError, ValueError, tomllib.TOMLDecodeError, TypeError) as error:
                problems.append(ThemeProblem(path, str(error).splitlines()[0] if str(error) else type(error).__name__))
    return themes, problems
