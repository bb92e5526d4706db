"""Ops: every change to a room is one of a closed set of op types."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock

# The closed set. The reducer has a handler for each; anything else is refused.
OP_TYPES = (
    "room.setup",
    "member.add",
    "member.update",
    "sprint.create",
    "sprint.update",
    "sprint.start",
    "sprint.close",
    "item.add",
    "item.update",
    "item.delete",
    "blocker.open",
    "blocker.update",
    "blocker.resolve",
    "standup.record",
    "standup.start",
    "standup.turn",
    "standup.timer",
    "standup.end",
    "standup.note",
    "standup.park",
    "metric.define",
    "metric.sample",
    "metric.remove",
    "sprint.focus",
    "retro.create",
    "retro.settings",
    "retro.phase",
    "retro.timer",
    "retro.ready",
    "retro.card",
    "retro.card_update",
    "retro.group",
    "retro.ungroup",
    "retro.topic",
    "retro.vote",
    "retro.reveal",
    "retro.discuss",
    "retro.note",
    "retro.action",
    "retro.action_update",
    "retro.review",
    "retro.close",
    "undo",
    "redo",
)


@dataclass(frozen=True)
class Op:
    type: str
    args: Mapping[str, Any] = field(default_factory=dict)
    actor: str = "local"
    op_id: str = ""
    ts: str = ""  # ISO 8601 UTC, from the author's injected clock

    @property
    def date(self) -> str:
        return self.ts[:10]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "args": dict(self.args), "actor": self.actor, "op_id": self.op_id, "ts": self.ts}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Op:
        return cls(
            type=str(data["type"]),
            args=dict(data.get("args") or {}),
            actor=str(data.get("actor", "local")),
            op_id=str(data.get("op_id", "")),
            ts=str(data.get("ts", "")),
        )


def new_id(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex[:12]


def make_op(type: str, clock: Clock, actor: str = "local", **args: Any) -> Op:
    return Op(type=type, args=args, actor=actor, op_id=uuid.uuid4().hex, ts=clock.now().isoformat())
