"""The hub's durable store: one SQLite file in WAL mode with ``synchronous=FULL``, so a committed op survives a
kill -9 or a power cut, and an op is acknowledged only once committed.

Tables:
- ``rooms``: id, the invite token's hash, and ``compacted_through``: the ops up to that seq are gone from the
  log (folded into a snapshot), so a client asking for ops since an earlier seq gets 410.
- ``participants``: who joined a room, their member id, role and token hash (never the token).
- ``ops``: the log, per room ``seq`` 1, 2, 3…, unique on ``(room, client_id, op_id)``: a retried op finds its
  original seq instead of being applied twice.
- ``op_ids``: the ``(client_id, op_id) -> seq`` of compacted ops, so a retry of a very old op is still known.
- ``snapshots``: the room's state at some seqs (seq 0 is the state the room was shared with).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    id TEXT PRIMARY KEY, created_at TEXT NOT NULL, invite_hash TEXT NOT NULL,
    compacted_through INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS participants (
    room TEXT NOT NULL, id TEXT NOT NULL, member_id TEXT, name TEXT NOT NULL, role TEXT NOT NULL,
    token_hash TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (room, id));
CREATE TABLE IF NOT EXISTS ops (
    room TEXT NOT NULL, seq INTEGER NOT NULL, client_id TEXT NOT NULL, op_id TEXT NOT NULL, actor TEXT NOT NULL,
    type TEXT NOT NULL, args TEXT NOT NULL, ts TEXT NOT NULL, server_ts TEXT NOT NULL,
    PRIMARY KEY (room, seq), UNIQUE (room, client_id, op_id));
CREATE TABLE IF NOT EXISTS op_ids (
    room TEXT NOT NULL, client_id TEXT NOT NULL, op_id TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (room, client_id, op_id));
CREATE TABLE IF NOT EXISTS snapshots (
    room TEXT NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL, PRIMARY KEY (room, seq));
"""


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class Row:
    """One op of the log, as stored."""

    seq: int
    client_id: str
    op_id: str
    actor: str
    type: str
    args: dict
    ts: str
    server_ts: str


@dataclass(frozen=True)
class ParticipantRow:
    room: str
    id: str
    member_id: str | None
    name: str
    role: str
    token_hash: str


class OpLog:
    """All access to the database. One connection, used from the hub's event loop thread only."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = path
        # Only the hub's user may read it (every room, with its hidden votes and unshared cards); SQLite gives
        # its -wal and -shm files the database's mode.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ transactions

    def begin(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    # ------------------------------------------------------------------ rooms and participants

    def add_room(self, room: str, created_at: str, invite_hash: str) -> None:
        self.db.execute("INSERT INTO rooms (id, created_at, invite_hash) VALUES (?, ?, ?)",
                        (room, created_at, invite_hash))

    def room(self, room: str) -> tuple[str, int] | None:
        """(invite hash, compacted through), or None when there is no such room."""
        row = self.db.execute("SELECT invite_hash, compacted_through FROM rooms WHERE id = ?", (room,)).fetchone()
        return (row[0], row[1]) if row else None

    def add_participant(self, p: ParticipantRow, created_at: str) -> None:
        self.db.execute("INSERT INTO participants (room, id, member_id, name, role, token_hash, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (p.room, p.id, p.member_id, p.name, p.role, p.token_hash, created_at))

    def participants(self, room: str) -> list[ParticipantRow]:
        rows = self.db.execute("SELECT room, id, member_id, name, role, token_hash FROM participants "
                               "WHERE room = ? ORDER BY created_at, id", (room,))
        return [ParticipantRow(*row) for row in rows]

    def set_role(self, room: str, participant_id: str, role: str) -> None:
        self.db.execute("UPDATE participants SET role = ? WHERE room = ? AND id = ?", (role, room, participant_id))

    def set_token_hash(self, room: str, participant_id: str, token_hash: str) -> None:
        """A participant's new token (its hash): the old token stops working."""
        self.db.execute("UPDATE participants SET token_hash = ? WHERE room = ? AND id = ?",
                        (token_hash, room, participant_id))

    # ------------------------------------------------------------------ the log

    def seq_of(self, room: str, client_id: str, op_id: str) -> int | None:
        """The seq an op already has (also when compacted away), or None."""
        for table in ("ops", "op_ids"):
            row = self.db.execute(f"SELECT seq FROM {table} WHERE room = ? AND client_id = ? AND op_id = ?",
                                  (room, client_id, op_id)).fetchone()
            if row:
                return row[0]
        return None

    def append(self, room: str, row: Row) -> None:
        self.db.execute("INSERT INTO ops (room, seq, client_id, op_id, actor, type, args, ts, server_ts) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (room, row.seq, row.client_id, row.op_id, row.actor, row.type, dumps(row.args), row.ts,
                         row.server_ts))

    def head(self, room: str) -> int:
        row = self.db.execute("SELECT MAX(seq) FROM ops WHERE room = ?", (room,)).fetchone()
        latest = self.latest_snapshot(room, None)
        return max(row[0] or 0, latest[0] if latest else 0)

    def rows(self, room: str, after: int, upto: int | None = None, limit: int = 10_000) -> Iterator[Row]:
        upto = (1 << 62) if upto is None else upto
        cursor = self.db.execute("SELECT seq, client_id, op_id, actor, type, args, ts, server_ts FROM ops "
                                 "WHERE room = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                                 (room, after, upto, limit))
        for seq, client_id, op_id, actor, type_, args, ts, server_ts in cursor.fetchall():
            yield Row(seq, client_id, op_id, actor, type_, json.loads(args), ts, server_ts)

    # ------------------------------------------------------------------ snapshots and compaction

    def put_snapshot(self, room: str, seq: int, state: dict) -> None:
        self.db.execute("INSERT OR REPLACE INTO snapshots (room, seq, state) VALUES (?, ?, ?)",
                        (room, seq, dumps(state)))

    def latest_snapshot(self, room: str, at_most: int | None) -> tuple[int, dict] | None:
        """The newest snapshot at or before ``at_most`` (any, when None)."""
        limit = (1 << 62) if at_most is None else at_most
        row = self.db.execute("SELECT seq, state FROM snapshots WHERE room = ? AND seq <= ? ORDER BY seq DESC "
                              "LIMIT 1", (room, limit)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def compact(self, room: str, through: int) -> None:
        """Fold the log up to ``through`` (which must have a snapshot) away: the ops go (their ids stay, for
        dedupe), and so do the older snapshots. Runs in its own transaction."""
        self.begin()
        try:
            self.db.execute("INSERT OR IGNORE INTO op_ids (room, client_id, op_id, seq) "
                            "SELECT room, client_id, op_id, seq FROM ops WHERE room = ? AND seq <= ?",
                            (room, through))
            self.db.execute("DELETE FROM ops WHERE room = ? AND seq <= ?", (room, through))
            self.db.execute("DELETE FROM snapshots WHERE room = ? AND seq < ?", (room, through))
            self.db.execute("UPDATE rooms SET compacted_through = ? WHERE id = ? AND compacted_through < ?",
                            (through, room, through))
            self.commit()
        except BaseException:
            self.rollback()
            raise
