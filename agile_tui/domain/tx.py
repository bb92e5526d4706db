"""A transaction over a State: handlers read and write entities through it, and it remembers each
entity's prior value, which is what undo restores."""

from __future__ import annotations

import dataclasses
from typing import Any

from .errors import UnknownEntity
from .model import COLLECTIONS, Room, State

_WHAT = {
    "members": "member",
    "sprints": "sprint",
    "items": "item",
    "blockers": "blocker",
    "standups": "standup",
    "metrics": "metric",
    "samples": "sample",
    "retros": "retro",
}


class Tx:
    def __init__(self, state: State) -> None:
        self.state = state
        self.room: Room = state.room
        self._room_prior: dict | None = None
        self._copies: dict[str, dict] = {}
        self.prior: dict[str, dict[str, dict | None]] = {}

    def all(self, coll: str):
        table = self._copies.get(coll)
        return table if table is not None else getattr(self.state, coll)

    def get(self, coll: str, key: str | None):
        if key is None:
            return None
        return self.all(coll).get(key)

    def require(self, coll: str, key: Any):
        entity = self.get(coll, key) if isinstance(key, str) else None
        if entity is None:
            raise UnknownEntity(f"There is no {_WHAT[coll]} with id {key!r}.")
        return entity

    def _writable(self, coll: str, key: str) -> dict:
        table = self._copies.get(coll)
        if table is None:
            table = dict(getattr(self.state, coll))
            self._copies[coll] = table
        seen = self.prior.setdefault(coll, {})
        if key not in seen:
            old = table.get(key)
            seen[key] = old.to_dict() if old is not None else None
        return table

    def put(self, coll: str, entity) -> None:
        self._writable(coll, entity.id)[entity.id] = entity

    def update(self, coll: str, key: str, **changes):
        entity = dataclasses.replace(self.require(coll, key), **changes)
        self.put(coll, entity)
        return entity

    def delete(self, coll: str, key: str) -> None:
        self._writable(coll, key).pop(key, None)

    def set_room(self, room: Room) -> None:
        if self._room_prior is None:
            self._room_prior = self.room.to_dict()
        self.room = room

    def restore(self, snapshot: dict) -> None:
        """Put entities back as recorded in an inverse (see ``inverse``)."""
        if snapshot.get("room") is not None:
            self.set_room(Room.from_dict(snapshot["room"]))
        for coll, entries in snapshot.get("entities", {}).items():
            kind = COLLECTIONS[coll]
            for key, data in entries.items():
                if data is None:
                    self.delete(coll, key)
                else:
                    self.put(coll, kind.from_dict(data))

    def inverse(self) -> dict:
        """What restores the state as it was before this transaction."""
        return {"room": self._room_prior, "entities": {c: dict(e) for c, e in self.prior.items()}}

    def after(self) -> dict:
        """The values this transaction leaves, for checking later that nobody changed them since."""
        entities = {}
        for coll, keys in self.prior.items():
            table = self.all(coll)
            entities[coll] = {k: (table[k].to_dict() if k in table else None) for k in keys}
        return {"room": self.room.to_dict() if self._room_prior is not None else None, "entities": entities}

    def changed_since(self, after: dict | None) -> bool:
        """Whether any entity differs from the values recorded in ``after``."""
        if not after:
            return False
        if after.get("room") is not None and self.room.to_dict() != after["room"]:
            return True
        for coll, entries in after.get("entities", {}).items():
            table = self.all(coll)
            for key, data in entries.items():
                current = table.get(key)
                if (current.to_dict() if current is not None else None) != data:
                    return True
        return False

    def touched(self) -> dict[str, set[str]]:
        return {coll: set(keys) for coll, keys in self.prior.items()}

    @property
    def changed(self) -> bool:
        return bool(self.prior) or self._room_prior is not None

    def commit(self, **extra: Any) -> State:
        changes: dict[str, Any] = dict(self._copies)
        if self._room_prior is not None:
            changes["room"] = self.room
        changes.update(extra)
        return dataclasses.replace(self.state, **changes) if changes else self.state
