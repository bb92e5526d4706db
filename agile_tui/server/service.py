"""The hub as a whole: the rooms (loaded from the op log on first use), sharing a room, joining one, posting ops
and metric samples with their role checks and rate limits. HTTP lives in app.py; this is plain Python."""

from __future__ import annotations

import math
import secrets
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..domain import OpRejected, apply
from ..domain.ops import Op
from . import auth
from .hub import HUB_ACTOR, HubError, NewOp, Room, Settings, describe, member_by_name, new_id, now_iso
from .limits import RateLimits, Streams
from .oplog import OpLog
from .validate import BadState, load_state

DB_NAME = "hub.sqlite3"


class Hub:
    def __init__(self, data_dir: Path, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.data_dir = Path(data_dir)
        self.log = OpLog(self.data_dir / DB_NAME)
        self.rooms: dict[str, Room] = {}
        self.limits = RateLimits(self.settings.rate, max(self.settings.burst, 100))
        self.streams = Streams(self.settings.streams)
        self.closing = False

    def close(self) -> None:
        """Stop: open streams end at their next wake-up (woken now)."""
        self.closing = True
        for room in self.rooms.values():
            room.wake()

    def room(self, room_id: str) -> Room:
        room = self.rooms.get(room_id)
        if room is None:
            room = Room.load(self.log, self.settings, room_id)
            if room is None:
                raise HubError(404, "not_found", f"There is no room {room_id!r} on this hub.")
            self.rooms[room_id] = room
        return room

    def rate(self, who: auth.Participant, n: int = 1) -> None:
        wait = self.limits.take(who.id, n)
        if wait:
            raise HubError(429, "too_many", f"Too many changes at once; try again in {math.ceil(wait)} s.",
                           retry_after=max(1, math.ceil(wait)) if math.isfinite(wait) else 60)

    # ------------------------------------------------------------------ sharing and joining

    def create_room(self, data: Mapping[str, Any], name: str, member_id: str | None) -> dict:
        try:
            state = load_state(data)
        except BadState as error:
            raise HubError(422, "invalid_room", str(error)) from None
        name = name.strip()
        invite = auth.new_secret()
        room = Room(secrets.token_urlsafe(9), self.log, self.settings, state, 0, 0, auth.digest(invite))
        ops = []
        if member_id:
            if member_id not in state.members:
                raise HubError(422, "invalid", f"The room has no member {member_id!r}.")
        elif (member := member_by_name(state, name)) is not None:
            member_id = member.id
        else:
            member_id = new_id("m-")
            ops.append(self._member_add(room, member_id, name))
        fac, fac_token, record_fac = room.new_participant(name, member_id, auth.FACILITATOR)
        metrics, metrics_token, record_metrics = room.new_participant("metrics", None, auth.METRICS)

        def record() -> None:
            self.log.add_room(room.id, now_iso(), room.invite_hash)
            self.log.put_snapshot(room.id, 0, state.to_dict())
            record_fac()
            record_metrics()

        room.commit(HUB_ACTOR, HUB_ACTOR, ops, extra=record)
        room.admit(fac, fac_token)
        room.admit(metrics, metrics_token)
        self.rooms[room.id] = room
        return {"room": room.id, "facilitator_token": fac_token, "invite_token": invite,
                "metrics_token": metrics_token, "participant_id": fac.id, "member_id": member_id, "seq": room.head}

    def join(self, room_id: str, invite: str, name: str) -> dict:
        room = self.room(room_id)
        if not auth.same(invite, room.invite_hash):
            raise HubError(401, "unauthorized", "That invite is not valid for this room.")
        name = name.strip()
        member = member_by_name(room.state, name)
        if member is not None and room.claimed(member.id):
            raise HubError(409, "taken", f"Someone has already joined as {member.name}. Join under another name, "
                                         "or use the token you were given then.")
        who, token = self._new_person(room, name, member)
        return {**describe(who), "token": token, "seq": room.head}

    def _new_person(self, room: Room, name: str, member) -> tuple[auth.Participant, str]:
        """A new participant: that member of the team, or a new member of that name (one transaction)."""
        ops = []
        if member is not None:
            member_id = member.id
        else:
            member_id = new_id("m-")
            ops.append(self._member_add(room, member_id, name))
        who, token, record = room.new_participant(name, member_id, auth.PARTICIPANT)
        room.commit(HUB_ACTOR, HUB_ACTOR, ops, extra=record)
        room.admit(who, token)
        return who, token

    def admit_person(self, room_id: str, name: str, *, facilitator: bool = False,
                     token: str | None = None) -> tuple[auth.Participant, str]:
        """Someone the hub itself vouches for (an SSH key in its keys file), without an invite: the participant
        of that name in the room (``Room.person_named``), or a new one (and a new member, as ``join`` does).
        ``token`` is one the caller minted for them before: kept while it is still theirs, else their token is
        rotated (an earlier one stops working). ``facilitator`` hands them the role. (who, their token)."""
        room = self.room(room_id)
        name = name.strip()
        who = room.person_named(name)
        if who is None:
            who, token = self._new_person(room, name, member_by_name(room.state, name))
        elif who.facilitator and not facilitator:  # a key not marked facilitator never takes that seat
            raise HubError(403, "forbidden", f"{who.name} is this room's facilitator; a key not marked facilitator "
                                             "in the keys file cannot join as them.")
        else:
            try:
                valid = token is not None and room.authenticate(token).id == who.id
            except HubError:
                valid = False
            if not valid:
                token = room.rotate_token(who)
        if facilitator:
            who = room.make_facilitator(who)
        return who, token

    @staticmethod
    def _member_add(room: Room, member_id: str, name: str) -> NewOp:
        new = NewOp(uuid.uuid4().hex, "member.add", {"id": member_id, "name": name}, now_iso())
        try:  # checked before anything is written
            apply(room.state, Op(type=new.type, args=new.args, actor=HUB_ACTOR, op_id=new.op_id, ts=new.ts))
        except OpRejected as refusal:
            raise HubError(422, refusal.code, refusal.reason) from None
        return new

    # ------------------------------------------------------------------ ops and samples

    def submit(self, room: Room, who: auth.Participant, client_id: str, ops: list[NewOp]) -> list[dict]:
        self.rate(who, len(ops))
        key = f"{who.id}/{client_id}"
        refused = []
        for new in ops:
            if self.log.seq_of(room.id, key, new.op_id) is not None:
                continue  # a retry: it returns its seq, whatever the role is now
            reason = auth.forbidden(who, new.type, new.args, room.state)
            if reason:
                refused.append({"op_id": new.op_id, "reason": reason})
        if refused:
            raise HubError(403, "forbidden", refused[0]["reason"], ops=refused)
        return room.commit(who.actor, key, ops)

    def samples(self, room: Room, who: auth.Participant, samples: list[Mapping[str, Any]]) -> list[dict]:
        """Metric samples from outside: ``metric`` and ``member`` by id or name; a sample's ``id`` makes a
        retry safe (the same id returns the seq it got the first time)."""
        self.rate(who, len(samples))
        state = room.state
        ops, errors, ids = [], {}, []
        for i, sample in enumerate(samples):
            sample_id = sample.get("id") or new_id("s-")
            ids.append(sample_id)
            metric = _find(state.metrics, sample["metric"])
            member = _find(state.members, sample.get("member")) if sample.get("member") else None
            args = {"id": sample_id, "metric_id": metric.id if metric else "", "value": sample["value"]}
            if sample.get("date"):
                args["date"] = sample["date"]
            if member is not None:
                args["member_id"] = member.id
            op_id = f"sample:{sample_id}" if sample.get("id") else uuid.uuid4().hex
            ops.append(NewOp(op_id, "metric.sample", args, now_iso()))
            if metric is None:
                errors[i] = {"code": "not_found", "reason": f"There is no metric {sample['metric']!r}."}
            elif sample.get("member") and member is None:
                errors[i] = {"code": "not_found", "reason": f"There is no member {sample['member']!r}."}
        results = room.commit(who.actor, f"{who.id}/metrics", ops, errors=errors)
        return [{"id": sample_id, **{k: v for k, v in result.items() if k != "op_id"}}
                for sample_id, result in zip(ids, results, strict=True)]


def _find(table: Mapping, key: str | None):
    """An entity by id, else by name (case-insensitive)."""
    if not key:
        return None
    if key in table:
        return table[key]
    folded = key.strip().casefold()
    return next((e for e in table.values() if getattr(e, "name", "").casefold() == folded), None)
