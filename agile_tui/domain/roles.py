"""Who may do what in a shared room. The hub enforces it (403 with the reason); the client asks the same
questions to hide what a role cannot do. Pure: no I/O.

- ``facilitator``: runs the flow (the op types in ``FACILITATOR_ONLY``), may act for another member (a card,
  a vote, a tick, a standup note typed for them), and may hand the role over. One per room.
- ``participant``: edits items, sprints, blockers and metrics, writes their own cards and standup notes,
  votes and ticks for themselves, adds samples and parking-lot topics, groups cards, takes notes, undoes their
  own changes.
- ``metrics``: a token for a script or a CRM hook; it may only post metric samples.
- A room that is not shared has no roles: its one user may do everything (role ``""``).
"""

from __future__ import annotations

from collections.abc import Mapping

from . import retro as q
from .model import State

FACILITATOR = "facilitator"
PARTICIPANT = "participant"
METRICS = "metrics"

# The flow of the rituals and the room's set-up: the facilitator's.
FACILITATOR_ONLY = frozenset({
    "room.setup", "member.add", "member.update", "sprint.start", "sprint.close",
    "standup.start", "standup.turn", "standup.timer", "standup.end", "standup.record",
    "retro.create", "retro.settings", "retro.phase", "retro.timer", "retro.reveal", "retro.discuss",
    "retro.close", "metric.remove",
})
# Ops that may name the member they are for (``member_id``): only the facilitator may name someone else.
FOR_A_MEMBER = frozenset({"retro.card", "retro.vote", "retro.ready", "standup.note"})


def may(role: str, op_type: str) -> bool:
    """Whether a role may do this kind of op at all (the UI hides the keys of what it may not)."""
    if not role or role == FACILITATOR:
        return True
    if role == METRICS:
        return op_type == "metric.sample"
    return op_type not in FACILITATOR_ONLY


def forbidden(role: str, member_id: str | None, op_type: str, args: Mapping, state: State) -> str | None:
    """Why someone with ``role`` (acting as ``member_id``) may not do this op (a reason for a 403), or None
    when the role allows it."""
    if role == METRICS:
        return "A metrics token may only post metric samples."
    if not role:
        return None
    if role == FACILITATOR:
        return _card_rule(role, member_id, args, state) if op_type == "retro.card_update" else None
    if op_type in FACILITATOR_ONLY:
        return f"Only the facilitator can do {op_type!r}; ask them, or ask for the facilitator role."
    if op_type in ("undo", "redo") and member_id:  # taking back (or doing again) a change of the flow
        stack = (state.undo if op_type == "undo" else state.redo).get(member_id, ())
        taken = stack[-1].get("type") if stack else None
        if taken in FACILITATOR_ONLY:
            return (f"Only the facilitator can {op_type} {stack[-1].get('label') or taken!r}; ask them, or ask "
                    "for the facilitator role.")
    if op_type in FOR_A_MEMBER:
        member = args.get("member_id")
        if member not in (None, "", member_id):
            return "Only the facilitator can act for another member."
    if op_type == "retro.card_update":
        return _card_rule(role, member_id, args, state)
    return None


def _card_rule(role: str, member_id: str | None, args: Mapping, state: State) -> str | None:
    """A card is changed by its author; the facilitator may also change it once cards are shared (to tidy
    columns in the group phase). A card that does not exist (yet) is the reducer's to refuse."""
    retro = state.retros.get(args.get("retro_id")) if isinstance(args.get("retro_id"), str) else None
    card = q.card(retro, args.get("id")) if retro is not None else None
    if card is None or card.author == member_id:
        return None
    if role == FACILITATOR and retro.phase not in q.PRIVATE_PHASES:
        return None
    return "Only its author can change a card."
