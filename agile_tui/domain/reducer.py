"""The one reducer: ``apply(state, op) -> state``. It is the only code that changes a room.

An invalid op raises an ``OpRejected`` subclass that says why, and the state is untouched (states are
immutable values, so there is nothing to roll back).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from . import integrity
from .errors import InvalidArgs, NothingToUndo, RuleViolation, UnknownOpType
from .model import State
from .ops import OP_TYPES, Op
from .tx import Tx

Handler = Callable[[Tx, Mapping, Op], None]
HANDLERS: dict[str, Handler] = {}
UNDO_DEPTH = 100
# Ops that are part of the room's history but not something a person takes back with `u`.
NOT_UNDOABLE = {"undo", "redo", "room.setup", "standup.record", "standup.start", "standup.turn",
                "standup.timer", "standup.end", "standup.note", "standup.park",
                "retro.phase", "retro.timer", "retro.ready", "retro.reveal", "retro.discuss"}
# Actors that are not people (the demo seed): their ops keep no undo history.
SYSTEM_ACTORS = {"seed"}


def handles(op_type: str) -> Callable[[Handler], Handler]:
    if op_type not in OP_TYPES:  # pragma: no cover - a programming error
        raise ValueError(f"{op_type} is not in OP_TYPES")

    def register(fn: Handler) -> Handler:
        HANDLERS[op_type] = fn
        return fn

    return register


def apply(state: State, op: Op) -> State:
    if op.type == "undo":
        return _undo(state, op.actor)
    if op.type == "redo":
        return _redo(state, op.actor)
    handler = HANDLERS.get(op.type)
    if handler is None and op.type in OP_TYPES:
        _load_all()
        handler = HANDLERS.get(op.type)
    if handler is None:
        raise UnknownOpType(f"Unknown change {op.type!r}: this version of agile-tui cannot apply it.")
    if not isinstance(op.args, Mapping):
        raise InvalidArgs("The change's arguments must be a mapping.")
    tx = Tx(state)
    handler(tx, op.args, op)
    if not tx.changed:
        return state
    if op.type in NOT_UNDOABLE or op.actor in SYSTEM_ACTORS:
        return tx.commit()
    entry = {"label": describe(op, state), "type": op.type, **tx.inverse(), "after": tx.after()}
    undo = dict(state.undo)
    undo[op.actor] = (*state.undo.get(op.actor, ())[-(UNDO_DEPTH - 1):], entry)
    redo = dict(state.redo)
    redo.pop(op.actor, None)
    return tx.commit(undo=undo, redo=redo)


def _undo(state: State, actor: str) -> State:
    return _take_back(state, actor, "undo", "redo")


def _redo(state: State, actor: str) -> State:
    return _take_back(state, actor, "redo", "undo")


def _take_back(state: State, actor: str, source: str, target: str) -> State:
    """Undo (or redo) the actor's newest entry: put its entities back, unless someone changed them since or
    putting them back would leave the room inconsistent. A refusal leaves the entry where it is."""
    stack = getattr(state, source).get(actor, ())
    if not stack:
        raise NothingToUndo(f"Nothing to {source}.")
    entry = stack[-1]
    label = entry.get("label", "")
    kind = {"type": entry["type"]} if "type" in entry else {}
    tx = Tx(state)
    if tx.changed_since(entry.get("after")):
        raise RuleViolation(f"Can't {source} {label!r}: someone else has changed it since.")
    tx.restore(entry)
    restored = tx.commit()
    if reason := integrity.problem(restored, tx.touched()):
        raise RuleViolation(f"Can't {source} {label!r}: {reason}.")
    stacks = {source: dict(getattr(state, source)), target: dict(getattr(state, target))}
    stacks[source][actor] = stack[:-1]
    stacks[target][actor] = (*getattr(state, target).get(actor, ())[-(UNDO_DEPTH - 1):],
                             {"label": label, **kind, **tx.inverse(), "after": tx.after()})
    return tx.commit(**stacks)


VERBS = {"item.add": "add", "item.update": "change", "item.delete": "delete", "sprint.create": "create",
         "sprint.update": "change", "sprint.start": "start", "sprint.close": "close", "member.add": "add",
         "member.update": "change"}


def describe(op: Op, state: State | None = None) -> str:
    """A short label for an op, shown as "Undid: …" (names the thing it changed)."""
    args = op.args
    if op.type == "metric.sample" and state is not None:
        metric = state.metrics.get(args.get("metric_id"))
        return f"a sample of {metric.name if metric else 'a metric'} ({args.get('value')})"[:80]
    title = args.get("title") or args.get("name") or args.get("text") or ""
    if not title and state is not None and isinstance(args.get("id"), str):
        coll = op.type.split(".")[0] + "s"
        entity = getattr(state, coll, {}).get(args["id"]) if hasattr(state, coll) else None
        title = getattr(entity, "title", None) or getattr(entity, "name", None) or ""
    if op.type in VERBS:
        return f"{VERBS[op.type]} {title!s}"[:80].strip()
    verb = op.type.replace(".", " ")
    return f"{verb} {title!s}"[:80].strip()


def apply_all(state: State, ops) -> State:
    for op in ops:
        state = apply(state, op)
    return state


# Handlers register themselves on import. Planning's are loaded now; the other rituals' on the first op that
# needs them (opening a room then imports only what its journal uses: a quicker first paint).
from . import planning_ops as _planning_ops  # noqa: E402,F401

_LATER = ("ritual_ops", "standup_ops", "retro_ops", "retro_board_ops", "retro_action_ops")


def _load_all() -> None:
    from importlib import import_module

    for name in _LATER:
        import_module(f"{__package__}.{name}")
