"""Where things live: the data folder, the config folder, and the small app memory (last room, theme)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

APP_NAME = "agile-tui"


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """``--data-dir``, else ``AGILE_TUI_DATA_DIR``, else the platform's user data folder."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get("AGILE_TUI_DATA_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """``AGILE_TUI_CONFIG_DIR``, else the platform's user config folder (user themes live in ``themes/``)."""
    env = os.environ.get("AGILE_TUI_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


@dataclass
class Memory:
    """What the app remembers between runs. Kept in ``<data>/app.json``; a broken file is ignored."""

    path: Path
    last_room: str | None = None
    theme: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path) -> Memory:
        path = folder / "app.json"
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ValueError
        except (OSError, ValueError):
            raw = {}
        return cls(path=path, last_room=raw.get("last_room"), theme=raw.get("theme"),
                   extra={k: v for k, v in raw.items() if k not in ("last_room", "theme")})

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"last_room": self.last_room, "theme": self.theme, **self.extra}),
                       encoding="utf-8")
        os.replace(tmp, self.path)
