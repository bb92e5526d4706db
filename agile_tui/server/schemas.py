"""Request and response bodies of the hub's HTTP API (they make its OpenAPI schema). Lengths follow the domain's
rules; the domain checks every op's args again when it applies them."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..domain.rules import MAX_NAME
from .limits import MAX_ARGS, MAX_BATCH

Name = Field(min_length=1, max_length=MAX_NAME, pattern=r"\S", description="a display name")
Id = Field(min_length=1, max_length=64)


def _iso_ts(value: str) -> str:
    if value:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("ts must be an ISO 8601 date and time") from None
    return value


class Problem(BaseModel):
    """An error: a stable ``code`` and a ``reason`` for people."""

    code: str
    reason: str
    ops: list[dict[str, str]] | None = Field(None, description="403: each refused op_id with its reason")
    retry_after: int | None = Field(None, description="429: seconds to wait (also the Retry-After header)")
    detail: list[dict[str, Any]] | None = Field(None, description="422: what did not validate, where")


class CreateRoom(BaseModel):
    state: dict[str, Any] = Field(description="the whole room being shared (State.to_dict(); undo history ignored)")
    name: str = Name
    member_id: str | None = Field(None, max_length=64, description="the sharer's member id in the room, if any")


class RoomCreated(BaseModel):
    room: str
    facilitator_token: str
    invite_token: str
    metrics_token: str = Field(description="for scripts: may only POST metric samples")
    participant_id: str
    member_id: str
    seq: int


class Join(BaseModel):
    invite: str = Field(min_length=1, max_length=200)
    name: str = Name


class Joined(BaseModel):
    participant_id: str
    member_id: str | None
    name: str
    role: Literal["facilitator", "participant", "metrics"]
    token: str
    seq: int


class ParticipantInfo(BaseModel):
    participant_id: str
    member_id: str | None
    name: str
    role: str
    here: bool | None = None
    ready: bool | None = None
    status: str | None = None


class Snapshot(BaseModel):
    seq: int = Field(description="the last op folded into this state")
    state: dict[str, Any] = Field(description="the room as this participant may see it")
    hidden: dict[str, dict[str, Any]] = Field(description="per retro: counts of what is held back")
    server_time: str
    me: ParticipantInfo
    participants: list[ParticipantInfo]


class OpIn(BaseModel):
    model_config = ConfigDict(extra="ignore")  # an `actor` sent along is ignored: it comes from the token

    op_id: str = Id
    type: str = Field(min_length=1, max_length=40)
    args: dict[str, Any] = Field(default_factory=dict)
    ts: str = Field("", max_length=40, description="the author's ISO 8601 time; the hub's when empty")

    _ts = field_validator("ts")(_iso_ts)

    @model_validator(mode="after")
    def _small_args(self) -> OpIn:
        try:
            size = len(json.dumps(self.args, ensure_ascii=False, allow_nan=False))
        except ValueError:
            raise ValueError("args must be plain JSON (no NaN or infinity)") from None
        if size > MAX_ARGS:
            raise ValueError(f"args are {size} bytes; the limit is {MAX_ARGS}")
        return self


class OpsIn(BaseModel):
    client_id: str = Field("", max_length=64, description="the sending app's id; retries carry the same")
    ops: list[OpIn] = Field(min_length=1, max_length=MAX_BATCH)


class OpError(BaseModel):
    code: str
    reason: str
    waiting: list[str] | None = None


class OpResult(BaseModel):
    op_id: str
    seq: int | None = Field(None, description="its place in the log (also for a duplicate)")
    duplicate: bool | None = Field(None, description="true: the hub had it already; nothing was applied again")
    error: OpError | None = Field(None, description="refused; the state is unchanged and later ops still apply")


class OpsOut(BaseModel):
    results: list[OpResult]
    head: int


class Events(BaseModel):
    events: list[dict[str, Any]] = Field(description="{seq, op} | {seq, patch, hidden} | {seq, refetch}")
    head: int
    more: bool = Field(description="true: more events are ready; ask again from the last seq")


class PresenceIn(BaseModel):
    ready: bool | None = None
    status: str | None = Field(None, max_length=40)


class PresenceOut(BaseModel):
    participants: list[ParticipantInfo]


class SampleIn(BaseModel):
    id: str | None = Field(None, max_length=64, description="makes a retry safe: the same id is applied once")
    metric: str = Field(min_length=1, max_length=64, description="a metric id or name")
    value: float = Field(allow_inf_nan=False)
    date: str | None = Field(None, max_length=10, description="YYYY-MM-DD; default: today")
    member: str | None = Field(None, max_length=64, description="a member id or name")

    @field_validator("date")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        if value:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError("date must be YYYY-MM-DD") from None
        return value


class SamplesIn(BaseModel):
    samples: list[SampleIn] = Field(min_length=1, max_length=MAX_BATCH)


class SampleResult(BaseModel):
    id: str
    seq: int | None = None
    duplicate: bool | None = None
    error: OpError | None = None


class SamplesOut(BaseModel):
    results: list[SampleResult]
    head: int


class HandOver(BaseModel):
    participant_id: str = Id


class Health(BaseModel):
    ok: bool
    version: str
    rooms_loaded: int
