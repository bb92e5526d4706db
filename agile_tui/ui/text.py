"""User text is text: never markup, never terminal control codes."""

from __future__ import annotations

from rich.text import Text

# C0 controls become their visible "control picture" (ESC shows as ␛), DEL as ␡, C1 controls as �.
_VISIBLE = {c: 0x2400 + c for c in range(32)}
_VISIBLE[0x7F] = 0x2421
_VISIBLE.update({c: 0xFFFD for c in range(0x80, 0xA0)})


def plain(value: object) -> str:
    return str(value).translate(_VISIBLE)


def safe(value: object, style: str = "", max_cells: int | None = None) -> Text:
    """A Text showing ``value`` exactly as typed (``[bold]`` stays literal, escapes stay visible)."""
    text = Text(plain(value), style=style, no_wrap=True, end="")
    if max_cells is not None and text.cell_len > max_cells:
        text.truncate(max_cells, overflow="ellipsis")
    return text


class KeyedText(Text):
    """A table cell that carries the key its row sorts by."""

    sort_key: tuple = ()

    @classmethod
    def keyed(cls, value: object, sort_key: tuple, style: str = "", max_cells: int | None = None) -> KeyedText:
        cell = cls(plain(value), style=style, no_wrap=True, end="")
        if max_cells is not None and cell.cell_len > max_cells:
            cell.truncate(max_cells, overflow="ellipsis")
        cell.sort_key = sort_key
        return cell
