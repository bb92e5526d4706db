"""The sender thread of a shared room: the outbox's ops to the hub, in order, in batches. Each comes back with
its seq (kept once by the hub, however often it is sent) or a refusal, which is shown to its author and does
not hold back the ones after it. Transport errors back off and try again; 401 and 404 stop (the outbox stays)."""

from __future__ import annotations

from .client import HubRefused, HubUnreachable
from .notes import SyncNote, backoff
from .replica import Pending

BATCH = 100


class Sending:
    """Mixed into SharedSession (which provides replica, link, the lock, the clients and the notes)."""

    def _unsent(self, limit: int) -> list[Pending]:
        return [p for p in self.replica.pending if p.seq is None and p.ref <= self._durable][:limit]

    def _send_loop(self) -> None:
        attempt, limit = 0, BATCH
        while not self._stop.is_set():
            with self._lock:
                while not self._stop.is_set() and not (self._have_snapshot and self._unsent(1)):
                    self._wake.wait(1.0)
                if self._stop.is_set():
                    return
                batch = self._unsent(limit)
            body = [{"op_id": p.op.op_id, "type": p.op.type, "args": dict(p.op.args), "ts": p.op.ts}
                    for p in batch]
            try:
                answer = self._sender_client.post_ops(self.link.room, self.link.client_id, body)
                results = answer["results"]
                if not isinstance(results, list):
                    raise TypeError("results is not a list")
            except HubUnreachable:
                attempt += 1
                self._stop.wait(backoff(attempt))
                continue
            except HubRefused as refusal:
                wait = self._refused_batch(refusal, batch)
                if wait is None:  # a refusal for good (401, 404): stop sending; the outbox keeps them
                    return
                if refusal.status in (413, 422) and len(batch) > 1:
                    limit = max(1, len(batch) // 2)  # halving finds the op the hub cannot take
                attempt += 1
                self._stop.wait(wait)
                continue
            except Exception as error:  # noqa: BLE001 - an answer not shaped like the hub's: try again later
                self.last_error = f"The hub's answer could not be read ({error}); trying again."
                attempt += 1
                self._stop.wait(backoff(attempt))
                continue
            attempt = 0
            limit = min(BATCH, limit * 2)
            self._take_results([r for r in results if isinstance(r, dict)], batch)

    def _take_results(self, results: list[dict], batch: list[Pending]) -> None:
        refused: list[tuple[Pending, str]] = []
        with self._lock:
            for result in results:
                op_id = str(result.get("op_id", ""))
                if result.get("error"):
                    got = self.replica.refused_by_hub(op_id)
                    if got is not None:
                        self._refused[op_id] = got.ref  # never sent again, even after a restart
                        refused.append((got, str(result["error"].get("reason", "refused"))))
                elif isinstance(result.get("seq"), int):
                    self.replica.acknowledged(op_id, result["seq"])
            self._dirty = True
            self._wake.notify_all()
            self._set_connection()
        for pending, reason in refused:
            self._note(SyncNote("refused", reason, pending.op, "error"))
        if refused:
            self._note(SyncNote("state"))
            self._save_confirmed(force=True)

    def _refused_batch(self, refusal: HubRefused, batch: list[Pending]) -> float | None:
        """Handle a whole batch refused. Returns how long to wait before sending again (None: stop)."""
        if refusal.status == 429:
            return max(0.2, refusal.retry_after or 1.0)
        if refusal.status == 403 and isinstance(refusal.body.get("ops"), list):
            results = [{"op_id": o.get("op_id"), "error": {"reason": o.get("reason", refusal.reason)}}
                       for o in refusal.body["ops"] if isinstance(o, dict)]
            self._take_results(results, batch)
            return 0.0
        if refusal.status in (400, 403, 413, 422) and len(batch) == 1:
            self._take_results([{"op_id": batch[0].op.op_id, "error": {"reason": refusal.reason}}], batch)
            return 0.0
        if refusal.status in (401, 404):
            self._stopped(refusal)
            return None
        if refusal.status in (413, 422):
            return 0.0  # split (the caller halves the batch)
        return backoff(3)

    def _stopped(self, refusal: HubRefused) -> None:
        why = ("The hub does not accept this room's token any more" if refusal.status == 401
               else "The hub no longer has this room")
        text = f"{why} ({refusal.reason}). Your changes stay in the outbox."
        with self._lock:
            self._set_connection("stopped", text)
        self._note(SyncNote("message", text, severity="error"))

