"""What a shared room's sync tells the app: the connection state (for the header and the presence panel) and
``SyncNote``s from the sync threads; and the back-off between tries."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..domain import Op

BACKOFF_FIRST = 0.3
BACKOFF_MAX = 8.0
OFFLINE_AFTER = 6.0  # seconds of failing to reconnect before "reconnecting" becomes "offline"
SAVE_EVERY = 1.0  # the confirmed copy is written at most this often while events flow


@dataclass(frozen=True)
class Connection:
    """What the header shows: ``live``, ``connecting``, ``reconnecting``, ``offline`` or ``stopped`` (the hub
    refused us for good: a wrong token, a room it does not have), with the changes not yet on the hub."""

    status: str
    waiting: int = 0
    detail: str = ""

    def label(self) -> str:
        waiting = f" · {self.waiting} waiting" if self.waiting else ""
        if self.status == "live":
            return f"● live{waiting}"
        if self.status == "offline":
            return f"○ offline{waiting}"
        if self.status == "stopped":
            return f"✕ not connected{waiting}"
        return f"◌ {self.status}…{waiting}"


@dataclass(frozen=True)
class SyncNote:
    """What the sync threads tell the app: ``state`` (the room changed), ``connection``, ``people`` (presence or
    role), ``refused`` (one of our ops; ``text`` says why), ``message`` (for the user)."""

    kind: str
    text: str = ""
    op: Op | None = None
    severity: str = "information"


def backoff(attempt: int) -> float:
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** min(attempt, 8)) * random.uniform(0.7, 1.3)
