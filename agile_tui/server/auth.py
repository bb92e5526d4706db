"""Tokens and roles.

A participant token is ``<participant id>.<secret>``; the hub keeps only the secret's SHA-256 (the secret is 32
random bytes, so a fast hash is enough: there is nothing to guess) and compares with ``hmac.compare_digest``.
An invite token is a bare secret, kept the same way. Roles:

- ``facilitator``: runs the flow (the op types in ``FACILITATOR_ONLY``), may act for another member (a card,
  a vote, a tick, a standup note typed for them), and may hand the role over. One per room.
- ``participant``: edits items, sprints, blockers and metrics, writes their own cards and standup notes,
  votes and ticks for themselves, adds samples and parking-lot topics, groups cards, takes notes, undoes their
  own changes.
- ``metrics``: a token for a script or a CRM hook; it may only post metric samples.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from ..domain import retro as q
from ..domain.model import State

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


@dataclass(frozen=True)
class Participant:
    room: str
    id: str
    member_id: str | None  # None for a metrics token
    name: str
    role: str

    @property
    def actor(self) -> str:
        """The actor of this participant's ops: their member id (a metrics token: ``metrics``)."""
        return self.member_id or METRICS

    @property
    def facilitator(self) -> bool:
        return self.role == FACILITATOR


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def same(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_hash)


def split_token(token: str) -> tuple[str, str] | None:
    """``<participant id>.<secret>`` -> (id, secret), or None when it is not shaped like one."""
    pid, dot, secret = token.partition(".")
    if not dot or not pid or not secret or len(token) > 200:
        return None
    return pid, secret


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def forbidden(who: Participant, op_type: str, args: Mapping, state: State) -> str | None:
    """Why ``who`` may not do this op (a reason for a 403), or None when the role allows it."""
    if who.role == METRICS:
        return "A metrics token may only post metric samples."
    if who.facilitator:
        return _card_rule(who, op_type, args, state) if op_type == "retro.card_update" else None
    if op_type in FACILITATOR_ONLY:
        return f"Only the facilitator can do {op_type!r}; ask them, or ask for the facilitator role."
    if op_type in FOR_A_MEMBER:
        member = args.get("member_id")
        if member not in (None, "", who.member_id):
            return "Only the facilitator can act for another member."
    if op_type == "retro.card_update":
        return _card_rule(who, op_type, args, state)
    return None


def _card_rule(who: Participant, op_type: str, args: Mapping, state: State) -> str | None:
    """A card is changed by its author; the facilitator may also change it once cards are shared (to tidy
    columns in the group phase). A card that does not exist (yet) is the reducer's to refuse."""
    retro = state.retros.get(args.get("retro_id")) if isinstance(args.get("retro_id"), str) else None
    card = q.card(retro, args.get("id")) if retro is not None else None
    if card is None or card.author == who.member_id:
        return None
    if who.facilitator and retro.phase not in q.PRIVATE_PHASES:
        return None
    return "Only its author can change a card."
