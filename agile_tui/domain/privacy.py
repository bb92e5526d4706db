"""What one participant of a shared room may see, and how each op reaches them without showing more.

The hub keeps the whole room; everyone else gets ``view_for(state, viewer)``: the room less what is private to
someone else. Private, to everyone but its author (the facilitator included: privacy protects people from the
facilitator too):

- **Retro cards before they are shared.** In an open retro's review and reflect phases another member's cards
  are taken out; ``hidden_summary`` gives how many each author has written, so "who has written" can show.
- **Card authors in an anonymous retro**, in every phase and after close: blanked ("") on every card but the
  viewer's own. (A closed retro shows all its cards and votes; its authors stay blank when anonymous.)
- **Votes before the reveal.** In an open retro not yet revealed, another member's votes are taken out; the room
  sees who has ticked finished (``Retro.ready``, in the state) and how many votes were cast in all
  (``hidden_summary``); a facilitator also sees how many votes each member has used. Entering discuss reveals.
- **Draft standup notes.** In a live standup, a member's notes (``Update.yesterday/today/blockers``) are a draft
  until their turn has started: they are in the speaking order at an index <= ``current``. Until then they are
  blanked, and a blocker raised in that standup by them (``Blocker.standup_id``) is left out. Absent members,
  not in the order, stay private until they join and their turn starts; once the round has ended every note
  is public.
- **Undo history.** Only the viewer's own undo and redo stacks are kept, with the entities in them viewed the
  same way (an undo entry holds whole retros, so it would otherwise carry other people's cards).

Ops. ``redact(op, before, after, viewer)`` decides what the hub sends a viewer for one op of the log:
- ``Redaction.op``: the op as is. The viewer applies it to their view with the same reducer, and gets exactly
  ``view_for(after)``. That is the case when the op changed only public entities, or when replaying it on the
  viewer's view of ``before`` gives their view of ``after`` and it names no author (anonymous retro) and no
  vote choice (before the reveal) the viewer may not know: a card op's actor is the card's author, and a vote
  taken back says where it was even when nothing the viewer sees changes.
- ``Redaction.patch``: the op is not sent (its args or its actor would show something private, or the viewer
  could not replay it on their view). Instead: the entities whose view it changed, as the viewer sees them
  after it (``{collection: {id: entity dict, or None when gone}}``; ``"room"`` maps ``""`` to the room dict;
  ``"undo"``/``"redo"`` map the viewer to their whole history, when the op was theirs),
  plus the ``hidden_summary`` of each retro it touched. An empty patch: nothing the viewer can see changed.
- ``Redaction.refetch``: reload the snapshot (undo and redo, which need the actor's own history).
Every op of the log reaches every viewer as exactly one of these, so a viewer sees every seq and can trust
that a jump in seq is a gap.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import OpRejected
from .model import COLLECTIONS, Blocker, Retro, Room, Standup, State
from .ops import Op
from .reducer import apply
from .retro_report import visible_retro

SENSITIVE = ("retros", "standups", "blockers")  # collections that can hold something private
REFETCH_TYPES = ("undo", "redo")
AUTHOR_OPS = ("retro.card", "retro.card_update")  # their actor (or member_id) is the card's author


# ----------------------------------------------------------------------------- entities


def view_retro(retro: Retro, viewer: str, *, facilitator: bool = False) -> Retro:
    return visible_retro(retro, viewer or None, facilitator=facilitator).retro


def turn_started(standup: Standup, member_id: str) -> bool:
    """Whether a member's notes in this standup are public: the round has ended, or their turn has started."""
    if standup.status != "live":
        return True
    return member_id in standup.order and standup.order.index(member_id) <= standup.current


def view_standup(standup: Standup, viewer: str) -> Standup:
    if standup.status != "live":
        return standup
    updates = tuple(
        u if u.member_id == viewer or turn_started(standup, u.member_id) or not (u.yesterday or u.today or u.blockers)
        else dataclasses.replace(u, yesterday="", today="", blockers="")
        for u in standup.updates)
    return standup if updates == standup.updates else dataclasses.replace(standup, updates=updates)


def blocker_visible(blocker: Blocker, standups: Mapping[str, Standup], viewer: str) -> bool:
    """A blocker raised in a live standup is a draft note of its owner until their turn has started."""
    if not blocker.standup_id or blocker.member_id == viewer:
        return True
    standup = standups.get(blocker.standup_id)
    return standup is None or turn_started(standup, blocker.member_id)


