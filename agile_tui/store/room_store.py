"""A room on disk: a TinyDB snapshot, an append-only journal of the ops since, and a lock.

Every op the app applies is made durable by ``append`` (one fsynced line, O(1)); ``compact`` folds the
journal into a new snapshot, in the background, atomically. Loading never refuses to open a room: damaged
files are kept aside untouched and ``problems`` says what happened, in words a user can act on.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from ..domain import SCHEMA_VERSION, Op, OpRejected, State, apply
from .fsutil import atomic_write_bytes, keep_copy, move_aside, remove_stale_temps
from .journal import Journal, JournalScan, scan_journal
from .lock import RoomLock
from .paths import RoomFiles, room_files
from .snapshot import SnapshotUnreadable, read_snapshot, write_snapshot

COMPACT_AFTER = 500  # journal lines beyond the snapshot before ``should_compact()`` says so


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass
class _Loaded:
    state: State
    seq: int
    snapshot_seq: int
    scan: JournalScan
    problems: list[str] = field(default_factory=list)
    recovered: bool = False  # files were set aside: write a fresh snapshot at once


def _replay(state: State, scan: JournalScan, after: int) -> tuple[State, int, list[str]]:
    applied, refused = 0, []
    for seq, data in scan.entries:
        if seq <= after:
            continue
        try:
            state = apply(state, Op.from_dict(data))
            applied += 1
        except OpRejected as exc:
            refused.append(exc.reason)
        # A malformed op that trips the reducer must not stop the room from opening.
        except Exception as exc:  # noqa: BLE001
            refused.append(f"{type(exc).__name__}: {exc}")
    return state, applied, refused


def _load(files: RoomFiles, writable: bool) -> _Loaded:
    """Read snapshot + journal. With ``writable`` (the lock is held) damaged files are set aside."""
    problems: list[str] = []
    recovered = False
    # The journal first, then the snapshot: a reader without the lock may race the owner's compactions
    # (new snapshot at seq k, then the journal cut to the lines after k). Read in this order, the snapshot
    # is never older than the start of the journal, so the pair is always a complete prefix of the ops.
    scan = scan_journal(files.journal)
    snap_problem = None
    try:
        snapshot = read_snapshot(files.snapshot)
    except SnapshotUnreadable as exc:
        snapshot, snap_problem = None, exc.reason
    state = snapshot.state if snapshot else State()
    snap_seq = snapshot.seq if snapshot else 0

    if snapshot and snapshot.migrated_from is not None:
        problems.append(
            f"The room file {files.snapshot} was in an older format (version {snapshot.migrated_from}) and "
            f"was upgraded to version {SCHEMA_VERSION}; it will be saved in the new format."
        )

    if scan.bad_line is not None:
        good = len(scan.entries)
        what = (f"the {_plural(good, 'change')} before that line were loaded; the lines from there on "
                "could not be read")
        if writable:
            aside = keep_copy(files.journal)
            atomic_write_bytes(files.journal, files.journal.read_bytes()[: scan.good_end])
            scan.size = scan.good_end
            problems.append(
                f"The change journal {files.journal} is damaged at line {scan.bad_line} ({scan.bad_reason}). "
                f"It was kept unchanged as {aside}; {what}."
            )
            recovered = True
        else:
            problems.append(f"The change journal {files.journal} is damaged at line {scan.bad_line} "
                            f"({scan.bad_reason}); {what}.")

    if snapshot and scan.entries and scan.entries[0][0] > snap_seq + 1 and scan.entries[-1][0] > snap_seq:
        problems.append(
            f"The change journal {files.journal} starts at change {scan.entries[0][0]}, but the saved room "
            f"ends at change {snap_seq}: the changes in between are missing."
        )

    state, applied, refused = _replay(state, scan, snap_seq)
    seq = max(snap_seq, scan.last_seq)

    if snap_problem is not None:
        rebuilt = (f"The room was rebuilt from the change journal: {_plural(applied, 'change')} applied"
                   + (f", {len(refused)} could not be applied" if refused else "") + ".")
        if not scan.entries:
            rebuilt = "The journal holds no changes, so the room starts empty."
        if writable:
            aside = move_aside(files.snapshot)
            problems.append(f"The saved room {files.snapshot} could not be read: {snap_problem}. "
                            f"It was kept unchanged as {aside}. {rebuilt}")
            recovered = True
        else:
            problems.append(f"The saved room {files.snapshot} could not be read: {snap_problem}. {rebuilt}")

    if refused:
        first = refused[0]
        message = (f"{_plural(len(refused), 'saved change')} could not be applied and "
                   f"{'was' if len(refused) == 1 else 'were'} skipped (first: {first})")
        if writable:
            aside = keep_copy(files.journal, "unapplied")
            message += f". The journal holding them was kept as {aside}"
            recovered = True
        problems.append(message + ".")

    return _Loaded(state=state, seq=seq, snapshot_seq=snap_seq, scan=scan, problems=problems,
                   recovered=recovered)


def load_readonly(data_dir: str | Path, room: str) -> tuple[State, int, list[str]]:
    """The room as saved, including every op already appended by a process that has it open.

    Takes no lock and creates, changes or moves no file (for ``agile-tui export`` while the app runs).
    Raises FileNotFoundError when there is no such room."""
    files = room_files(data_dir, room)
    if not files.snapshot.exists() and not files.journal.exists():
        raise FileNotFoundError(f"There is no room {room!r} in {files.folder}.")
    loaded = _load(files, writable=False)
    return loaded.state, loaded.seq, loaded.problems


class RoomStore:
    """The owner's handle on a room. Open with ``RoomStore.open(data_dir, room)``.

    ``append``, ``commit`` and ``compact`` are thread-safe; the app appends from one writer thread and
    compacts from a background thread."""

    def __init__(self, files: RoomFiles, lock: RoomLock, journal: Journal, loaded: _Loaded,
                 compact_after: int) -> None:
        self.files = files
        self.problems: list[str] = loaded.problems
        self.compact_after = compact_after
        self._lock_file = lock
        self._journal = journal
        self._state = loaded.state
        self._seq = loaded.seq
        self._state_seq = loaded.seq  # the seq that ``_state`` includes
        self._snapshot_seq = loaded.snapshot_seq
        self._lock = threading.RLock()
        self._compact_lock = threading.RLock()  # one compaction at a time; ``close`` holds it too
        self._closed = False

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, data_dir: str | Path, room: str, *, compact_after: int = COMPACT_AFTER) -> RoomStore:
        """Lock and load a room (a new room is created empty). Raises ``RoomLocked`` at once when another
        process has it open, ``ValueError`` for an invalid room name; any damage is in ``problems``."""
        files = room_files(data_dir, room)
        files.folder.mkdir(parents=True, exist_ok=True)
        lock = RoomLock.acquire(room, files.lock)
        try:
            remove_stale_temps(files.snapshot)
            remove_stale_temps(files.journal)
            loaded = _load(files, writable=True)
            store = cls(files, lock, Journal(files.journal, loaded.scan), loaded, compact_after)
        except BaseException:
            lock.release()
            raise
        if loaded.recovered:
            try:
                store._compact(store._state, store._seq, force=True)
            except OSError as exc:
                store.problems.append(f"The repaired room could not be saved yet ({exc}); "
                                      "the app keeps working and will try again.")
        return store

    # ------------------------------------------------------------------ reading

    @property
    def room(self) -> str:
        return self.files.room

    @property
    def folder(self) -> Path:
        """The folder holding this room's files."""
        return self.files.folder

    @property
    def state(self) -> State:
        """The state as loaded, or as last given to ``append(op, state=...)`` / ``commit``."""
        return self._state

    @property
    def seq(self) -> int:
        """The seq of the last op saved (the number of ops applied to this room)."""
        return self._seq

    @property
    def snapshot_seq(self) -> int:
        return self._snapshot_seq

    @property
    def closed(self) -> bool:
        return self._closed

    def should_compact(self) -> bool:
        return self._seq - self._snapshot_seq > self.compact_after

    # ------------------------------------------------------------------ writing

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"Room {self.room!r} is closed.")

    def append(self, op: Op | Mapping[str, Any], state: State | None = None) -> int:
        """Durably save an op that has already been applied; returns its seq. When ``state`` (the state
        after this op) is given, the store remembers it for ``compact()`` and ``close()``."""
        data = op.to_dict() if isinstance(op, Op) else dict(op)
        if not isinstance(data.get("type"), str):
            raise ValueError("An op needs a type.")  # noqa: TRY004 - a missing field, not a wrong argument
        with self._lock:
            self._check_open()
            seq = self._seq + 1
            self._journal.append(seq, data)
            self._seq = seq
            if state is not None:
                self._state, self._state_seq = state, seq
            return seq

    def commit(self, op: Op) -> State:
        """Apply ``op`` to ``state`` and save it; returns the new state. Raises ``OpRejected`` (nothing is
        saved) when the reducer refuses it. For scripts and tests; the app applies ops itself and calls
        ``append(op, state=...)`` from its writer thread."""
        with self._lock:
            self._check_open()
            if self._state_seq != self._seq:
                raise RuntimeError("store.state is behind the journal: ops were appended without a state.")
            state = apply(self._state, op)
            if state is not self._state:  # an op that changes nothing is not saved
                self.append(op, state=state)
            return state

    def compact(self, state: State | None = None, seq: int | None = None) -> bool:
        """Fold the journal into a new snapshot of ``state`` as of ``seq``.

        Without arguments: the last state given to ``append``/``commit``. With ``state`` only, it must
        include every op appended so far (call it from the writer thread, or pass the matching ``seq``).
        Returns False when there was nothing to do."""
        with self._lock:
            self._check_open()
            if state is None:
                state, seq = self._state, self._state_seq
            elif seq is None:
                seq = self._seq
        return self._compact(state, seq, force=False)

    def _compact(self, state: State, seq: int, force: bool) -> bool:
        with self._compact_lock:
            self._check_open()
            if not 0 <= seq <= self._seq:
                raise ValueError(f"Cannot snapshot change {seq}: only {self._seq} changes exist.")
            if seq <= self._snapshot_seq and not force:
                return False
            # Slow part (encoding + writing the whole room) runs without blocking appends.
            write_snapshot(self.files.snapshot, state, seq, self.room)
            self._journal.drop_through(seq)
            self._snapshot_seq = seq
            return True

    def close(self, state: State | None = None, seq: int | None = None) -> None:
        """Compact (with the given or the last known state) and release the room. Idempotent."""
        with self._compact_lock:  # waits for a background compaction, and keeps new ones out
            if self._closed:
                return
            try:
                if state is not None or self._state_seq > self._snapshot_seq:
                    self.compact(state, seq)
            finally:
                with self._lock:
                    self._closed = True
                    self._journal.close()
                    self._lock_file.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RoomStore({self.room!r}, seq={self._seq}, snapshot_seq={self._snapshot_seq})"
