"""The domain: entities, rules and the one reducer. Pure Python: no UI, storage or network imports."""

from .clock import Clock, FakeClock, SystemClock
from .errors import InvalidArgs, NothingToUndo, OpRejected, RuleViolation, UnknownEntity, UnknownOpType
from .model import SCHEMA_VERSION, State
from .ops import OP_TYPES, Op, make_op, new_id
from .reducer import apply, apply_all

__all__ = [
    "Clock", "FakeClock", "SystemClock", "InvalidArgs", "NothingToUndo", "OpRejected", "RuleViolation",
    "UnknownEntity", "UnknownOpType", "SCHEMA_VERSION", "State", "OP_TYPES", "Op", "make_op", "new_id",
    "apply", "apply_all",
]
