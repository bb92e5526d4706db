"""A client's copy of a shared room: what the hub has confirmed, plus its own changes not yet confirmed.

``confirmed`` is the room as this participant may see it at hub seq ``seq``, built only from what the hub sent
(a snapshot, then every event in seq order). ``pending`` are this client's ops that the hub has not confirmed
yet, in the order they were made. What the screen shows, ``state``, is ``confirmed`` with the pending ops
applied on top (optimistic): a remote op lands in ``confirmed`` and the pending ones are applied again after it
(a rebase). A pending op that no longer applies is left out of ``state`` (the hub will refuse it too, with the
reason). Once the outbox is empty, ``state`` is exactly the hub's view: every client converges.

Pure: no I/O and no threads (the caller serialises access). The property tests drive it against a real hub.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..domain import OpRejected, State, apply
from ..domain.ops import Op
from ..domain.privacy import apply_patch


@dataclass
class Pending:
    op: Op
    ref: int = 0  # its line in the durable outbox
    seq: int | None = None  # the hub's seq once acknowledged


class Replica:
    def __init__(self, confirmed: State, seq: int = 0, hidden: Mapping[str, Any] | None = None,
                 pending: Iterable[Pending] = ()) -> None:
        self.confirmed = confirmed
        self.seq = seq
        self.hidden: dict[str, Any] = dict(hidden or {})
        self.pending: list[Pending] = list(pending)
        self.state = confirmed
        self.refused: list[tuple[Pending, str]] = []  # pending ops that no longer apply on the hub's state
        self._rebase()

    # ------------------------------------------------------------------ this client's own ops

    def local(self, op: Op, ref: int = 0) -> State:
        """Apply one of our ops now. Raises OpRejected (nothing changes) when it does not apply."""
        new = apply(self.state, op)
        if new is not self.state:
            self.pending.append(Pending(op, ref))
            self.state = new
        return new

    def acknowledged(self, op_id: str, seq: int) -> None:
        """The hub has our op at ``seq`` (or had it already: a retry)."""
        for p in self.pending:
            if p.op.op_id == op_id:
                p.seq = seq
        if seq <= self.seq:
            self._settle(rebase=False)

    def refused_by_hub(self, op_id: str) -> Pending | None:
        """The hub refused our op: it leaves the pending ones (the ones after it still count)."""
        for i, p in enumerate(self.pending):
            if p.op.op_id == op_id:
                del self.pending[i]
                self._rebase()
                return p
        return None

    # ------------------------------------------------------------------ what the hub sends

    def event(self, data: Mapping[str, Any]) -> str:
        """One event of the hub's stream. Returns what happened: ``applied``, ``old`` (seen already: ignored),
        ``gap`` (a seq is missing) or ``refetch`` (reload the snapshot); for the last two nothing changed."""
        seq = data.get("seq")
        if not isinstance(seq, int):
            return "old"
        if data.get("refetch"):  # whatever its seq: the hub may be behind us (restored from a backup)
            return "refetch"
        if seq <= self.seq:
            return "old"
        if seq != self.seq + 1:
            return "gap"
        if isinstance(data.get("op"), Mapping):
            op = Op.from_dict(data["op"])
            first = self.pending[0] if self.pending else None
            try:
                self.confirmed = apply(self.confirmed, op)
            except OpRejected:  # our copy went astray somehow: start again from the hub's snapshot
                return "refetch"
            self.seq = seq
            self.hidden.update(data.get("hidden") or {})
            if first is not None and first.op.op_id == op.op_id and not self._refused_ref(first):
                # Our oldest pending op came back as it was applied here: what the screen shows is unchanged.
                self.pending.pop(0)
                self._settle(rebase=False)
                return "applied"
            self._drop(op.op_id)
        elif isinstance(data.get("patch"), Mapping):
            self.confirmed = apply_patch(self.confirmed, data["patch"])
            self.hidden.update(data.get("hidden") or {})
            self.seq = seq
        else:
            return "refetch"
        self._settle(rebase=True)
        return "applied"

    def reset(self, confirmed: State, seq: int, hidden: Mapping[str, Any] | None = None) -> None:
        """A snapshot from the hub replaces what was confirmed; the pending ops go on top again. A hub that went
        back (restored from a backup) has lost what it acknowledged after ``seq``: those are sent again."""
        if seq < self.seq:
            for p in self.pending:
                if p.seq is not None and p.seq > seq:
                    p.seq = None
        self.confirmed, self.seq = confirmed, seq
        self.hidden = dict(hidden or {})
        self._settle(rebase=True)

    # ------------------------------------------------------------------ inside

    def _drop(self, op_id: str) -> None:
        self.pending = [p for p in self.pending if p.op.op_id != op_id]

    def _refused_ref(self, pending: Pending) -> bool:
        return any(p is pending for p, _ in self.refused)

    def _settle(self, rebase: bool = True) -> None:
        """Forget the pending ops the confirmed state now includes, and rebase the rest (also when one was
        forgotten: it may not have applied here as it did on the hub)."""
        kept = [p for p in self.pending if p.seq is None or p.seq > self.seq]
        if len(kept) != len(self.pending):
            self.pending, rebase = kept, True
        if rebase:
            self._rebase()

    def _rebase(self) -> None:
        state = self.confirmed
        refused = []
        for p in self.pending:
            try:
                state = apply(state, p.op)
            except OpRejected as refusal:
                refused.append((p, refusal.reason))
        self.state = state
        self.refused = refused
