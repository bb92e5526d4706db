"""Per-room broadcast: every op of the log reaches every subscriber once, in seq order, as that subscriber may
see it (domain/privacy.py), over SSE (``id:`` = seq, resume with ``Last-Event-ID``, a ping comment every 15 s)
or a long-poll. Presence and role changes are ephemeral events without an id.

An event's data is one JSON object, always with ``seq``, and one of:
- ``op``: ``{op_id, type, args, actor, ts}``: apply it with the reducer (with ``hidden``, for an op in a retro:
  the new counts of what is held back there);
- ``patch`` (with ``hidden``): the op is not for this viewer's eyes; replace these entities (None: remove) and
  take ``hidden`` as the new counts of what is held back in the retros it names (an empty patch: nothing
  visible changed, but the seq moves on);
- ``refetch``: reload the snapshot (undo and redo, or a resume from a seq the hub no longer has).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field

from ..domain.model import State
from ..domain.ops import Op
from ..domain.privacy import SENSITIVE, redact, touched
from .oplog import dumps

PING_S = 15.0


@dataclass
class Entry:
    """One op of the log in memory, with what each viewer is sent for it (computed once per kind of viewer)."""

    seq: int
    op: Op
    before: State | None = None  # kept only while viewers need their own rendering (a private op)
    after: State | None = None
    changes: dict | None = None
    shared: str | None = None  # the event when it is the same for everyone
    per_viewer: dict[tuple[str, bool], str] = field(default_factory=dict)

    @classmethod
    def of(cls, seq: int, op: Op, before: State, after: State) -> Entry:
        entry = cls(seq, op)
        if op.type in ("undo", "redo"):
            entry.shared = dumps({"seq": seq, "refetch": True})
        elif after is before:  # accepted, changed nothing: its args (a draft, say) go nowhere
            entry.shared = dumps({"seq": seq, "patch": {}, "hidden": {}})
        elif all(getattr(before, coll) is getattr(after, coll) for coll in SENSITIVE):  # O(1): no entity scan
            entry.shared = dumps({"seq": seq, "op": op.to_dict()})
        else:
            entry.before, entry.after = before, after
            entry.changes = touched(before, after)
        return entry

    def render(self, viewer: str, facilitator: bool) -> str:
        if self.shared is not None:
            return self.shared
        key = (viewer, facilitator)
        text = self.per_viewer.get(key)
        if text is None:
            got = redact(self.op, self.before, self.after, viewer, facilitator=facilitator, changes=self.changes)
            if got.refetch:
                data = {"seq": self.seq, "refetch": True}
            elif got.op is not None:
                data = {"seq": self.seq, "op": got.op.to_dict()}
                if got.hidden:
                    data["hidden"] = got.hidden
            else:
                data = {"seq": self.seq, "patch": got.patch, "hidden": got.hidden}
            text = self.per_viewer[key] = dumps(data)
        return text


def refetch_event(seq: int) -> str:
    return dumps({"seq": seq, "refetch": True})


class Ring:
    """The newest entries of a room, for catching subscribers up without the database."""

    def __init__(self, size: int) -> None:
        self.entries: deque[Entry] = deque(maxlen=size)

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)

    def after(self, seq: int, limit: int) -> list[Entry] | None:
        """Entries with seq > ``seq`` (at most ``limit``), or None when the ring does not reach back that far."""
        if not self.entries:
            return None
        first = self.entries[0].seq
        if seq < first - 1:
            return None
        start = seq - first + 1
        return [self.entries[i] for i in range(max(0, start), min(len(self.entries), start + limit))]


@dataclass(eq=False)
class Subscriber:
    """One open SSE stream or long-poll; ``wake`` is set when there is something new."""

    participant_id: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    extra: deque = field(default_factory=lambda: deque(maxlen=64))  # (event name, data) not in the log

    def notify(self, name: str | None = None, data: str | None = None) -> None:
        if name is not None:
            self.extra.append((name, data))
        self.wake.set()


def sse(data: str, seq: int | None = None, name: str | None = None) -> str:
    lines = []
    if name:
        lines.append(f"event: {name}")
    if seq is not None:
        lines.append(f"id: {seq}")
    lines.extend(f"data: {line}" for line in data.split("\n"))
    return "\n".join(lines) + "\n\n"


def ping() -> str:
    return ": ping\n\n"


def parse_last_event_id(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        seq = int(value.strip())
    except ValueError:
        return None
    return seq if seq >= 0 else None


def events_body(events: list[str], head: int, more: bool) -> str:
    return '{"events":[' + ",".join(events) + f'],"head":{head},"more":{json.dumps(more)}' + "}"
