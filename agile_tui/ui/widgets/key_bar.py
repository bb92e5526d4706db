"""The footer of keys that matter on this screen, drawn as one line of text.

Textual's Footer mounts a widget per key and rebuilds them all whenever focus moves (~100 ms a time here);
this draws the same information as a single Text, redrawn only when it changes. Clicking a key presses it."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widget import Widget


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._text = Text()
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self.rebuild)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen) -> None:
        if self.is_attached and screen is self.screen:
            self.rebuild()

    def rebuild(self) -> None:
        variables = self.app.css_variables()
        key_style = f"bold {variables.get('footer-key-foreground', '')}".strip()
        text = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, str]] = []
        seen: set[str] = set()
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            start = text.cell_len
            text.append(f" {self.app.get_key_display(binding)} ", style=key_style)
            text.append(binding.description, style="" if active.enabled else "dim")
            text.append(" ")
            spans.append((start, text.cell_len, key))
        palette = Text(" ^p palette ", style="bold")
        room = self.size.width - palette.cell_len
        if self.size.width and text.cell_len > room:
            text.truncate(room)  # the palette key always stays visible; `?` lists every key
            spans = [(a, min(b, room), k) for a, b, k in spans if a < room]
        elif self.size.width:
            text.append(" " * (room - text.cell_len))
        text.append_text(palette)
        spans.append((text.cell_len - palette.cell_len, text.cell_len, "ctrl+p"))
        if text != self._text:
            self._text, self._spans = text, spans
            self.refresh()

    def on_resize(self) -> None:
        self.rebuild()

    def render(self) -> Text:
        return self._text

    async def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                await self.app.simulate_key(key)
                return
