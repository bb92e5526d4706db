"""Checking a room shared with the hub: it must load as a State whose every field has its declared type, so
nothing later (the reducer, the views, the JSON) meets a list where it expects text. The undo history of the
sharing app is dropped: it is that app's own, and a shared room starts a new one."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from ..domain.model import COLLECTIONS, SCHEMA_VERSION, Entity, Room, State

MAX_STRING = 20_000
MAX_ID = 64


class BadState(ValueError):
    pass


def load_state(data: Any) -> State:
    if not isinstance(data, Mapping):
        raise BadState("The room must be a JSON object.")
    schema = data.get("schema", SCHEMA_VERSION)
    if schema != SCHEMA_VERSION:
        raise BadState(f"The room is in schema {schema!r}; this hub reads schema {SCHEMA_VERSION}.")
    room = data.get("room", {})
    if not isinstance(room, Mapping):
        raise BadState("room must be an object.")
    _check(Room.from_dict(room), "room")
    for name in COLLECTIONS:
        table = data.get(name, {})
        if not isinstance(table, Mapping):
            raise BadState(f"{name} must be an object of id -> entity.")
        for key, value in table.items():
            if not isinstance(value, Mapping):
                raise BadState(f"{name}.{key} must be an object.")
    try:
        state = State.from_dict({k: v for k, v in data.items() if k not in ("undo", "redo")})
    except (TypeError, ValueError, AttributeError) as error:
        raise BadState(f"The room does not load: {error}.") from None
    for name in COLLECTIONS:
        for key, entity in getattr(state, name).items():
            where = f"{name}.{key}"
            if not isinstance(key, str) or not key or len(key) > MAX_ID:
                raise BadState(f"{where}: an id is 1 to {MAX_ID} characters.")
            _check(entity, where)
            if entity.id != key:
                raise BadState(f"{where}: the entity's id is {entity.id!r}.")
    return state


def _check(entity: Entity, where: str) -> None:
    for f in fields(entity):  # type: ignore[arg-type]
        value = getattr(entity, f.name)
        if not _fits(value, str(f.type).replace(" ", "")):
            raise BadState(f"{where}.{f.name}: {value!r:.60} is not a {f.type}.")


def _fits(value: Any, kind: str) -> bool:
    if kind.endswith("|None"):
        return value is None or _fits(value, kind[:-5])
    if kind.startswith("tuple[") and kind.endswith(",...]"):
        inner = kind[6:-5]
        return isinstance(value, tuple) and all(_fits(v, inner) for v in value)
    if kind == "str":
        return isinstance(value, str) and len(value) <= MAX_STRING
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if isinstance(value, Entity) and type(value).__name__ == kind:
        try:
            _check(value, kind)
        except BadState:
            return False
        return True
    return False
