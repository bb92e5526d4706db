"""The hub's rooms in memory: each room's state (folded from its newest snapshot and the log after it), its
participants, subscribers and presence. Every change goes through ``Room.commit``: the ops are applied with the
domain's reducer, appended to the log in one SQLite transaction, and only once committed do the state, the
ring of recent entries and the subscribers see them. Everything runs on the server's event loop thread, so a
batch is applied whole before anything else reads the room."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..domain import OpRejected, State, apply
from ..domain.errors import NotReady
from ..domain.model import Member
from ..domain.ops import Op
from ..domain.privacy import hidden_summary, view_for
from . import auth
from .events import Entry, Ring, Subscriber, refetch_event
from .oplog import OpLog, ParticipantRow, Row, dumps

log = logging.getLogger("agile_tui.hub")
HUB_ACTOR = "hub"  # the actor of the ops the hub makes itself (a member for someone who joins)


class HubError(Exception):
    """An error with an HTTP status and a stable code."""

    def __init__(self, status: int, code: str, reason: str, **extra: Any) -> None:
        super().__init__(reason)
        self.status, self.code, self.reason, self.extra = status, code, reason, extra

    def body(self) -> dict:
        return {"code": self.code, "reason": self.reason, **self.extra}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(6)


@dataclass
class Settings:
    ring: int = 4096  # recent entries kept in memory per room (subscribers behind it are replayed from the log)
    snapshot_every: int = 500  # ops between snapshots
    keep_ops: int = 5000  # ops kept in the log behind the newest snapshot before compaction
    rate: float = 50.0  # ops per second per participant
    burst: float = 300.0
    streams: int = 4  # SSE streams and long-polls per participant
    presence_s: float = 45.0  # a participant with no stream is "here" this long after their last presence post


@dataclass
class Presence:
    ready: bool = False
    status: str = ""
    posted: float = 0.0  # monotonic time of the last presence post


@dataclass(frozen=True)
class NewOp:
    op_id: str
    type: str
    args: dict
    ts: str


@dataclass
class Room:
    id: str
    log: OpLog
    settings: Settings
    state: State
    head: int
    compacted: int
    invite_hash: str
    participants: dict[str, tuple[auth.Participant, str]] = field(default_factory=dict)  # id -> (who, token hash)
    subscribers: set[Subscriber] = field(default_factory=set)
    presence: dict[str, Presence] = field(default_factory=dict)
    snapshot_seq: int = 0

    def __post_init__(self) -> None:
        self.ring = Ring(self.settings.ring)

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, log_: OpLog, settings: Settings, room_id: str) -> Room | None:
        found = log_.room(room_id)
        if found is None:
            return None
        invite_hash, compacted = found
        snap = log_.latest_snapshot(room_id, None)
        if snap is None:  # pragma: no cover - a room is created with its snapshot
            raise RuntimeError(f"room {room_id} has no snapshot")
        snap_seq, data = snap
        room = cls(room_id, log_, settings, State.from_dict(data), snap_seq, compacted, invite_hash,
                   snapshot_seq=snap_seq)
        for row in log_.participants(room_id):
            who = auth.Participant(room_id, row.id, row.member_id, row.name, row.role)
            room.participants[row.id] = (who, row.token_hash)
        while True:
            rows = list(log_.rows(room_id, room.head, limit=2000))
            if not rows:
                break
            for row in rows:
                op = op_of(row)
                after = apply(room.state, op)
                room.ring.add(Entry.of(row.seq, op, room.state, after))
                room.state, room.head = after, row.seq
        return room

    # ------------------------------------------------------------------ participants

    def authenticate(self, token: str | None) -> auth.Participant:
        parts = auth.split_token(token) if token else None
        found = self.participants.get(parts[0]) if parts else None
        if found is None or not auth.same(parts[1], found[1]):
            raise HubError(401, "unauthorized", "A valid participant token is needed (Authorization: Bearer …).")
        return found[0]

    def people(self) -> list[auth.Participant]:
        return [who for who, _ in self.participants.values() if who.role != auth.METRICS]

    def claimed(self, member_id: str) -> bool:
        return any(p.member_id == member_id for p in self.people())

    # ------------------------------------------------------------------ committing ops

    def commit(self, actor: str, client_key: str, ops: list[NewOp], extra: Callable[[], None] | None = None,
               errors: dict[int, dict] | None = None) -> list[dict]:
        """Apply ``ops`` in order as ``actor``: each is a duplicate (its original seq), an error (the reducer's
        reason; it does not stop the ones after it), or a new seq. One transaction for all; ``extra`` runs in
        it. Nothing is seen by anyone before the commit."""
        results: list[dict] = [{}] * len(ops)
        entries: list[Entry] = []
        state, head = self.state, self.head
        in_batch: dict[str, int] = {}
        self.log.begin()
        try:
            for i, new in enumerate(ops):
                if errors and i in errors:
                    results[i] = {"op_id": new.op_id, "error": errors[i]}
                    continue
                seq = in_batch.get(new.op_id) or self.log.seq_of(self.id, client_key, new.op_id)
                if seq is not None:
                    results[i] = {"op_id": new.op_id, "seq": seq, "duplicate": True}
                    continue
                op = Op(type=new.type, args=new.args, actor=actor, op_id=new.op_id, ts=new.ts or now_iso())
                try:
                    after = apply(state, op)
                except OpRejected as refusal:
                    error = {"code": refusal.code, "reason": refusal.reason}
                    if isinstance(refusal, NotReady):
                        error["waiting"] = list(refusal.waiting)
                    results[i] = {"op_id": new.op_id, "error": error}
                    continue
                except Exception:  # a reducer bug met odd args: refuse this op, keep the hub up
                    log.exception("op %s %s could not be applied", new.type, new.op_id)
                    results[i] = {"op_id": new.op_id, "error": {"code": "invalid",
                                                                 "reason": "The change could not be applied."}}
                    continue
                head += 1
                self.log.append(self.id, Row(head, client_key, new.op_id, actor, op.type, dict(op.args), op.ts,
                                             now_iso()))
                entries.append(Entry.of(head, op, state, after))
                in_batch[new.op_id] = head
                state = after
                results[i] = {"op_id": new.op_id, "seq": head, "duplicate": False}
            if extra is not None:
                extra()
            self.log.commit()
        except BaseException:
            self.log.rollback()
            raise
        self.state, self.head = state, head
        for entry in entries:
            self.ring.add(entry)
        if entries:
            self.wake()
            try:
                self.maintain()
            except Exception:  # the ops are committed; a snapshot can wait for the next batch
                log.exception("room %s: the snapshot or compaction failed", self.id)
        return results

    def maintain(self) -> None:
        """A snapshot every ``snapshot_every`` ops; compaction of what lies ``keep_ops`` behind."""
        s = self.settings
        if self.head - self.snapshot_seq < s.snapshot_every:
            return
        self.log.begin()
        try:
            self.log.put_snapshot(self.id, self.head, self.state.to_dict())
            self.log.commit()
        except BaseException:
            self.log.rollback()
            raise
        self.snapshot_seq = self.head
        snap = self.log.latest_snapshot(self.id, self.head - s.keep_ops)
        if snap is not None and snap[0] > self.compacted:
            self.log.compact(self.id, snap[0])
            self.compacted = snap[0]

    # ------------------------------------------------------------------ reading

    def events_after(self, seq: int, viewer: auth.Participant, limit: int = 500) -> list[tuple[int, str]]:
        """(seq, event JSON) after ``seq``, as ``viewer`` may see them. A seq the hub no longer has (compacted),
        or never had (ahead of the log), gives one refetch event at the head."""
        if seq < self.compacted or seq > self.head:
            return [(self.head, refetch_event(self.head))]
        if seq == self.head:
            return []
        member, fac = viewer.member_id or "", viewer.facilitator
        entries = self.ring.after(seq, limit)
        if entries is None:
            entries = self.replay_after(seq, limit)
        return [(e.seq, e.render(member, fac)) for e in entries]

    def replay_after(self, seq: int, limit: int) -> list[Entry]:
        """Entries after ``seq`` rebuilt from the newest snapshot at or before it and the log."""
        snap = self.log.latest_snapshot(self.id, seq)
        if snap is None:  # pragma: no cover - compaction keeps one at the compaction point
            raise HubError(410, "gone", "Those changes were compacted away; reload the snapshot.")
        at, data = snap
        state = State.from_dict(data)
        out: list[Entry] = []
        while len(out) < limit:
            rows = list(self.log.rows(self.id, at, upto=seq + limit, limit=2000))
            if not rows:
                break
            for row in rows:
                op = op_of(row)
                after = apply(state, op)
                if row.seq > seq:
                    out.append(Entry.of(row.seq, op, state, after))
                state, at = after, row.seq
        return out[:limit]

    def snapshot(self, viewer: auth.Participant) -> dict:
        member = viewer.member_id or ""
        view = view_for(self.state, member, facilitator=viewer.facilitator)
        return {"seq": self.head, "state": view.to_dict(),
                "hidden": hidden_summary(self.state, member, facilitator=viewer.facilitator),
                "server_time": now_iso(), "me": describe(viewer), "participants": self.presence_list()}

    # ------------------------------------------------------------------ subscribers and presence

    def subscribe(self, who: auth.Participant, announce: bool = True) -> Subscriber:
        """A new subscriber; the first stream of a participant makes them "here" for everyone."""
        sub = Subscriber(who.id)
        first = not any(s.participant_id == who.id for s in self.subscribers)
        self.subscribers.add(sub)
        if first and announce:
            self.broadcast_presence()
        return sub

    def unsubscribe(self, sub: Subscriber, announce: bool = True) -> None:
        self.subscribers.discard(sub)
        if announce and not any(s.participant_id == sub.participant_id for s in self.subscribers):
            self.broadcast_presence()

    def mark_present(self, who: auth.Participant, ready: bool | None, status: str | None) -> None:
        mark = self.presence.setdefault(who.id, Presence())
        mark.posted = time.monotonic()
        if ready is not None:
            mark.ready = ready
        if status is not None:
            mark.status = status
        self.broadcast_presence()

    def wake(self, name: str | None = None, data: str | None = None) -> None:
        for sub in self.subscribers:
            sub.notify(name, data)

    def presence_list(self) -> list[dict]:
        live = {s.participant_id for s in self.subscribers}
        now = time.monotonic()
        out = []
        for who in self.people():
            mark = self.presence.get(who.id, Presence())
            here = who.id in live or (mark.posted > 0 and now - mark.posted < self.settings.presence_s)
            out.append({**describe(who), "here": here, "ready": mark.ready and here, "status": mark.status})
        return out

    def broadcast_presence(self) -> None:
        self.wake("presence", dumps({"participants": self.presence_list()}))

    def hand_over(self, current: auth.Participant, to: str) -> auth.Participant:
        target = self.participants.get(to)
        if target is None or target[0].role == auth.METRICS:
            raise HubError(404, "not_found", f"There is no participant {to!r} in this room.")
        if target[0].id == current.id:
            return current
        self.log.begin()
        try:
            self.log.set_role(self.id, current.id, auth.PARTICIPANT)
            self.log.set_role(self.id, target[0].id, auth.FACILITATOR)
            self.log.commit()
        except BaseException:
            self.log.rollback()
            raise
        for pid, role in ((current.id, auth.PARTICIPANT), (target[0].id, auth.FACILITATOR)):
            who, token_hash = self.participants[pid]
            self.participants[pid] = (auth.Participant(who.room, who.id, who.member_id, who.name, role), token_hash)
        new = self.participants[target[0].id][0]
        self.wake("role", dumps({"facilitator": describe(new)}))
        self.broadcast_presence()
        return new

    def new_participant(self, name: str, member_id: str | None, role: str) -> tuple[auth.Participant, str, Callable]:
        """A new participant, their token, and what records them: run it inside the commit that adds them, then
        ``admit`` them."""
        pid = new_id("p-")
        secret = auth.new_secret()
        who = auth.Participant(self.id, pid, member_id, name, role)
        row = ParticipantRow(self.id, pid, member_id, name, role, auth.digest(secret))
        return who, f"{pid}.{secret}", lambda: self.log.add_participant(row, now_iso())

    def admit(self, who: auth.Participant, token: str) -> None:
        self.participants[who.id] = (who, auth.digest(auth.split_token(token)[1]))
        self.broadcast_presence()

    # ------------------------------------------------------------------ people the hub vouches for (SSH keys)

    def person_named(self, name: str) -> auth.Participant | None:
        """The participant (never a metrics token) that a person of this name is in this room: the one who holds
        the active member of that name, else one who joined under that name (case-insensitive); None if new."""
        people = self.people()
        member = member_by_name(self.state, name)
        if member is not None:
            found = next((p for p in people if p.member_id == member.id), None)
            if found is not None:
                return found
        folded = name.strip().casefold()
        return next((p for p in people if p.name.strip().casefold() == folded), None)

    def here_ids(self) -> set[str]:
        """The participants who are here now (a stream open, or a recent presence post)."""
        return {p["participant_id"] for p in self.presence_list() if p["here"]}

    def rotate_token(self, who: auth.Participant) -> str:
        """A new token for ``who`` (its hash stored at once); their earlier token stops working."""
        secret = auth.new_secret()
        token_hash = auth.digest(secret)
        self.log.begin()
        try:
            self.log.set_token_hash(self.id, who.id, token_hash)
            self.log.commit()
        except BaseException:
            self.log.rollback()
            raise
        self.participants[who.id] = (self.participants[who.id][0], token_hash)
        for sub in self.subscribers:  # streams opened with the earlier token end at their next wake-up
            if sub.participant_id == who.id:
                sub.notify()
        return f"{who.id}.{secret}"

    def make_facilitator(self, who: auth.Participant) -> auth.Participant:
        """Give ``who`` the facilitator role (handed over from whoever holds it); as they are now."""
        current = self.participants[who.id][0]
        if current.facilitator:
            return current
        holder = next((p for p in self.people() if p.facilitator), None)
        if holder is not None:
            return self.hand_over(holder, who.id)
        self.log.begin()
        try:
            self.log.set_role(self.id, who.id, auth.FACILITATOR)
            self.log.commit()
        except BaseException:
            self.log.rollback()
            raise
        new = auth.Participant(current.room, current.id, current.member_id, current.name, auth.FACILITATOR)
        self.participants[who.id] = (new, self.participants[who.id][1])
        self.wake("role", dumps({"facilitator": describe(new)}))
        self.broadcast_presence()
        return new


def describe(who: auth.Participant) -> dict:
    return {"participant_id": who.id, "member_id": who.member_id, "name": who.name, "role": who.role}


def op_of(row: Row) -> Op:
    return Op(type=row.type, args=row.args, actor=row.actor, op_id=row.op_id, ts=row.ts)


def member_by_name(state: State, name: str) -> Member | None:
    folded = name.strip().casefold()
    return next((m for m in state.members.values() if m.active and m.name.casefold() == folded), None)
