"""The snapshot: a TinyDB database file per room, written whole and atomically.

Layout (schema 1), readable with a plain ``TinyDB(path)``::

    {"meta":  {"1": {"schema": 1, "seq": 1234, "room": "demo"}},
     "state": {"1": <State.to_dict()>}}

``MIGRATIONS[n]`` turns the raw database of schema ``n`` into schema ``n + 1``; they run in order on load.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from ..domain import SCHEMA_VERSION, State
from ..domain.model import COLLECTIONS
from .fsutil import atomic_write_bytes

META, STATE, DOC = "meta", "state", "1"

# schema n -> a function from the raw database of schema n to the raw database of schema n + 1.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}

# A compaction runs in a background thread. Left alone it would hold the GIL for ~5 ms slices (the
# interpreter's switch interval) and every commit on the writer thread would wait that long each time it
# needs the GIL back after an fsync. So big collections are converted and encoded in chunks of this many
# entries, and the compacting thread offers the GIL to the others (``time.sleep(0)``) between chunks.
_CHUNK = 100
_DUMPS = json.JSONEncoder(separators=(",", ":")).encode


def _yield_gil() -> None:
    time.sleep(0)


def _encode_big(value: dict) -> str:
    keys = list(value)
    parts = []
    for i in range(0, len(keys), _CHUNK):
        parts.append(_DUMPS({k: value[k] for k in keys[i:i + _CHUNK]})[1:-1])
        _yield_gil()
    return "{" + ",".join(parts) + "}"


def _chunks(value: Any, depth: int) -> Iterator[str]:
    if not isinstance(value, dict) or depth > 3:
        yield _DUMPS(value)
        return
    if len(value) > _CHUNK:
        yield _encode_big(value)
        return
    yield "{"
    for n, (key, sub) in enumerate(value.items()):
        yield ("," if n else "") + _DUMPS(str(key)) + ":"
        yield from _chunks(sub, depth + 1)
    yield "}"


def encode(data: dict) -> bytes:
    """Compact JSON (ASCII) of a TinyDB database, equal to ``json.dumps(data)`` once parsed."""
    return "".join(_chunks(data, 0)).encode("ascii")


class AtomicJSONStorage(Storage):
    """A TinyDB storage that replaces the file atomically on every write (temp file, fsync, rename,
    fsync of the folder) and opens it only while reading or writing. Use it with ``TinyDB(path,
    storage=AtomicJSONStorage)``; never put ``CachingMiddleware`` in front of it."""

    def __init__(self, path: str | Path, **_: Any) -> None:
        super().__init__()
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.strip():
            return None
        return json.loads(raw.decode("utf-8"))

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        atomic_write_bytes(self.path, encode(data))


class SnapshotUnreadable(Exception):
    """The snapshot cannot be used; ``reason`` says why in a user's words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Snapshot:
    state: State
    seq: int
    migrated_from: int | None = None  # the schema it was upgraded from, if it was


def _single_doc(data: dict, table: str) -> dict:
    docs = data.get(table)
    if not isinstance(docs, dict) or len(docs) != 1:
        raise SnapshotUnreadable(f"its {table!r} table is missing or malformed")
    doc = next(iter(docs.values()))
    if not isinstance(doc, dict):
        raise SnapshotUnreadable(f"its {table!r} table is malformed")
    return doc


def _schema_of(data: dict) -> int:
    schema = _single_doc(data, META).get("schema")
    if isinstance(schema, bool) or not isinstance(schema, int):
        raise SnapshotUnreadable("it has no format version")
    return schema


def migrate(data: dict) -> tuple[dict, int | None]:
    """Bring a raw database up to ``SCHEMA_VERSION``; returns it and the schema it started from."""
    schema = _schema_of(data)
    if schema > SCHEMA_VERSION:
        raise SnapshotUnreadable(
            f"it was written by a newer agile-tui (format version {schema}; this one reads up to "
            f"{SCHEMA_VERSION}). Update agile-tui to open it"
        )
    start = schema
    while schema < SCHEMA_VERSION:
        step = MIGRATIONS.get(schema)
        if step is None:
            raise SnapshotUnreadable(f"its format version {schema} is too old and cannot be upgraded")
        try:
            data = step(data)
            _single_doc(data, META)["schema"] = schema + 1
        except SnapshotUnreadable:
            raise
        except Exception as exc:
            raise SnapshotUnreadable(f"upgrading it from format version {schema} failed ({exc})") from exc
        schema += 1
    return data, (start if start != SCHEMA_VERSION else None)


def read_snapshot(path: Path) -> Snapshot | None:
    """The snapshot at ``path`` (None when there is no file). Never modifies the file.

    Raises ``SnapshotUnreadable`` for anything that cannot be loaded: bad JSON, a wrong shape, a format
    version from a newer agile-tui, a failed upgrade."""
    try:
        data = AtomicJSONStorage(path).read()
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, ValueError) as exc:
        raise SnapshotUnreadable(f"it is not valid JSON ({exc})") from exc
    except OSError as exc:
        raise SnapshotUnreadable(f"it cannot be read ({exc.strerror or exc})") from exc
    if data is None:
        if path.exists():
            raise SnapshotUnreadable("it is empty")
        return None
    if not isinstance(data, dict):
        raise SnapshotUnreadable("it is not an agile-tui room file")
    data, migrated_from = migrate(data)
    seq = _single_doc(data, META).get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise SnapshotUnreadable("it has no valid change number")
    try:
        state = State.from_dict(_single_doc(data, STATE))
    except SnapshotUnreadable:
        raise
    except Exception as exc:  # a wrong shape surfaces as TypeError, AttributeError, ...
        raise SnapshotUnreadable(f"its room data is malformed ({type(exc).__name__}: {exc})") from exc
    return Snapshot(state=state, seq=seq, migrated_from=migrated_from)


def state_dict(state: State) -> dict[str, Any]:
    """``state.to_dict()``, built a chunk at a time (see ``_CHUNK``). The layout comes from the domain:
    ``to_dict`` of the state with its collections emptied, then each collection's entities."""
    emptied = {name: {} for name in COLLECTIONS if len(getattr(state, name)) > _CHUNK}
    if not emptied:
        return state.to_dict()
    out = dataclasses.replace(state, **emptied).to_dict()
    for name in emptied:
        entities = getattr(state, name)
        converted: dict[str, Any] = {}
        for n, (key, entity) in enumerate(entities.items(), 1):
            converted[key] = entity.to_dict()
            if n % _CHUNK == 0:
                _yield_gil()
        out[name] = converted
    return out


def snapshot_data(state: State, seq: int, room: str) -> dict[str, dict[str, Any]]:
    return {
        META: {DOC: {"schema": SCHEMA_VERSION, "seq": seq, "room": room}},
        STATE: {DOC: state_dict(state)},
    }


def write_snapshot(path: Path, state: State, seq: int, room: str) -> None:
    """Atomically replace the snapshot at ``path`` by ``state`` as of change ``seq``."""
    AtomicJSONStorage(path).write(snapshot_data(state, seq, room))
