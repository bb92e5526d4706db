"""Property test of the sync (Hypothesis): random interleavings, duplicates and replays of ops from several
clients converge to the same state, on every client and the hub.

An in-process hub (``agile_tui.server.service.Hub``: the same code the HTTP app calls, without HTTP) holds one
room (hubkit's team: Ana the facilitator, Ben and Cai participants; an anonymous retro r1 in reflect). Each
client is a ``Replica`` started from its snapshot, with an outbox and a saved confirmed copy modelled the way
``SharedSession`` keeps them (sync/session.py: every op is in the outbox at once; a save writes the confirmed
copy and cuts the outbox lines through the first pending op). Hypothesis picks a sequence of steps:

- ``op``: a client makes a local op (items, blockers, samples, cards, groups, votes, readiness, standup notes,
  undo and redo; the facilitator also moves the retro and the standup on): valid or not, on ids it sees or that
  do not exist, new ids that two clients may both make, and sometimes an op its role may not do (the hub says
  403, as to an old or hostile client): ``Replica.local``, skipped when refused locally;
- ``send``: a client sends a prefix of its unsent ops; the hub's answer may be lost on the way back;
- ``dup``: a client sends again an op the hub has already taken: it comes back ``duplicate`` with its first seq;
- ``recv``: a client takes the next k events of the stream (gap or refetch: the snapshot);
- ``replay``: a client is sent events it has seen already: they are ignored and change nothing;
- ``lossy``: the stream loses events: the next one is a gap, the client loads the snapshot;
- ``save`` / ``restart``: the client saves its confirmed copy / restarts from the saved copy and its outbox;
- ``hub_restart``: the hub is restarted from its database (a small ring and frequent compaction, so resumes
  replay from the log or get a refetch).

At the end everyone sends everything and takes everything; then every client has nothing pending, is at the
hub's head, and shows exactly the hub's view for its member (``view_for``, also as the snapshot says: the room's
content, their own undo and redo history, how many cards each other author holds back); the room as anyone may
see it (``view_for(…, "")``) is the same on every client; and no op was ever given two seqs, nor one seq two ops.
Whenever a client reaches the head on the way, its confirmed state is the hub's view too.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from agile_tui.domain import FakeClock, OpRejected, State, make_op
from agile_tui.domain.ops import Op
from agile_tui.domain.privacy import view_for
from agile_tui.server.hub import HubError, NewOp, Settings
from agile_tui.server.service import Hub
from agile_tui.sync.replica import Pending, Replica

from .hubkit import T0, team_state

MEMBERS = ("ana", "ben", "cai")  # client 0 is the facilitator
COLUMNS = ("Went well", "To improve", "Try next", "Went well", "Nope")  # the last one is not a column of r1
HUB_SETTINGS = dict(ring=2, snapshot_every=3, keep_ops=1, rate=1e9, burst=1e9)  # replays from the log, 410s

# ----------------------------------------------------------------------------- ops (as (type, args))


class Pick(NamedTuple):
    """An id chosen when the op is made, from what the client sees of ``kind`` (sorted): the k-th (round the
    list), or, for k = 3 or when there is none, one that does not exist."""

    kind: str
    k: int

    def resolve(self, state: State, fresh) -> str:
        retro = state.retros["r1"]
        grouped = {c for t in retro.topics for c in t.card_ids}
        existing = {
            "item": sorted(state.items),
            "blocker": sorted(state.blockers),
            "card": [c.id for c in retro.cards],
            "target": [t.id for t in retro.topics] + [c.id for c in retro.cards if c.id not in grouped],
            "standup": sorted(state.standups, key=lambda k: (state.standups[k].status != "live", k)),
        }[self.kind]
        return existing[self.k % len(existing)] if existing and self.k != 3 else f"{self.kind}-none"


class New(NamedTuple):
    """A new id: a fresh one (k = 0), or ``<kind>-<k>``, which two clients may both make (the hub takes the
    first one it gets and refuses the other)."""

    kind: str
    k: int

    def resolve(self, state: State, fresh) -> str:
        return fresh(self.kind) if self.k == 0 else f"{self.kind}-{self.k}"


def resolve(value, state: State, fresh):
    if isinstance(value, (Pick, New)):
        return value.resolve(state, fresh)
    if isinstance(value, list):
        return [resolve(v, state, fresh) for v in value]
    return value


texts = st.sampled_from(["Call Acme", "Email 王芳 🎉", "[bold]x[/]", "Demo", "Demo", "Demo", "Demo", ""])
members = st.sampled_from(MEMBERS + MEMBERS + ("zed",))
at = st.integers(0, 600).map(float)


def pick(kind: str, most: int = 3) -> st.SearchStrategy:
    return st.integers(0, most).map(lambda k: Pick(kind, k))


def new(kind: str) -> st.SearchStrategy:
    return st.sampled_from([0, 0, 0, 1, 2]).map(lambda k: New(kind, k))


def spec(type_: str, **args) -> st.SearchStrategy:
    """An op spec: (type, args) with each arg drawn from its strategy; ``None`` leaves the arg out."""
    return st.fixed_dictionaries(args).map(lambda a: (type_, {k: v for k, v in a.items() if v is not None}))


def opt(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


ITEM_OPS = st.one_of(
    spec("item.add", id=new("item"), title=texts, status=opt(st.sampled_from(["todo", "doing", "done", "blocked"]))),
    spec("item.update", id=pick("item", 2), title=opt(texts),
         status=opt(st.sampled_from(["todo", "doing", "done", "blocked", "lost"])),
         estimate=opt(st.sampled_from(["", "3", "5", "4"])), owner=opt(members)),
    spec("item.delete", id=pick("item", 2)),
    spec("blocker.open", id=new("blocker"), text=texts, member_id=members, item_id=opt(pick("item", 2)),
         block_item=opt(st.booleans())),
    spec("blocker.update", id=pick("blocker", 2), text=texts),
    spec("blocker.resolve", id=pick("blocker", 2)),
    spec("metric.sample", id=new("sample"), metric_id=st.sampled_from(["calls", "calls", "nope"]),
         value=st.integers(-1, 9)),
)
RETRO_OPS = st.one_of(
    spec("retro.card", retro_id=st.just("r1"), id=new("card"), column=st.sampled_from(COLUMNS), text=texts,
         member_id=opt(members)),
    spec("retro.card_update", retro_id=st.just("r1"), id=pick("card", 2), text=opt(texts),
         delete=opt(st.just(True))),
    spec("retro.group", retro_id=st.just("r1"), topic_id=st.sampled_from(["t1", "t2"]),
         card_ids=st.lists(pick("card", 3), min_size=1, max_size=2)),
    spec("retro.vote", retro_id=st.just("r1"), topic_id=pick("target", 3), count=st.integers(0, 4),
         member_id=opt(members)),
    spec("retro.ready", retro_id=st.just("r1"), ready=st.booleans()),
)
FLOW_OPS = st.one_of(  # the facilitator's (a participant sending one gets a 403)
    spec("retro.phase", retro_id=st.just("r1"), action=st.sampled_from(["next", "next", "back"]), at=at,
         force=st.just(True)),
    spec("retro.reveal", retro_id=st.just("r1")),
    spec("standup.start", id=new("standup"), order=st.permutations(list(MEMBERS)).map(list)),
    spec("standup.turn", id=pick("standup", 1), action=st.sampled_from(["next", "next", "back"]), at=at),
    spec("standup.end", id=pick("standup", 1), at=at),
)
STANDUP_OPS = st.one_of(
    spec("standup.note", id=pick("standup", 1), member_id=members, today=texts),
    spec("standup.park", id=pick("standup", 1), text=texts),
    spec("blocker.open", id=new("blocker"), text=texts, member_id=members, standup_id=pick("standup", 1)),
)
UNDO_OPS = st.sampled_from([("undo", {}), ("redo", {})])
OP_SPECS = st.one_of(ITEM_OPS, ITEM_OPS, RETRO_OPS, RETRO_OPS, RETRO_OPS, FLOW_OPS, STANDUP_OPS, UNDO_OPS)

# ----------------------------------------------------------------------------- steps

client = st.integers(0, len(MEMBERS) - 1)
STEPS = st.one_of(
    st.tuples(st.just("op"), client, OP_SPECS),
    st.tuples(st.just("op"), st.just(0), FLOW_OPS),  # the facilitator runs the rituals along
    st.tuples(st.just("op"), client, OP_SPECS),
    st.tuples(st.just("op"), client, OP_SPECS),
    st.tuples(st.just("send"), client, st.integers(1, 4), st.booleans()),
    st.tuples(st.just("send"), client, st.integers(1, 4), st.just(False)),
    st.tuples(st.just("send"), client, st.integers(1, 4), st.just(False)),
    st.tuples(st.just("recv"), client, st.integers(1, 6)),
    st.tuples(st.just("recv"), client, st.integers(1, 6)),
    st.tuples(st.just("dup"), client, st.integers(0, 50)),
    st.tuples(st.just("recv"), client, st.integers(1, 6)),
    st.tuples(st.just("replay"), client, st.integers(1, 10)),
    st.tuples(st.just("lossy"), client, st.integers(1, 3)),
    st.tuples(st.just("save"), client),
    st.tuples(st.just("restart"), client),
    st.tuples(st.just("hub_restart")),
)


def json_round_trip(data):
    return json.loads(json.dumps(data))


def content(state: State) -> dict:
    return state.content()


@dataclass
class Client:
    """One terminal: its replica, its outbox (durable lines ``(ref, op)``) and its saved confirmed copy, modelled
    on SharedSession and SharedFiles."""

    who: object  # auth.Participant
    member: str
    client_id: str
    replica: Replica
    saved: tuple[int, State, dict, list[str]]  # confirmed.json: seq, state, hidden, the refused op ids
    outbox: list[tuple[int, Op]] = field(default_factory=list)
    next_ref: int = 1
    refused: dict[str, int] = field(default_factory=dict)  # op_id -> outbox line, of the ops the hub refused


class World:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.settings = Settings(**HUB_SETTINGS)
        self.hub = Hub(folder, self.settings)
        made = self.hub.create_room(team_state().to_dict(), "Ana", None)
        self.room_id = made["room"]
        room = self.hub.room(self.room_id)
        joined = [self.hub.join(self.room_id, made["invite_token"], name) for name in ("Ben", "Cai")]
        people = [made["participant_id"]] + [j["participant_id"] for j in joined]
        self.clients: list[Client] = []
        for n, pid in enumerate(people):
            who = room.participants[pid][0]
            assert who.member_id == MEMBERS[n]
            snap = json_round_trip(room.snapshot(who))
            state = State.from_dict(snap["state"])
            self.clients.append(Client(who, who.member_id, f"c-{n}", Replica(state, snap["seq"], snap["hidden"]),
                                       (snap["seq"], state, dict(snap["hidden"]), [])))
        self.clock = FakeClock(T0)
        self.seq_of: dict[str, int] = {}  # op_id -> the seq the hub gave it (every answer ever seen)
        self.op_at: dict[int, str] = {}  # seq -> op_id
        self.sent: dict[str, tuple[int, NewOp]] = {}  # op_id -> (client, the op as sent)
        self.seen: set[str] = set()  # what happened, for Hypothesis's statistics
        self.made = 0

    def fresh(self, kind: str) -> str:
        self.made += 1
        return f"{kind}{self.made}"

    @property
    def room(self):
        return self.hub.room(self.room_id)

    def close(self) -> None:
        self.hub.close()
        self.hub.log.close()

    # ------------------------------------------------------------------ the steps

    def local(self, n: int, type_: str, args: dict) -> None:
        c = self.clients[n]
        self.clock.advance(1)
        op = make_op(type_, self.clock, actor=c.member,
                     **{k: resolve(v, c.replica.state, self.fresh) for k, v in args.items()})
        before = c.replica.state
        try:
            new = c.replica.local(op, c.next_ref)
        except OpRejected:
            assert c.replica.state is before
            return
        if new is not before:
            c.outbox.append((c.next_ref, op))
            c.next_ref += 1

    def _record(self, n: int, result: dict) -> None:
        op_id, seq = result["op_id"], result["seq"]
        first = self.seq_of.setdefault(op_id, seq)
        assert first == seq, f"op {op_id} got seq {seq}, earlier {first}"
        other = self.op_at.setdefault(seq, op_id)
        assert other == op_id, f"seq {seq} given to {op_id} and {other}"

    def submit(self, n: int, batch: list[NewOp]) -> list[dict] | None:
        """Post a batch as client n; None when the hub refused the whole batch (403: the listed ops are
        refused, the others were not taken and go again)."""
        c = self.clients[n]
        for new in batch:
            self.sent.setdefault(new.op_id, (n, new))
        try:
            results = self.hub.submit(self.room, c.who, c.client_id, batch)
        except HubError as refusal:
            assert refusal.status == 403, refusal.body()
            self.seen.add("forbidden")
            assert n != 0, f"the facilitator was refused: {refusal.body()}"
            self.refused(n, [item["op_id"] for item in refusal.extra["ops"]])
            return None
        assert [r["op_id"] for r in results] == [b.op_id for b in batch]
        for result in results:
            if "seq" in result:  # a duplicate is an op the hub had taken before, and only then
                assert result["duplicate"] == (result["op_id"] in self.seq_of), result
                self.seen.add("duplicate" if result["duplicate"] else "taken")
                self._record(n, result)
            else:
                self.seen.add("refused")
        return results

    def send(self, n: int, k: int, lose_answer: bool = False) -> None:
        c = self.clients[n]
        unsent = [p for p in c.replica.pending if p.seq is None][:k]
        if not unsent:
            return
        batch = [NewOp(p.op.op_id, p.op.type, json_round_trip(dict(p.op.args)), p.op.ts) for p in unsent]
        results = self.submit(n, batch)
        if results is None or lose_answer:
            return
        for result in results:
            if not result.get("error"):
                c.replica.acknowledged(result["op_id"], result["seq"])
        self.refused(n, [result["op_id"] for result in results if result.get("error")])

    def refused(self, n: int, op_ids: list[str]) -> None:
        """Sending._take_results: refused ops leave the pending ones and are never sent again, also after a
        restart (their ids go into the confirmed copy, saved at once)."""
        c = self.clients[n]
        for op_id in op_ids:
            got = c.replica.refused_by_hub(op_id)
            if got is not None:
                c.refused[op_id] = got.ref
        if op_ids:
            self.save(n)

    def dup(self, n: int, pick: int) -> None:
        """Send again an op this client has sent before and the hub took: the same seq, marked duplicate."""
        mine = [(op_id, new) for op_id, (owner, new) in self.sent.items() if owner == n and op_id in self.seq_of]
        if not mine:
            return
        op_id, new = mine[pick % len(mine)]
        results = self.submit(n, [new])
        assert results is not None, "a retried op was refused"
        assert results[0] == {"op_id": op_id, "seq": self.seq_of[op_id], "duplicate": True}, results
        c = self.clients[n]
        if any(p.op.op_id == op_id for p in c.replica.pending):
            c.replica.acknowledged(op_id, results[0]["seq"])

    def recv(self, n: int, k: int) -> None:
        c = self.clients[n]
        room = self.room
        for seq, text in room.events_after(c.replica.seq, c.who, limit=k):
            outcome = c.replica.event(json.loads(text))
            assert outcome != "old", f"event {seq} after {c.replica.seq} was taken as old"
            if outcome in ("gap", "refetch"):
                self.seen.add(outcome)
                self.refetch(n)
                break
            assert outcome == "applied" and c.replica.seq == seq
            self.seen.add("patch" if '"patch"' in text else "op")
        if c.replica.seq == room.head:
            view = view_for(room.state, c.member, facilitator=c.who.facilitator)
            assert content(c.replica.confirmed) == content(view), f"{c.member}'s confirmed copy at the head"

    def lossy(self, n: int, lost: int) -> None:
        """The stream loses ``lost`` events: the next one shows a gap (nothing changes) and the snapshot is
        loaded."""
        c = self.clients[n]
        events = self.room.events_after(c.replica.seq, c.who, limit=lost + 1)
        if len(events) <= lost:
            return
        seq, text = events[lost]
        before = (c.replica.seq, c.replica.confirmed, c.replica.state)
        outcome = c.replica.event(json.loads(text))
        assert outcome in ("gap", "refetch"), f"event {seq} after {c.replica.seq}: {outcome}"
        assert (c.replica.seq, c.replica.confirmed, c.replica.state) == before
        self.seen.add("lost")
        self.refetch(n)

    def refetch(self, n: int) -> None:
        c = self.clients[n]
        snap = json_round_trip(self.room.snapshot(c.who))
        c.replica.reset(State.from_dict(snap["state"]), snap["seq"], snap["hidden"])

    def replay(self, n: int, back: int) -> None:
        c = self.clients[n]
        seen = c.replica.seq
        before = (c.replica.seq, c.replica.confirmed, c.replica.state, list(c.replica.pending))
        for seq, text in self.room.events_after(max(0, seen - back), c.who, limit=back):
            data = json.loads(text)
            if seq <= seen and not data.get("refetch"):  # (a refetch is no replay: the hub compacted those)
                assert c.replica.event(data) == "old"
        after = (c.replica.seq, c.replica.confirmed, c.replica.state, list(c.replica.pending))
        assert after == before, "a replayed event changed the client"

    def save(self, n: int) -> None:
        """SharedSession._save_confirmed: the confirmed copy, then the outbox cut through the first pending op."""
        c = self.clients[n]
        r = c.replica
        durable = c.next_ref - 1
        first_pending = min([p.ref for p in r.pending], default=None)
        done = durable if first_pending is None else min(durable, first_pending - 1)
        c.refused = {op_id: ref for op_id, ref in c.refused.items() if ref > done}
        c.saved = (r.seq, r.confirmed, dict(r.hidden), sorted(c.refused))
        c.outbox = [(ref, op) for ref, op in c.outbox if ref > done]

    def restart(self, n: int) -> None:
        c = self.clients[n]
        seq, state, hidden, refused = c.saved
        c.replica = Replica(state, seq, hidden, [Pending(op, ref) for ref, op in c.outbox if op.op_id not in refused])
        c.refused = {op_id: ref for op_id, ref in c.refused.items() if op_id in refused}

    def hub_restart(self) -> None:
        self.close()
        self.hub = Hub(self.folder, self.settings)
        room = self.room
        for c in self.clients:
            c.who = room.participants[c.who.id][0]

    def run(self, step: tuple) -> None:
        kind, *args = step
        if kind == "op":
            n, (type_, op_args) = args
            self.local(n, type_, op_args)
        else:
            getattr(self, kind)(*args)

    # ------------------------------------------------------------------ the end

    def settle(self) -> None:
        """Everyone sends everything and takes everything, until nothing moves."""
        for _ in range(6):
            for n, c in enumerate(self.clients):
                while any(p.seq is None for p in c.replica.pending):
                    self.send(n, 100)
                self.recv(n, 10_000)
            if all(not c.replica.pending and c.replica.seq == self.room.head for c in self.clients):
                return
        raise AssertionError("the clients did not settle: "
                             + ", ".join(f"{c.member}: seq {c.replica.seq}, {len(c.replica.pending)} pending"
                                         for c in self.clients))

    def check_converged(self) -> None:
        room = self.room
        public = content(view_for(room.state, ""))
        for c in self.clients:
            r = c.replica
            assert r.pending == [] and r.seq == room.head, c.member
            view = view_for(room.state, c.member, facilitator=c.who.facilitator)
            snap = json_round_trip(room.snapshot(c.who))
            assert content(r.state) == content(view), f"{c.member} differs from the hub's view"
            assert content(r.state) == content(State.from_dict(snap["state"])), f"{c.member} vs its snapshot"
            for stack in ("undo", "redo"):  # their own history (other people's is not theirs to keep)
                assert getattr(r.state, stack).get(c.member, ()) == getattr(view, stack).get(c.member, ()), \
                    f"{c.member}'s {stack} history"
            for retro_id in set(r.hidden) | set(snap["hidden"]):  # what is held back, as counts
                mine, hubs = r.hidden.get(retro_id), snap["hidden"].get(retro_id)
                if hubs is None:  # nothing held back there any more
                    assert not mine or (not mine["cards"] and not mine["votes_hidden"]), (c.member, retro_id, mine)
                else:
                    assert mine == hubs, (c.member, retro_id, mine, hubs)
            assert content(view_for(r.state, "")) == public, f"{c.member}'s public room"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.data_too_large])
@given(steps=st.lists(STEPS, min_size=25, max_size=100))
def test_random_interleavings_duplicates_and_replays_converge(steps):
    folder = Path(tempfile.mkdtemp(prefix="agile-sync-prop-"))
    world = World(folder)
    note(f"steps = {steps!r}")  # (this pytest set-up prints the failing example as "steps=,")
    try:
        for step in steps:
            world.run(step)
        world.settle()
        for what in sorted(world.seen):
            event(what)
        world.check_converged()
    finally:
        world.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_undo_after_a_change_made_for_someone_else():
    """An own undoable op that reaches its author as a patch (the facilitator's card typed for Ben in reflect,
    a vote for someone before the reveal, a blocker opened for someone whose turn has not started) brings the
    author's undo history with it: the next `u` takes back on screen what the hub takes back."""
    folder = Path(tempfile.mkdtemp(prefix="agile-sync-undo-"))
    world = World(folder)
    try:
        ana = world.clients[0].replica
        world.local(0, "item.delete", {"id": "i1"})  # Ana deletes "Call Acme"
        world.settle()
        world.local(0, "retro.card", {"retro_id": "r1", "id": "c1", "column": "Went well", "text": "For Ben",
                                      "member_id": "ben"})  # A (act as) Ben, a: a card in reflect
        world.settle()
        assert [c.text for c in world.room.state.retros["r1"].cards] == ["For Ben"]
        hub_labels = [e["label"] for e in world.room.state.undo["ana"]]
        assert hub_labels == ["delete Call Acme", "retro card For Ben"]
        world.local(0, "undo", {})  # u: the screen says "Undid: delete Call Acme" and shows the item again
        shown = content(ana.state)
        world.settle()  # the hub took back the card instead; Ana's screen is reset to that
        assert "i1" not in world.room.state.items and not world.room.state.retros["r1"].cards
        assert shown == content(ana.state), "the client's undo showed another change than the hub made"
    finally:
        world.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_the_votes_cast_count_follows_own_votes_and_reveal():
    """A voter's own vote and a reveal that shows them nothing new arrive as plain ops: the counts in ``hidden``
    (the presence panel's "N votes cast") come with them (they went stale before 6250aff)."""
    folder = Path(tempfile.mkdtemp(prefix="agile-sync-votes-"))
    world = World(folder)
    try:
        ben = world.clients[1]
        world.local(1, "retro.card", {"retro_id": "r1", "id": "c1", "column": "Went well", "text": "Demos"})
        world.settle()
        for _ in ("group", "vote"):
            world.local(0, "retro.phase", {"retro_id": "r1", "action": "next", "at": 1.0, "force": True})
            world.settle()
        world.local(1, "retro.vote", {"retro_id": "r1", "topic_id": "c1", "count": 2})  # Ben: + +
        world.settle()
        hub = world.room.snapshot(ben.who)["hidden"]["r1"]
        assert hub["votes_cast"] == 2
        counted = ben.replica.hidden["r1"]["votes_cast"]
        world.local(0, "retro.reveal", {"retro_id": "r1"})
        world.settle()
        assert world.room.snapshot(ben.who)["hidden"] == {}  # revealed: nothing held back
        after_reveal = ben.replica.hidden.get("r1", {}).get("votes_hidden", False)
        assert (counted, after_reveal) == (2, False)  # before 6250aff Ben's client had (0, True)
    finally:
        world.close()
        shutil.rmtree(folder, ignore_errors=True)