def _view_map(table: Mapping, fn) -> Mapping:
    out, changed = {}, False
    for key, entity in table.items():
        shown = fn(entity)
        changed = changed or shown is not entity
        out[key] = shown
    return out if changed else table


# ----------------------------------------------------------------------------- the whole room


def view_for(state: State, viewer_id: str, *, facilitator: bool = False) -> State:
    """The room as ``viewer_id`` (a member id; "" for someone who is no member) may see it. ``facilitator``
    adds only how many votes each member has used before the reveal (see ``hidden_summary``); the state itself
    is the same for a facilitator."""
    viewer = viewer_id or ""
    retros = _view_map(state.retros, lambda r: view_retro(r, viewer, facilitator=facilitator))
    standups = _view_map(state.standups, lambda s: view_standup(s, viewer))
    live = {k: s for k, s in state.standups.items() if s.status == "live"}
    blockers = state.blockers
    if live and any(not blocker_visible(b, live, viewer) for b in blockers.values()):
        blockers = {k: b for k, b in blockers.items() if blocker_visible(b, live, viewer)}
    undo = {viewer: _own_history(state, state.undo[viewer], viewer)} if state.undo.get(viewer) else {}
    redo = {viewer: _own_history(state, state.redo[viewer], viewer)} if state.redo.get(viewer) else {}
    return dataclasses.replace(state, retros=retros, standups=standups, blockers=blockers, undo=undo, redo=redo)


def _own_history(state: State, stack: tuple[dict, ...], viewer: str) -> tuple[dict, ...]:
    return tuple({**entry, **{key: _view_snapshot(state, entry[key], viewer) for key in ("entities", "after")
                              if isinstance(entry.get(key), Mapping)}} for entry in stack)


def _view_snapshot(state: State, snap: Mapping, viewer: str) -> dict:
    """An undo entry's recorded entities (``entities``, or ``after`` with its own ``entities``), viewed."""
    if "entities" in snap and isinstance(snap["entities"], Mapping):  # the "after" part
        return {**snap, "entities": _view_snapshot(state, snap["entities"], viewer)}
    out: dict[str, Any] = {}
    for coll, entries in snap.items():
        if coll not in SENSITIVE or not isinstance(entries, Mapping):
            out[coll] = entries
            continue
        kind = COLLECTIONS[coll]
        shown = {}
        for key, data in entries.items():
            if data is None:
                shown[key] = None
                continue
            entity = kind.from_dict(data)
            if coll == "retros":
                entity = view_retro(entity, viewer)
            elif coll == "standups":
                entity = view_standup(entity, viewer)
            elif not blocker_visible(entity, state.standups, viewer):
                continue
            shown[key] = entity.to_dict()
        out[coll] = shown
    return out


def hidden_summary(state: State, viewer_id: str, *, facilitator: bool = False,
                   retro_ids: tuple[str, ...] | None = None) -> dict[str, dict]:
    """Per retro (all, or ``retro_ids``), what is held back from the viewer, as counts: ``cards`` {author: n}
    of other people's unshared cards, ``votes_hidden``, ``votes_cast`` (everyone's, counted) and, for a
    facilitator before the reveal, ``votes_used`` {member: n}. Retros with nothing held back are left out
    unless named in ``retro_ids``."""
    out: dict[str, dict] = {}
    for retro_id in (state.retros if retro_ids is None else retro_ids):
        retro = state.retros.get(retro_id)
        if retro is None:
            continue
        seen = visible_retro(retro, viewer_id or None, facilitator=facilitator)
        shown = {c.id for c in seen.retro.cards}
        cards: dict[str, int] = {}
        for card in retro.cards:
            if card.id not in shown:
                cards[card.author] = cards.get(card.author, 0) + 1
        summary = {"cards": cards, "votes_hidden": seen.votes_hidden,
                   "votes_cast": seen.votes_cast if seen.votes_hidden else None,
                   "votes_used": dict(seen.votes_used)}
        if cards or seen.votes_hidden or retro_ids is not None:
            out[retro_id] = summary
    return out


# ----------------------------------------------------------------------------- ops


@dataclass(frozen=True)
class Redaction:
    op: Op | None = None
    patch: dict[str, dict] | None = None
    hidden: dict[str, dict] = field(default_factory=dict)
    refetch: bool = False


def touched(before: State, after: State) -> dict[str, set[str]]:
    """The entities an op changed: collection -> ids (``"room"`` -> {""} when the room itself changed)."""
    out: dict[str, set[str]] = {}
    if before.room is not after.room and before.room != after.room:
        out["room"] = {""}
    for coll in COLLECTIONS:
        old, new = getattr(before, coll), getattr(after, coll)
        if old is new:
            continue
        keys = {k for k in old.keys() | new.keys() if old.get(k) is not new.get(k)}
        if keys:
            out[coll] = keys
    return out


