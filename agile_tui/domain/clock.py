"""Time is injected: the app uses SystemClock, tests use FakeClock."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Wall-clock time, timezone-aware (UTC)."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary start; never goes back."""

    @property
    def source(self) -> str:
        """Names the monotonic clock (a boot id): two readings compare only when their sources match.
        "" when unknown."""


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return "boot:" + f.read().strip()
    except OSError:
        return ""


def _boottime() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME)


if not hasattr(time, "CLOCK_BOOTTIME"):  # pragma: no cover - not Linux
    _boottime = time.monotonic  # noqa: F811


class SystemClock:
    source = _boot_id()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """Seconds since boot, including time asleep where the system can say (CLOCK_BOOTTIME on Linux): a
        laptop that sleeps mid-standup comes back to the real time gone, not a clock that stood still."""
        return _boottime()


class FakeClock:
    """A clock that moves only when told to."""

    source = "fake"

    def __init__(self, start: datetime | str = "2026-11-16T09:00:00+00:00", mono: float = 1000.0) -> None:
        if isinstance(start, str):
            start = datetime.fromisoformat(start)
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self._now = start
        self._mono = mono

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float = 0.0, days: int = 0) -> None:
        self._now += timedelta(seconds=seconds, days=days)
        self._mono += seconds + days * 86400

    def set_wall(self, when: datetime) -> None:
        """Change the wall clock only (as a user or NTP would); monotonic time is not affected."""
        self._now = when


def today(clock: Clock) -> date:
    return clock.now().date()


def iso_date(value: date) -> str:
    return value.isoformat()
