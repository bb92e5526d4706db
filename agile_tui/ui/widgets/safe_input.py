"""An Input whose typed and pasted text keeps no terminal control codes: ESC arrives as ␛, so what the field
shows, saves and later shows again is exactly what is on screen, and nothing typed can drive the terminal."""

from __future__ import annotations

from textual.widgets import Input

from ..text import plain


class SafeInput(Input):
    def insert_text_at_cursor(self, text: str) -> None:
        super().insert_text_at_cursor(plain(text))

    def replace(self, text: str, start: int, end: int) -> None:
        super().replace(plain(text), start, end)

    def _watch_value(self, value: str) -> None:  # a value set by code (a prefill) is cleaned too
        clean = plain(value)
        if clean != value:
            self.value = clean
            return
        super()._watch_value(value)