def _same_content(a: State, b: State) -> bool:
    return a.room == b.room and all(getattr(a, c) == getattr(b, c) for c in COLLECTIONS)


def _says_something_private(op: Op, after: State, viewer: str) -> bool:
    """Ops whose args or actor say more than their effect on the viewer's view: a card op names its author (in an
    anonymous retro), and a vote names a choice even when it changes nothing the viewer sees (taking back a
    vote the viewer never saw)."""
    if op.type not in AUTHOR_OPS and op.type != "retro.vote":
        return False
    retro = after.retros.get(str(op.args.get("retro_id")))
    if retro is None:
        return True
    person = op.args.get("member_id") or op.actor
    if person == viewer:
        return False
    if op.type == "retro.vote":
        return visible_retro(retro, viewer or None).votes_hidden
    return retro.anonymous


def redact(op: Op, before: State, after: State, viewer_id: str, *, facilitator: bool = False,
           changes: dict[str, set[str]] | None = None) -> Redaction:
    """What to send ``viewer_id`` for ``op`` (see the module's docstring)."""
    viewer = viewer_id or ""
    if op.type in REFETCH_TYPES:
        return Redaction(refetch=True)
    changes = touched(before, after) if changes is None else changes
    if not changes:  # accepted but changed nothing: its args may still carry a draft
        return Redaction(patch={})
    if not any(coll in changes for coll in SENSITIVE):
        return Redaction(op=op)
    seen_before = view_for(before, viewer, facilitator=facilitator)
    seen_after = view_for(after, viewer, facilitator=facilitator)
    retro_ids = tuple(sorted(changes.get("retros", ())))
    if not _says_something_private(op, after, viewer):
        try:
            replayed = apply(seen_before, op)
        except OpRejected:
            replayed = None
        if replayed is not None and _same_content(replayed, seen_after):
            # The counts of what is still held back changed too (a vote of one's own: the votes cast).
            hidden = hidden_summary(after, viewer, facilitator=facilitator, retro_ids=retro_ids) if retro_ids else {}
            return Redaction(op=op, hidden=hidden)
    patch: dict[str, dict] = {}
    for coll in ("room", *COLLECTIONS):
        if coll == "room":
            if "room" in changes:
                patch["room"] = {"": seen_after.room.to_dict()}
            continue
        old, new = getattr(seen_before, coll), getattr(seen_after, coll)
        # A private entity's view can change without the entity (a blocker shows once its owner's turn starts).
        keys = old.keys() | new.keys() if coll in SENSITIVE else changes.get(coll, ())
        for key in sorted(keys):
            if old.get(key) != new.get(key):
                entity = new.get(key)
                patch.setdefault(coll, {})[key] = entity.to_dict() if entity is not None else None
    for stacks in ("undo", "redo"):  # an op of the viewer's own that they get as a patch: their history too
        mine = getattr(seen_after, stacks).get(viewer, ())
        if mine != getattr(seen_before, stacks).get(viewer, ()):
            patch[stacks] = {viewer: list(mine)}
    hidden = hidden_summary(after, viewer, facilitator=facilitator, retro_ids=retro_ids) if retro_ids else {}
    return Redaction(patch=patch, hidden=hidden)


def op_visible_to(op: Op, state_before: State, state_after: State, viewer_id: str, *,
                  facilitator: bool = False) -> bool:
    """Whether ``op`` may be sent to ``viewer_id`` as it is (else: a patch or a refetch, see ``redact``)."""
    return redact(op, state_before, state_after, viewer_id, facilitator=facilitator).op is not None


def apply_patch(view: State, patch: Mapping[str, Mapping[str, Any]]) -> State:
    """A client's side of a patch: put the entities in (None: remove them). For tests and clients alike."""
    changes: dict[str, Any] = {}
    for coll, entries in patch.items():
        if coll == "room":
            changes["room"] = Room.from_dict(entries[""])
            continue
        if coll in ("undo", "redo"):  # the viewer's own history, whole
            table = dict(getattr(view, coll))
            for actor, stack in entries.items():
                table[actor] = tuple(stack)
            changes[coll] = table
            continue
        kind = COLLECTIONS[coll]
        table = dict(getattr(view, coll))
        for key, data in entries.items():
            if data is None:
                table.pop(key, None)
            else:
                table[key] = kind.from_dict(data)
        changes[coll] = table
    return dataclasses.replace(view, **changes) if changes else view
