"""What a metric's sample value may be, per unit, and how typed or imported text becomes one.

- Every value is a finite number.
- A percentage (unit ``%``, ``percent`` or ``pct``) lies in 0–100.
- A duration (unit ``s``, ``min``, ``h``, ``days``, ``weeks`` and their spellings) is not negative. Text may name
  another duration unit, which is converted (``90s`` for a ``min`` metric is 1.5), or use ``h:mm`` (``h``
  metrics) or ``m:ss`` (``min`` metrics).
- Other units (``€``, ``calls``, none) take any number.

Text may carry the metric's unit (``70%``, ``7 min``, ``€ 18000``), grouped thousands (``16,500``) or a decimal
comma (``12,5``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from .model import MetricDef, Sample

PERCENT_UNITS = frozenset({"%", "percent", "pct"})
# Seconds per unit, for every spelling of a duration unit.
DURATION_SECONDS: dict[str, float] = {}
for _seconds, _names in ((1, "s sec secs second seconds"), (60, "min mins minute minutes"),
                         (3600, "h hr hrs hour hours"), (86400, "d day days"), (604800, "w wk wks week weeks")):
    DURATION_SECONDS.update(dict.fromkeys(_names.split(), float(_seconds)))
MAX_PERCENT_TARGET = 100.0

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_WITH_SUFFIX = re.compile(r"([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+))\s*([^\W\d_]+)")
_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?")
_CLOCK = re.compile(r"(\d+):([0-5]\d)")


def is_percent(unit: str) -> bool:
    return unit.strip().casefold() in PERCENT_UNITS


def duration_seconds(unit: str) -> float | None:
    """Seconds in one ``unit`` when it is a duration unit, else None."""
    return DURATION_SECONDS.get(unit.strip().casefold())


def value_problem(metric: MetricDef, value: object) -> str | None:
    """Why ``value`` cannot be a sample of ``metric`` (a sentence without the final stop), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return f"a value of {metric.name} must be a number"
    if is_percent(metric.unit) and not 0 <= value <= 100:
        return f"{metric.name} is a percentage; {value:g} is outside 0–100"
    if duration_seconds(metric.unit) is not None and value < 0:
        return f"{metric.name} is a duration; {value:g} {metric.unit.strip()} is negative"
    return None


def definition_problem(metric: MetricDef, samples: Iterable[Sample] = ()) -> str | None:
    """Why a (new or edited) definition is not acceptable, given the samples it already has, or None."""
    if is_percent(metric.unit) and metric.target > MAX_PERCENT_TARGET:
        return f"{metric.name} is a percentage; a target of {metric.target:g} is above 100"
    for sample in samples:
        if problem := value_problem(metric, sample.value):
            return f"{problem} (a sample of {sample.date}); the unit {metric.unit!r} does not fit the data"
    return None


def _number(text: str) -> float:
    if _THOUSANDS.fullmatch(text):  # 16,500 and 1,234.5: grouped thousands
        text = text.replace(",", "")
    elif text.count(",") == 1 and "." not in text:  # 12,5: a decimal comma
        text = text.replace(",", ".")
    if not _NUMBER.fullmatch(text):
        raise ValueError
    return float(text)


def _strip_unit(text: str, unit: str) -> str:
    folded, unit = text.casefold(), unit.strip().casefold()
    if unit and folded.endswith(unit):
        return text[: len(text) - len(unit)].strip()
    if unit and folded.startswith(unit):
        return text[len(unit):].strip()
    if unit in PERCENT_UNITS and text.endswith("%"):
        return text[:-1].strip()
    return text


def parse_value(text: str, metric: MetricDef) -> float:
    """The value ``text`` stands for, as a sample of ``metric``; ValueError says why it is not one."""
    raw = text.strip()
    if not raw:
        raise ValueError("the value is empty")
    per_unit = duration_seconds(metric.unit)
    try:
        value = None
        if per_unit is not None:
            if (clock := _CLOCK.fullmatch(raw)) and per_unit in (60.0, 3600.0):
                value = int(clock.group(1)) + int(clock.group(2)) / 60
            elif (suffixed := _WITH_SUFFIX.fullmatch(raw)) and (
                    other := duration_seconds(suffixed.group(2))) is not None:
                value = _number(suffixed.group(1)) * other / per_unit
        if value is None:
            value = _number(_strip_unit(raw, metric.unit))
    except ValueError:
        unit = f" (in {metric.unit.strip()})" if metric.unit.strip() else ""
        raise ValueError(f"{raw!r} is not a number{unit}") from None
    if problem := value_problem(metric, value):
        raise ValueError(problem)
    return value


def format_value(value: float | None, unit: str = "") -> str:
    """A value as a board shows it: ``70%``, ``5.2``, ``7 min``, ``€16,500``; ``–`` when there is none."""
    if value is None:
        return "–"
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.2f}".rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    unit = unit.strip()
    if not unit:
        return text
    if unit == "%":
        return text + "%"
    if unit in ("€", "$", "£", "¥"):
        return unit + text
    return f"{text} {unit}"
