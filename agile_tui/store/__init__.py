"""Local storage of rooms: a TinyDB snapshot plus an fsynced journal per room, owned by one process.

No UI imports here (the app runs ``append`` on a writer thread and ``compact`` in the background)."""

from .lock import RoomLocked
from .paths import list_rooms, room_files, room_path, validate_room_name
from .room_store import COMPACT_AFTER, RoomStore, load_readonly
from .snapshot import MIGRATIONS, AtomicJSONStorage, SnapshotUnreadable

__all__ = [
    "COMPACT_AFTER", "MIGRATIONS", "AtomicJSONStorage", "RoomLocked", "RoomStore", "SnapshotUnreadable",
    "list_rooms", "load_readonly", "room_files", "room_path", "validate_room_name",
]
