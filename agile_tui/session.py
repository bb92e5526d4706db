"""The op pipeline of one open room: op -> reducer -> store (on a writer thread) -> saved.

The UI calls ``submit``; the reducer runs at once (so the screen updates on the same key press) and the
op is queued for a durable append on the writer thread. ``on_saved`` is called from that thread only
after the op is on disk, which is when the UI may say "saved".
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .domain import Clock, Op, State, SystemClock, apply, make_op

RETRY_SECONDS = 2.0


@dataclass(frozen=True)
class SaveReport:
    seq: int  # ops on disk
    pending: int  # ops still waiting for the disk
    error: str | None = None


class RoomSession:
    def __init__(self, store, clock: Clock | None = None, actor: str = "local",
                 on_saved: Callable[[SaveReport], None] | None = None) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.actor = actor
        self.state: State = store.state
        self.on_saved = on_saved
        self._queue: queue.Queue[tuple[Op, State] | None] = queue.Queue()
        self._pending = 0
        self._lock = threading.Lock()
        self._writer = threading.Thread(target=self._write_loop, name="agile-tui-writer", daemon=True)
        self._writer.start()
        self.last_error: str | None = None
        self._compactor: threading.Thread | None = None

    # ------------------------------------------------------------------ the UI side

    def op(self, type: str, **args: Any) -> Op:
        return make_op(type, self.clock, actor=self.actor, **args)

    def submit(self, type: str, **args: Any) -> State:
        """Apply an op now and queue it for the disk. Raises OpRejected (state untouched) when invalid."""
        return self.submit_op(self.op(type, **args))

    def submit_op(self, op: Op) -> State:
        new = apply(self.state, op)
        if new is self.state:
            return new
        self.state = new
        with self._lock:
            self._pending += 1
        self._queue.put((op, new))
        return new

    @property
    def pending(self) -> int:
        return self._pending

    def flush(self) -> None:
        """Wait until every submitted op is on disk."""
        self._queue.join()

    def close(self) -> None:
        """Write what is pending, fold the journal into the snapshot, and release the room."""
        self._queue.put(None)
        self._writer.join()
        if self._compactor is not None:
            self._compactor.join()
        self.store.close(self.state)

    def _compact_in_background(self) -> None:
        """Fold the journal into the snapshot off the writer thread, so appends never wait for it."""
        if self._compactor is not None and self._compactor.is_alive():
            return

        def run() -> None:
            try:
                self.store.compact()
            except (OSError, ValueError) as exc:  # the journal still has every op; try again later
                self.last_error = f"Compaction postponed: {exc}"

        self._compactor = threading.Thread(target=run, name="agile-tui-compact", daemon=True)
        self._compactor.start()

    # ------------------------------------------------------------------ the writer thread

    def _write_loop(self) -> None:
        """Append ops in order. An op that cannot be written (disk full, folder gone) stays first in line
        and is tried again, with every later op behind it, until it is written: none is skipped, and the
        header keeps saying "not saved" until then."""
        waiting: deque[tuple[Op, State]] = deque()
        stopping = False
        while True:
            try:
                job = self._queue.get(timeout=RETRY_SECONDS if waiting else None)
                got_job = True
            except queue.Empty:
                job, got_job = None, False
            try:
                if got_job and job is None:
                    stopping = True
                elif job is not None:
                    waiting.append(job)
                error = None
                seq = getattr(self.store, "seq", 0)
                while waiting:
                    op, state = waiting[0]
                    try:
                        seq = self.store.append(op, state=state)
                    except Exception as exc:  # noqa: BLE001 - whatever it is, the op must not be lost
                        folder = getattr(self.store, "folder", "the data folder")
                        error = f"Could not save to {folder}: {exc}. Retrying; your changes are kept."
                        break
                    waiting.popleft()
                    with self._lock:
                        self._pending -= 1
                    if self.store.should_compact():
                        self._compact_in_background()
                self.last_error = error
                if self.on_saved is not None and (got_job or error is None):
                    self.on_saved(SaveReport(seq=seq, pending=self._pending, error=error))
            finally:
                if got_job:
                    self._queue.task_done()
            if stopping:
                return
