"""The op pipeline of a shared room: the same face as ``RoomSession`` (the app cannot tell them apart), plus
the hub.

An op is applied at once (``Replica.local``), then made durable in the outbox on the writer thread ("saved"
means on this disk), then sent by the sender thread; the hub answers with its seq (kept once, however often it
is sent) or a refusal, shown to the author and skipped. The stream thread follows the room's events (SSE),
resuming from the last seq it has; a gap or a refetch reloads the snapshot. Threads never touch the screen:
they call ``listener`` with a ``SyncNote``, which the app moves onto its own loop.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from ..domain import Clock, Op, State, SystemClock, make_op
from ..domain.errors import Forbidden
from ..domain.roles import PARTICIPANT, forbidden, may
from ..session import SaveReport
from .client import HubClient
from .following import Following
from .local import Confirmed, SharedFiles
from .notes import SAVE_EVERY, Connection, SyncNote
from .replica import Pending, Replica
from .sending import Sending


class SharedSession(Sending, Following):
    def __init__(self, files: SharedFiles, clock: Clock | None = None, client: HubClient | None = None,
                 on_saved: Callable[[SaveReport], None] | None = None, start: bool = True) -> None:
        self.files = files
        self.link = files.link
        self.clock = clock or SystemClock()
        self.on_saved = on_saved
        self.listener: Callable[[SyncNote], None] | None = None
        self.problems: list[str] = list(files.problems)
        self.last_error: str | None = None
        self.participants: list[dict[str, Any]] = []
        got = files.confirmed
        self.replica = Replica(got.state if got else State(), got.seq if got else 0, got.hidden if got else None,
                               files.pending)
        if got:
            self.participants = got.participants
        self._have_snapshot = got is not None
        self._refetch = False
        self._durable = max([p.ref for p in files.pending], default=0)
        self._lock = threading.RLock()
        self._save_lock = threading.Lock()
        self._unseen_lock = threading.Lock()
        self.unseen: list[SyncNote] = []  # refusals and messages the app has not shown yet
        self._refused: dict[str, int] = {}  # op_id -> outbox line of the ops the hub refused, until cut
        self.unsaved = 0  # after close: changes that could not be written to the outbox
        self._wake = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._queue: queue.Queue[Pending | None] = queue.Queue()
        self._local_pending = 0
        self._connection = Connection("connecting", len(self.replica.pending))
        self._stream_failures = 0
        self._failing_since: float | None = None
        self._last_save = 0.0
        self._dirty = False
        self._sender_client = client or HubClient(self.link.server, self.link.token)
        self._stream_client = HubClient(self.link.server, self.link.token)
        self._threads = [threading.Thread(target=self._write_loop, name="agile-tui-outbox", daemon=True),
                         threading.Thread(target=self._send_loop, name="agile-tui-send", daemon=True),
                         threading.Thread(target=self._stream_loop, name="agile-tui-stream", daemon=True)]
        if start:
            self.start()

    def start(self, follow: bool = True) -> None:
        """Start saving and sending; with ``follow``, also following the room's events (``follow()`` later
        otherwise: a test holds it back to make a change on an old copy)."""
        self._threads[0].start()
        self._threads[1].start()
        if follow:
            self.follow()

    def follow(self) -> None:
        if not self._threads[2].is_alive():
            self._threads[2].start()

    # ------------------------------------------------------------------ what the app sees

    @property
    def state(self) -> State:
        return self.replica.state

    @property
    def actor(self) -> str:
        return self.link.member_id

    @property
    def role(self) -> str:
        return self.link.role

    @property
    def shared(self) -> bool:
        return True

    @property
    def pending(self) -> int:
        return self._local_pending

    @property
    def connection(self) -> Connection:
        return self._connection

    @property
    def hidden(self) -> dict[str, Any]:
        return self.replica.hidden

    def may(self, op_type: str) -> bool:
        return may(self.link.role, op_type)


    # ------------------------------------------------------------------ the UI side

    def op(self, type: str, **args: Any) -> Op:
        return make_op(type, self.clock, actor=self.actor, **args)

    def submit(self, type: str, **args: Any) -> State:
        return self.submit_op(self.op(type, **args))

    def submit_op(self, op: Op) -> State:
        """Apply now, queue for the outbox. Raises OpRejected (nothing changes) when the reducer or the role
        refuses it."""
        if op.actor != self.actor:
            op = Op(op.type, op.args, self.actor, op.op_id, op.ts)  # the hub takes the actor from our token
        with self._lock:
            reason = forbidden(self.link.role, self.link.member_id, op.type, op.args, self.replica.state)
            if reason:
                raise Forbidden(reason)
            before = self.replica.state
            new = self.replica.local(op)
            if new is before:
                return new
            pending = self.replica.pending[-1]
            pending.ref = self.files.next_ref()
            self._local_pending += 1
            self._queue.put(pending)
            self._set_connection()
        return new

    def flush(self, timeout: float | None = None) -> bool:
        """Wait (up to ``timeout`` s; None: as long as it takes) until every submitted op is in the outbox on
        disk. True when they all are."""
        if timeout is None:
            self._queue.join()
            return True
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def wait_sent(self, timeout: float) -> bool:
        """Wait (up to ``timeout`` s) until the hub has every op of ours. True when it has."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while any(p.seq is None for p in self.replica.pending):
                left = deadline - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    return False
                self._wake.wait(min(left, 0.1))
        return True

    def mark_seen(self, note: SyncNote) -> bool:
        """The app showed ``note``. False when it had been shown already."""
        with self._unseen_lock:
            for i, kept in enumerate(self.unseen):
                if kept is note:
                    del self.unseen[i]
                    return True
        return False

    def take_unseen(self) -> list[SyncNote]:
        with self._unseen_lock:
            notes, self.unseen = self.unseen, []
        return notes

    def hand_over(self, participant_id: str) -> None:
        """Make someone else the facilitator (raises HubRefused / HubUnreachable)."""
        answer = self._sender_client.hand_over(self.link.room, participant_id)
        with self._lock:
            self.link.role = PARTICIPANT
            self.participants = list(answer.get("participants") or self.participants)
        self._save_link()
        self._note(SyncNote("people"))

    def close(self, send_for: float = 1.5) -> None:
        """Save what is waiting, give the hub a moment to take it, then stop. Idempotent."""
        if self._stop.is_set():
            return
        if not self.flush(timeout=10.0):  # the disk keeps refusing: say so rather than hang
            self.unsaved = self._local_pending
        if self._connection.status == "live":
            self.wait_sent(send_for)
        self._stop.set()
        self._queue.put(None)
        with self._lock:
            self._wake.notify_all()
        self._stream_client.abort()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=2)
        self._save_confirmed(force=True)
        self._stream_client.close()
        self._sender_client.close()
        self.files.close()

    # ------------------------------------------------------------------ inside: notes and saving

    def _note(self, note: SyncNote) -> None:
        if note.kind in ("refused", "message"):  # kept until the app has shown them (or printed at the end)
            with self._unseen_lock:
                self.unseen.append(note)
        listener = self.listener
        if listener is not None:
            try:
                listener(note)
            except Exception:  # noqa: BLE001 - the app is closing; the sync state is kept all the same
                pass

    def _set_connection(self, status: str | None = None, detail: str | None = None) -> None:
        old = self._connection
        new = Connection(status or old.status, len(self.replica.pending),
                         old.detail if detail is None else detail)
        if new != old:
            self._connection = new
            self._note(SyncNote("connection"))

    def _save_link(self) -> None:
        try:
            self.files.save_link()
        except OSError as error:
            self.last_error = f"Could not save the hub link: {error}"

    def _save_confirmed(self, force: bool = False) -> None:
        """Write the confirmed copy (at most every SAVE_EVERY s unless forced), then cut the outbox lines it
        includes. One save at a time, so an older copy never replaces a newer one."""
        with self._save_lock:
            with self._lock:
                if not self._have_snapshot or not (self._dirty or force):
                    return
                now = time.monotonic()
                if not force and now - self._last_save < SAVE_EVERY:
                    return
                r = self.replica
                first_pending = min([p.ref for p in r.pending], default=None)
                done = self._durable if first_pending is None else min(self._durable, first_pending - 1)
                self._refused = {op_id: ref for op_id, ref in self._refused.items() if ref > done}
                copy = Confirmed(r.seq, r.confirmed, dict(r.hidden), list(self.participants),
                                 sorted(self._refused))
                self._dirty, self._last_save = False, now
            try:
                self.files.save_confirmed(copy, done)
            except (OSError, ValueError) as error:
                self.last_error = f"Could not save the shared room's copy: {error}"
                self._dirty = True

    # ------------------------------------------------------------------ the writer thread

    def _write_loop(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                error = None
                while True:
                    try:
                        self.files.append(job.ref, job.op)
                        break
                    except Exception as exc:  # noqa: BLE001 - whatever it is, the op must not be lost
                        error = f"Could not save to {self.files.folder}: {exc}. Retrying; your changes are kept."
                        if self.on_saved is not None:
                            self.on_saved(SaveReport(seq=0, pending=self._local_pending, error=error))
                        if self._stop.wait(2.0):
                            return
                with self._lock:
                    self._local_pending -= 1
                    self._durable = max(self._durable, job.ref)
                    self._wake.notify_all()
                if self.on_saved is not None:
                    self.on_saved(SaveReport(seq=job.ref, pending=self._local_pending))
            finally:
                self._queue.task_done()
