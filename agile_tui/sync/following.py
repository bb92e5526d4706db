"""The stream thread of a shared room: the room's events over SSE, resumed from the last seq this client has;
a gap or a refetch reloads the snapshot. Named events say who is here (``hello``, ``presence``) and who
facilitates (``role``)."""

from __future__ import annotations

import json
import time

from ..domain import State
from ..domain.roles import FACILITATOR, PARTICIPANT
from .client import HubRefused, HubUnreachable
from .notes import OFFLINE_AFTER, SyncNote, backoff


class Following:
    """Mixed into SharedSession (which provides replica, link, the lock, the clients and the notes)."""

    def _fetch_snapshot(self) -> None:
        snap = self._stream_client.snapshot(self.link.room)
        with self._lock:
            self.replica.reset(State.from_dict(snap["state"]), int(snap["seq"]), snap.get("hidden"))
            self.participants = list(snap.get("participants") or [])
            self._have_snapshot, self._dirty = True, True
            self._take_me(snap.get("me") or {})
            self._wake.notify_all()
        self._save_confirmed(force=True)
        self._note(SyncNote("state"))
        self._note(SyncNote("people"))

    def _take_me(self, me: dict) -> None:
        role = me.get("role")
        if role in (FACILITATOR, PARTICIPANT) and role != self.link.role:
            self.link.role = role
            self._save_link()

    def _stream_loop(self) -> None:
        while not self._stop.is_set():
            try:
                if not self._have_snapshot or self._refetch:
                    self._refetch = False
                    self._fetch_snapshot()
                self._follow()
                self._stream_failures = 0  # the hub ended the stream (it is stopping): reconnect at once
            except HubUnreachable as error:
                self._stream_failed(str(error))
            except HubRefused as refusal:
                if refusal.status in (401, 404):
                    self._stopped(refusal)
                    return
                if refusal.status == 429:
                    self._stop.wait(max(0.5, refusal.retry_after or 2.0))
                    continue
                self._stream_failed(refusal.reason)
            except (ValueError, KeyError, TypeError) as error:  # a malformed answer: start again from a snapshot
                self._refetch = True
                self._stream_failed(f"The hub sent something unreadable ({error}).")
            if not self._stop.is_set():
                self._stop.wait(backoff(self._stream_failures))

    def _stream_failed(self, why: str) -> None:
        if self._stop.is_set():
            return
        self._stream_failures += 1
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
        status = "offline" if now - self._failing_since > OFFLINE_AFTER or not self._have_snapshot else "reconnecting"
        with self._lock:
            self._set_connection(status, why)

    def _follow(self) -> None:
        if self._stop.is_set():
            return
        for event in self._stream_client.events(self.link.room, self.replica.seq):
            if self._stop.is_set():
                return
            if event.name:
                self._named(event.name, json.loads(event.data))
                continue
            data = json.loads(event.data)
            with self._lock:
                outcome = self.replica.event(data)
                if outcome == "applied":
                    self._dirty = True
                    self._wake.notify_all()
                    self._set_connection()
            if outcome in ("gap", "refetch"):
                self._fetch_snapshot()
            elif outcome == "applied":
                self._note(SyncNote("state"))
                self._save_confirmed()

    def _named(self, name: str, data: dict) -> None:
        if name == "hello":
            head = data.get("head")
            if isinstance(head, int) and head < self.replica.seq:  # the hub went back (restored from a backup)
                self._fetch_snapshot()
            self._failing_since = None
            self._stream_failures = 0
            with self._lock:
                self.participants = list(data.get("participants") or self.participants)
                self._take_me(data.get("me") or {})
                self._set_connection("live", "")
                self._wake.notify_all()  # the sender may be waiting out a back-off: the hub is back
            self._note(SyncNote("people"))
        elif name == "presence":
            with self._lock:
                self.participants = list(data.get("participants") or [])
            self._note(SyncNote("people"))
        elif name == "role":
            new = data.get("facilitator") or {}
            with self._lock:
                if new.get("participant_id") == self.link.participant_id:
                    self.link.role = FACILITATOR
                elif self.link.role == FACILITATOR:
                    self.link.role = PARTICIPANT
            self._save_link()
            who = new.get("name") or "someone"
            mine = new.get("participant_id") == self.link.participant_id
            self._note(SyncNote("people"))
            text = "You are the facilitator now." if mine else f"{who} is the facilitator now."
            self._note(SyncNote("message", text))
