"""Fractional ranks: strings that sort lexicographically, so any item can go between two others
without renumbering the list (and concurrent moves never need to touch other items)."""

from __future__ import annotations

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(DIGITS)}
_BASE = len(DIGITS)


def is_rank(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= 1000
        and all(c in _INDEX for c in value)
        and not value.endswith("0")
    )


def between(a: str | None, b: str | None) -> str:
    """A rank strictly between ``a`` and ``b`` (``None`` means the start or the end of the list)."""
    lo = a or ""
    if b is not None and not lo < b:
        raise ValueError(f"rank {a!r} is not below {b!r}")
    return _midpoint(lo, b)


def _midpoint(a: str, b: str | None) -> str:
    if b is not None:
        n = 0
        while n < len(b) and (a[n] if n < len(a) else "0") == b[n]:
            n += 1
        if n > 0:
            return b[:n] + _midpoint(a[n:], b[n:])
    da = _INDEX[a[0]] if a else 0
    db = _INDEX[b[0]] if b is not None else _BASE
    if db - da > 1:
        return DIGITS[(da + db) // 2]
    if b is not None and len(b) > 1:
        return b[:1]
    return DIGITS[da] + _midpoint(a[1:], None)


def after(rank: str | None) -> str:
    """A short rank after ``rank`` (the end of a list); grows by one character per ~60 appends."""
    if not rank:
        return DIGITS[_BASE // 2]
    for i, c in enumerate(rank):
        if c != DIGITS[-1]:
            return rank[:i] + DIGITS[_INDEX[c] + 1]
    return rank + DIGITS[1]


def before(rank: str | None) -> str:
    """A short rank before ``rank`` (the top of a list)."""
    if not rank:
        return DIGITS[_BASE // 2]
    for i, c in enumerate(rank):
        if _INDEX[c] > 1:
            return rank[:i] + DIGITS[_INDEX[c] - 1]
    return between(None, rank)


def spread(count: int) -> list[str]:
    """``count`` increasing ranks of equal width, evenly spread (for seeding and imports)."""
    width = 1
    while _BASE**width <= count + 1:
        width += 1
    width += 1
    space = _BASE**width
    ranks = []
    for i in range(1, count + 1):
        n = i * space // (count + 1)
        digits = []
        for _ in range(width):
            n, d = divmod(n, _BASE)
            digits.append(DIGITS[d])
        ranks.append("".join(reversed(digits)).rstrip("0"))
    return ranks
