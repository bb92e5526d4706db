"""Tokens and roles.

A participant token is ``<participant id>.<secret>``; the hub keeps only the secret's SHA-256 (the secret is 32
random bytes, so a fast hash is enough: there is nothing to guess) and compares with ``hmac.compare_digest``.
An invite token is a bare secret, kept the same way. What each role may do is the domain's (domain/roles.py):
the client asks the same questions to hide what a role cannot do.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from ..domain.model import State
from ..domain.roles import FACILITATOR, FACILITATOR_ONLY, FOR_A_MEMBER, METRICS, PARTICIPANT
from ..domain.roles import forbidden as role_forbidden

__all__ = ["FACILITATOR", "FACILITATOR_ONLY", "FOR_A_MEMBER", "METRICS", "PARTICIPANT", "Participant", "bearer",
           "digest", "forbidden", "new_secret", "same", "split_token"]


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
    return role_forbidden(who.role, who.member_id, op_type, args, state)
