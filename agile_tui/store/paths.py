"""Where a room's files live, and which room names are allowed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOM_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
SNAPSHOT_SUFFIX = ".json"
JOURNAL_SUFFIX = ".journal"
LOCK_SUFFIX = ".lock"


def validate_room_name(room: str) -> str:
    """Return ``room`` if it is a valid room name, else raise ValueError saying what is allowed."""
    if not isinstance(room, str) or not ROOM_NAME.fullmatch(room):
        raise ValueError(
            f"{room!r} is not a valid room name: use 1 to 40 letters (a-z, A-Z), digits, '-' or '_'."
        )
    return room


def rooms_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / "rooms"


SHARED_DIR = "shared"  # <data>/shared/<room>/: a room linked to a hub (sync/local.py)
LINK_NAME = "link.json"


def shared_dir(data_dir: str | Path, room: str) -> Path:
    """The folder of a room shared with (or joined from) a hub, ``<data_dir>/shared/<room>``."""
    return Path(data_dir) / SHARED_DIR / validate_room_name(room)


def is_shared(data_dir: str | Path, room: str) -> bool:
    """Is this room linked to a hub (it then opens through the hub)?"""
    return bool(ROOM_NAME.fullmatch(room)) and (shared_dir(data_dir, room) / LINK_NAME).is_file()


def room_path(data_dir: str | Path, room: str) -> Path:
    """The room's snapshot file, ``<data_dir>/rooms/<room>.json`` (journal and lock sit next to it)."""
    return rooms_dir(data_dir) / (validate_room_name(room) + SNAPSHOT_SUFFIX)


@dataclass(frozen=True)
class RoomFiles:
    room: str
    snapshot: Path
    journal: Path
    lock: Path

    @property
    def folder(self) -> Path:
        return self.snapshot.parent


def room_files(data_dir: str | Path, room: str) -> RoomFiles:
    snapshot = room_path(data_dir, room)
    return RoomFiles(
        room=room,
        snapshot=snapshot,
        journal=snapshot.with_name(room + JOURNAL_SUFFIX),
        lock=snapshot.with_name(room + LOCK_SUFFIX),
    )


def list_rooms(data_dir: str | Path) -> list[str]:
    """Names of the rooms saved in ``data_dir``, most recently modified first."""
    folder = rooms_dir(data_dir)
    if not folder.is_dir():
        return []
    newest: dict[str, float] = {}
    for entry in folder.iterdir():
        if entry.suffix not in (SNAPSHOT_SUFFIX, JOURNAL_SUFFIX) or not ROOM_NAME.fullmatch(entry.stem):
            continue
        try:
            mtime = entry.stat().st_mtime
        except OSError:  # removed while we looked
            continue
        newest[entry.stem] = max(mtime, newest.get(entry.stem, mtime))
    return sorted(newest, key=lambda name: (-newest[name], name))
