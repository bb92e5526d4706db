"""The append-only journal: one JSON line per op, ``{"seq": n, "op": {...}}``, each made durable by
``write`` + ``fsync`` before the op counts as saved. Appending costs the same at 10 or 50,000 items."""

from __future__ import annotations

import json
import os
import threading
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .fsutil import fsync_dir, temp_fd, write_all


@dataclass
class JournalScan:
    """What a journal file holds. ``ends[i]`` is the byte offset just after the line of ``entries[i]``."""

    entries: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    good_end: int = 0  # where the last good line ends; everything after it is ignored
    size: int = 0
    torn_tail: bool = False  # an incomplete or unreadable last line (never acknowledged): ignored silently
    bad_line: int | None = None  # 1-based number of a damaged line followed by more lines
    bad_reason: str = ""

    @property
    def seqs(self) -> list[int]:
        return [seq for seq, _ in self.entries]

    @property
    def last_seq(self) -> int:
        return self.entries[-1][0] if self.entries else 0


class BadLine(ValueError):
    """A journal line that is not ``{"seq": n, "op": {...}}`` with n increasing."""


def _parse_line(raw: bytes, prev_seq: int) -> tuple[int, dict[str, Any]]:
    record = json.loads(raw.decode("utf-8"))
    if not isinstance(record, dict):
        raise BadLine("not a JSON object")
    seq, op = record.get("seq"), record.get("op")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise BadLine("no valid seq")
    if seq <= prev_seq:
        raise BadLine(f"seq {seq} does not follow {prev_seq}")
    if not isinstance(op, dict) or not isinstance(op.get("type"), str):
        raise BadLine("no valid op")
    return seq, op


def scan_journal(path: Path) -> JournalScan:
    """Read a journal without changing it. A missing file is an empty journal."""
    scan = JournalScan()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return scan
    scan.size = len(data)
    pos, line_no, prev = 0, 0, 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl + 1
        raw = data[pos:end]
        line_no += 1
        if raw.strip():
            try:
                if nl < 0:
                    raise BadLine("no end of line")
                seq, op = _parse_line(raw, prev)
            except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
                if data[end:].strip():
                    scan.bad_line, scan.bad_reason = line_no, str(exc)
                else:
                    scan.torn_tail = True
                return scan
            scan.entries.append((seq, op))
            scan.ends.append(end)
            prev = seq
        scan.good_end = end
        pos = end
    return scan


def encode_entry(seq: int, op: Mapping[str, Any]) -> bytes:
    # ensure_ascii: a lone surrogate pasted into a text field still encodes (and round-trips).
    return json.dumps({"seq": seq, "op": op}, separators=(",", ":")).encode("ascii") + b"\n"


class Journal:
    """The owner's append handle on a journal file. Thread-safe; one instance per room per process."""

    def __init__(self, path: Path, scan: JournalScan) -> None:
        """Open for appending after ``scan`` (which must describe the file as it is now)."""
        self.path = path
        self._lock = threading.Lock()
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        self._seqs = [seq for seq, _ in scan.entries]
        self._ends = list(scan.ends)
        self._size = os.fstat(self._fd).st_size
        if self._size != scan.good_end:  # a torn last line: cut it off before anything follows it
            os.ftruncate(self._fd, scan.good_end)
            os.fsync(self._fd)
            self._size = scan.good_end
        if not scan.entries:
            fsync_dir(path.parent)  # the file may be new

    @property
    def last_seq(self) -> int:
        return self._seqs[-1] if self._seqs else 0

    @property
    def lines(self) -> int:
        return len(self._seqs)

    def append(self, seq: int, op: Mapping[str, Any]) -> None:
        """Write one line and fsync it. Afterwards the op survives a crash."""
        line = encode_entry(seq, op)
        with self._lock:
            if self._fd is None:
                raise ValueError("The journal is closed.")
            if self._seqs and seq <= self._seqs[-1]:
                raise ValueError(f"seq {seq} does not follow {self._seqs[-1]}")
            try:
                write_all(self._fd, line)
                os.fsync(self._fd)
            except BaseException:
                try:  # never leave half a line that a later line would follow
                    os.ftruncate(self._fd, self._size)
                except OSError:
                    pass
                raise
            self._size += len(line)
            self._seqs.append(seq)
            self._ends.append(self._size)

    def drop_through(self, seq: int) -> None:
        """Atomically replace the journal by the lines newer than ``seq`` (their snapshot is durable)."""
        with self._lock:
            if self._fd is None:
                raise ValueError("The journal is closed.")
            keep_from = bisect_right(self._seqs, seq)
            start = self._ends[keep_from - 1] if keep_from else 0
            tail = os.pread(self._fd, self._size - start, start) if self._size > start else b""
            fd, tmp = temp_fd(self.path)
            try:
                write_all(fd, tail)
                os.fsync(fd)
                os.replace(tmp, self.path)
            except BaseException:
                os.close(fd)
                tmp.unlink(missing_ok=True)
                raise
            # From here the temp file *is* the journal. Appends must not be acknowledged before the rename
            # is durable, so the folder is synced while the lock is held.
            fsync_dir(self.path.parent)
            flags = os.O_RDWR | os.O_APPEND
            new_fd = os.open(self.path, flags)
            os.close(fd)
            old, self._fd = self._fd, new_fd
            os.close(old)
            self._seqs = self._seqs[keep_from:]
            self._ends = [end - start for end in self._ends[keep_from:]]
            self._size = len(tail)

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, None
            if fd is not None:
                os.close(fd)
