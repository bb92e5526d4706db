"""One process owns a room: an exclusive, non-blocking ``flock`` on ``<room>.lock``.

The lock file holds who owns it (pid, host, command line, start time) so that a second agile-tui can say
which one to close. The lock is released by the kernel when the owner dies, so it never goes stale. The file
itself is never deleted (deleting a lock file lets two processes lock two different files of the same name).
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import socket
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any


class RoomLocked(Exception):
    """The room is open in another process. ``holder`` is what that process wrote (may be empty)."""

    def __init__(self, room: str, holder: dict[str, Any], lock_path: Path) -> None:
        self.room = room
        self.holder = holder
        self.lock_path = lock_path
        super().__init__(describe_holder(room, holder))


def describe_holder(room: str, holder: dict[str, Any]) -> str:
    details = []
    if holder.get("pid"):
        pid = f"pid {holder['pid']}"
        host = holder.get("host")
        if host and host != socket.gethostname():
            pid += f" on {host}"
        details.append(pid)
    if holder.get("cmd"):
        details.append(f"`{holder['cmd']}`")
    if holder.get("since"):
        details.append(f"since {_when(holder['since'])}")
    who = f" ({', '.join(details)})" if details else ""
    return (
        f"Room {room!r} is already open in another agile-tui{who}. "
        "Close that one first, or join it through a hub."
    )


def _when(since: str) -> str:
    try:
        moment = datetime.fromisoformat(since).astimezone()
    except (TypeError, ValueError):
        return str(since)
    if moment.date() == datetime.now().astimezone().date():
        return moment.strftime("%H:%M")
    return moment.strftime("%Y-%m-%d %H:%M")


def _command_line() -> str:
    argv = list(sys.argv)
    if not argv or argv[0] in ("", "-", "-c", "-m") or os.path.basename(argv[0]) == "__main__.py":
        # python -c / -m / stdin: show the interpreter call instead
        argv = list(getattr(sys, "orig_argv", argv)) or ["python"]
    argv[0] = os.path.basename(argv[0]) or "python"
    cmd = " ".join(shlex.join(argv).split())  # one line
    return cmd if len(cmd) <= 120 else cmd[:117] + "..."


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        raw = os.pread(fd, 4096, 0)
        data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class RoomLock:
    """An acquired lock; ``release()`` gives it back (the kernel also does, when the process dies)."""

    def __init__(self, room: str, path: Path, fd: int, info: dict[str, Any]) -> None:
        self.room = room
        self.path = path
        self.info = info
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, room: str, path: Path) -> RoomLock:
        """Take the lock or raise ``RoomLocked`` at once; never waits for the other process."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            deadline = time.monotonic() + 0.1
            while not holder and time.monotonic() < deadline:  # the holder may be writing its details now
                time.sleep(0.01)
                holder = _read_holder(fd)
            os.close(fd)
            raise RoomLocked(room, holder, path) from None
        except BaseException:
            os.close(fd)
            raise
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "cmd": _command_line(),
            "since": datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode("utf-8") + b"\n", 0)
        except BaseException:
            os.close(fd)
            raise
        return cls(room, path, fd, info)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        finally:
            os.close(fd)  # closing the last descriptor releases the flock
