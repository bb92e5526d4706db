"""A transaction over a State: handlers read and write entities through it, and it remembers each
entity's prior value, which is what undo restores.

A transaction copies a collection the first time it writes to it (states are values: the old one keeps its
mapping), which is O(size). The samples of a room grow by one at a time into the hundreds of thousands, so a
transaction that only *adds* samples does not copy them: the new state's mapping is an ``Appended``, which shares
the old mapping's entries and holds the new ones beside them (see there). Replacing or deleting a sample copies the
whole collection into a plain dict, as for every other collection.
"""

from __future__ import annotations

import dataclasses
from collections.abc import ItemsView, KeysView, Mapping, ValuesView
from itertools import chain
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


# Collections that grow by many small additions: a transaction that only adds to one extends it as an Appended.
APPENDED = frozenset({"samples"})
_MISSING = object()


class Appended(Mapping):
    """An immutable mapping: a shared ``base`` dict plus the entries ``added`` after it (keys not in ``base``),
    iterated in that order, as a dict that had them added would be. Equal to any mapping with the same items.

    Extending one (``Tx``) copies only ``added``; when that reaches ``added_limit(len(base))`` entries the next
    extension folds everything into a new base (one O(n) copy every few thousand additions at 200,000 samples).
    Neither dict is changed once the mapping is part of a state."""

    __slots__ = ("_base", "_added")

    def __init__(self, base: dict, added: dict) -> None:
        self._base = base
        self._added = added

    @staticmethod
    def added_limit(base_size: int) -> int:
        return max(1024, base_size // 32)

    @classmethod
    def extend(cls, mapping: Mapping) -> Appended:
        """A new Appended holding ``mapping``'s entries, whose ``_added`` the caller may fill before sharing it."""
        if isinstance(mapping, Appended):
            if len(mapping._added) < cls.added_limit(len(mapping._base)):
                return cls(mapping._base, dict(mapping._added))
            return cls(mapping.flat(), {})
        return cls(mapping if type(mapping) is dict else dict(mapping), {})

    def flat(self) -> dict:
        """A plain dict of the same entries, in the same order."""
        table = dict(self._base)
        table.update(self._added)
        return table

    def __getitem__(self, key):
        value = self._base.get(key, _MISSING)
        return self._added[key] if value is _MISSING else value

    def get(self, key, default=None):
        value = self._base.get(key, _MISSING)
        return self._added.get(key, default) if value is _MISSING else value

    def __contains__(self, key) -> bool:
        return key in self._base or key in self._added

    def __len__(self) -> int:
        return len(self._base) + len(self._added)

    def __iter__(self):
        return chain(self._base, self._added)

    def __reversed__(self):
        return chain(reversed(self._added), reversed(self._base))

    def keys(self):
        return _Keys(self)

    def values(self):
        return _Values(self)

    def items(self):
        return _Items(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Appended) and other._base is self._base:
            return self._added == other._added
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]  (like a dict)

    def __repr__(self) -> str:
        return f"Appended({len(self._base)} + {self._added!r})"


class _Keys(KeysView):
    __slots__ = ()

    def __iter__(self):
        return iter(self._mapping)  # type: ignore[attr-defined]


class _Values(ValuesView):
    __slots__ = ()

    def __iter__(self):
        mapping = self._mapping  # type: ignore[attr-defined]
        return chain(mapping._base.values(), mapping._added.values())


class _Items(ItemsView):
    __slots__ = ()

    def __iter__(self):
        mapping = self._mapping  # type: ignore[attr-defined]
        return chain(mapping._base.items(), mapping._added.items())


class Tx:
    def __init__(self, state: State) -> None:
        self.state = state
        self.room: Room = state.room
        self._room_prior: dict | None = None
        self._copies: dict[str, dict | Appended] = {}  # an Appended: only additions so far (APPENDED)
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
        if type(table) is not dict:  # not copied yet, or only added to so far
            current = self.all(coll)
            table = current.flat() if isinstance(current, Appended) else dict(current)
            self._copies[coll] = table
        self._remember(coll, key, table)
        return table

    def _remember(self, coll: str, key: str, table: Mapping) -> None:
        seen = self.prior.setdefault(coll, {})
        if key not in seen:
            old = table.get(key)
            seen[key] = old.to_dict() if old is not None else None

    def put(self, coll: str, entity) -> None:
        key = entity.id
        if coll in APPENDED:
            table = self._copies.get(coll)
            if type(table) is not dict and key not in self.all(coll):  # an addition: no copy of the collection
                if table is None:
                    table = self._copies[coll] = Appended.extend(getattr(self.state, coll))
                self._remember(coll, key, table)
                table._added[key] = entity
                return
        self._writable(coll, key)[key] = entity

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
