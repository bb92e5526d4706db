"""Typed refusals of the reducer. Every refusal says why, in words a user can act on."""

from __future__ import annotations


class OpRejected(Exception):
    """An op was refused; the state is untouched. ``code`` is stable, ``reason`` is for people."""

    code = "rejected"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.reason


class UnknownOpType(OpRejected):
    code = "unknown_op"


class InvalidArgs(OpRejected):
    code = "invalid"


class UnknownEntity(OpRejected):
    code = "not_found"


class RuleViolation(OpRejected):
    code = "rule"


class NotReady(RuleViolation):
    """A phase would advance while people are not ready: ``waiting`` lists them (ids), so the UI can ask
    whether to advance anyway (the same op with ``force``)."""

    code = "not_ready"

    def __init__(self, reason: str, waiting: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.waiting = tuple(waiting)


class NothingToUndo(OpRejected):
    code = "nothing_to_undo"


class Forbidden(OpRejected):
    """A shared room's role does not allow this op (the hub would answer 403 with the same reason)."""

    code = "forbidden"
