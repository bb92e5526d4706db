"""Validation of op arguments against the rules of the rituals."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from .errors import InvalidArgs, RuleViolation

MAX_TITLE = 200
MAX_NAME = 60
MAX_TEXT = 2000
MAX_GOAL = 140
MIN_SPRINT_DAYS = 5
MAX_SPRINT_DAYS = 21

# A new sentence starts after . ! ? and a space, with a capital letter or a CJK character, or after a CJK
# full stop followed by more text. "e.g. acme", "Mr. Smith", "U.S. deals" and "Wait... then" stay one sentence.
_LATIN_BREAK = re.compile(r"(\S*?)[.!?]+\s+[A-Z\u4e00-\u9fff]")
_CJK_BREAK = re.compile(r"[。！？]\s*\S")
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "vs", "etc", "e.g", "i.e", "inc", "ltd", "no", "approx"}


def _several_sentences(text: str) -> bool:
    if _CJK_BREAK.search(text):
        return True
    for match in _LATIN_BREAK.finditer(text):
        word = match.group(1).casefold()
        if word in _ABBREVIATIONS or (len(word.replace(".", "")) <= 1 and word.replace(".", "").isalpha()):
            continue  # an abbreviation or an initial (U.S., J. Smith)
        return True
    return False


def goal_problem(goal: str) -> str | None:
    """Why ``goal`` is not a valid sprint goal, or None when it is."""
    text = goal.strip()
    if not text:
        return "The sprint goal is missing: write one sentence saying what the sprint achieves."
    if len(text) > MAX_GOAL:
        return f"The sprint goal is {len(text)} characters; keep it to one sentence of at most {MAX_GOAL}."
    if "\n" in text or "\r" in text:
        return "The sprint goal must be one sentence on one line."
    if _several_sentences(text):
        return "The sprint goal must be one sentence, not several."
    return None


def text(args: Mapping[str, Any], key: str, *, what: str, max_len: int = MAX_TEXT,
         required: bool = False, default: str = "") -> str:
    value = args.get(key, default)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidArgs(f"{what} must be text.")
    if required and not value.strip():
        raise InvalidArgs(f"{what} is required.")
    if len(value) > max_len:
        raise InvalidArgs(f"{what} is {len(value)} characters; the limit is {max_len}.")
    return value


def ident(args: Mapping[str, Any], key: str, *, what: str, required: bool = True) -> str | None:
    value = args.get(key)
    if value in (None, "") and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 64:
        raise InvalidArgs(f"{what} needs a valid id.")
    return value


def iso_date(args: Mapping[str, Any], key: str, *, what: str, default: str | None = None) -> str:
    value = args.get(key, default)
    if not isinstance(value, str):
        raise InvalidArgs(f"{what} must be a date like 2026-01-31.")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidArgs(f"{what} {value!r} is not a date like 2026-01-31.") from None


def choice(args: Mapping[str, Any], key: str, options: tuple[str, ...], *, what: str, default: str) -> str:
    value = args.get(key, default)
    if value not in options:
        raise InvalidArgs(f"{what} {value!r} is not one of: {', '.join(options)}.")
    return value


def number(args: Mapping[str, Any], key: str, *, what: str, default: float | None = None,
           minimum: float | None = None, maximum: float | None = None, integer: bool = False) -> Any:
    value = args.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidArgs(f"{what} must be a number.")
    if integer:
        if value != int(value):
            raise InvalidArgs(f"{what} must be a whole number.")
        value = int(value)
    if minimum is not None and value < minimum:
        raise RuleViolation(f"{what} must be at least {minimum:g}; got {value:g}.")
    if maximum is not None and value > maximum:
        raise RuleViolation(f"{what} must be at most {maximum:g}; got {value:g}.")
    return value


def sprint_days(args: Mapping[str, Any], default: int | None = None) -> int:
    value = args.get("days", default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgs("A sprint's length must be a whole number of days.")
    if not MIN_SPRINT_DAYS <= value <= MAX_SPRINT_DAYS:
        raise RuleViolation(
            f"A sprint lasts 1 to 3 weeks ({MIN_SPRINT_DAYS}–{MAX_SPRINT_DAYS} days); {value} days is not allowed."
        )
    return value


def round_time(args: Mapping[str, Any], clock_at: float, *, what: str, doing: str) -> float:
    """The ``at`` of a timed op (a ritual's round time, in seconds): required, never before the latest seen."""
    at = number(args, "at", what=what, minimum=0)
    if at is None:
        raise InvalidArgs(f"{doing} needs its round time (at).")
    return max(float(at), clock_at)  # never backwards
