"""The local store: real files in tmp_path, real subprocesses; nothing of ours is mocked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from tinydb import TinyDB

from agile_tui.domain import SCHEMA_VERSION, FakeClock, Op, OpRejected, make_op
from agile_tui.store import (
    MIGRATIONS,
    AtomicJSONStorage,
    RoomLocked,
    RoomStore,
    list_rooms,
    load_readonly,
    room_files,
    room_path,
    validate_room_name,
)
from agile_tui.store import snapshot as snapshot_module
from agile_tui.store.snapshot import encode

ROOT = Path(__file__).resolve().parents[1]
ROOM = "demo"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

SESSION = r"""
import json, os, sys
from agile_tui.domain import Op
from agile_tui.store import RoomStore
data_dir, room, mode = sys.argv[1:4]
store = RoomStore.open(data_dir, room)
for line in sys.stdin:
    store.commit(Op.from_dict(json.loads(line)))
if mode == "close":
    store.close()
else:
    os._exit(0)  # like a crash: no compaction, no unlock
"""


def seed_ops(clock: FakeClock, items: int = 3) -> list[Op]:
    ops = [
        make_op("member.add", clock, id="m1", name="Ann", role="AE"),
        make_op("sprint.create", clock, id="s1", name="Sprint 1", start="2026-11-16", days=14,
                goal="Close three pilots."),
    ]
    ops += [make_op("item.add", clock, id=f"i{n}", title=f"Item {n}", owner="m1", sprint_id="s1",
                    estimate="3") for n in range(1, items + 1)]
    return ops


def session(data_dir: Path, ops: list[Op], close: bool) -> None:
    """Commit ``ops`` in another process; without ``close`` it exits abruptly (journal only)."""
    payload = "".join(json.dumps(op.to_dict()) + "\n" for op in ops)
    subprocess.run([sys.executable, "-c", SESSION, str(data_dir), ROOM, "close" if close else "crash"],
                   input=payload, text=True, check=True, env=ENV, timeout=60)


def files_of(data_dir: Path) -> dict[str, bytes]:
    folder = data_dir / "rooms"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def aside(data_dir: Path, kind: str) -> list[Path]:
    return sorted((data_dir / "rooms").glob(f"{ROOM}.{kind}"))


# ----------------------------------------------------------------------------- round trips


def test_round_trip_and_reopen(tmp_path):
    clock = FakeClock()
    with RoomStore.open(tmp_path, ROOM) as store:
        assert store.problems == [] and store.seq == 0
        for op in seed_ops(clock, items=20):
            store.commit(op)
        blocked = make_op("item.update", clock, id="i3", status="blocked", note="Waiting on legal")
        state = store.commit(blocked)
        assert store.seq == 23 and store.state is state
    with RoomStore.open(tmp_path, ROOM) as again:
        assert again.problems == []
        assert again.seq == 23
        assert again.state.content() == state.content()
        assert again.state.items["i3"].status == "blocked"
    meta = TinyDB(room_path(tmp_path, ROOM), storage=AtomicJSONStorage).table("meta").get(doc_id=1)
    assert meta == {"schema": SCHEMA_VERSION, "seq": 23, "room": ROOM}
    assert TinyDB(room_path(tmp_path, ROOM)).table("meta").get(doc_id=1)["seq"] == 23  # plain TinyDB too
    assert room_files(tmp_path, ROOM).journal.read_bytes() == b""


def test_journal_replayed_after_abrupt_exit(tmp_path):
    clock = FakeClock()
    ops = seed_ops(clock, items=5)
    session(tmp_path, ops, close=False)
    assert not room_path(tmp_path, ROOM).exists()
    assert len(room_files(tmp_path, ROOM).journal.read_text().splitlines()) == len(ops)
    with RoomStore.open(tmp_path, ROOM) as store:
        assert store.problems == []
        assert store.seq == len(ops)
        assert sorted(store.state.items) == ["i1", "i2", "i3", "i4", "i5"]


def test_compaction_then_reopen(tmp_path):
    clock = FakeClock()
    store = RoomStore.open(tmp_path, ROOM, compact_after=10)
    for op in seed_ops(clock, items=10):
        store.commit(op)
    assert store.should_compact()
    assert store.compact() is True
    assert store.snapshot_seq == 12 and not store.should_compact()
    assert store.compact() is False  # nothing new
    journal = room_files(tmp_path, ROOM).journal
    assert journal.read_bytes() == b""
    for n in range(4):
        store.commit(make_op("item.update", clock, id=f"i{n + 1}", title=f"Renamed {n}"))
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [13, 14, 15, 16]
    expected = store.state.content()
    # A compaction of an older (state, seq) pair keeps the newer lines in the journal.
    store2_state, seq = load_readonly(tmp_path, ROOM)[:2]
    assert seq == 16 and store2_state.content() == expected
    store.close()
    with RoomStore.open(tmp_path, ROOM) as again:
        assert again.problems == [] and again.seq == 16 and again.snapshot_seq == 16
        assert again.state.content() == expected


def test_compact_an_older_state_keeps_newer_journal_lines(tmp_path):
    clock = FakeClock()
    store = RoomStore.open(tmp_path, ROOM)
    for op in seed_ops(clock, items=2):
        store.commit(op)
    older, older_seq = store.state, store.seq
    store.commit(make_op("item.add", clock, id="late", title="Late"))
    store.compact(older, older_seq)
    lines = room_files(tmp_path, ROOM).journal.read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [older_seq + 1]
    expected = store.state.content()
    store.close()
    with RoomStore.open(tmp_path, ROOM) as again:
        assert again.state.content() == expected and "late" in again.state.items


def test_append_accepts_dicts_and_is_thread_safe(tmp_path):
    clock = FakeClock()
    store = RoomStore.open(tmp_path, ROOM)
    ops = [make_op("item.add", clock, id=f"t{n}", title=f"T{n}") for n in range(200)]
    seqs: list[int] = []

    def writer(chunk):
        for op in chunk:
            seqs.append(store.append(op.to_dict() if len(seqs) % 2 else op))

    threads = [threading.Thread(target=writer, args=(ops[n::4],)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seqs) == list(range(1, 201))
    lines = room_files(tmp_path, ROOM).journal.read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == list(range(1, 201))
    with pytest.raises(RuntimeError):  # the store was not given the states
        store.commit(ops[0])
    store.close()  # nothing to compact with (no state given); the journal keeps everything
    with RoomStore.open(tmp_path, ROOM) as again:
        assert again.problems == [] and len(again.state.items) == 200


def test_refused_commit_saves_nothing_and_closed_store_refuses(tmp_path):
    clock = FakeClock()
    store = RoomStore.open(tmp_path, ROOM)
    with pytest.raises(OpRejected):
        store.commit(make_op("item.update", clock, id="nope", title="x"))
    assert store.seq == 0 and room_files(tmp_path, ROOM).journal.read_bytes() == b""
    with pytest.raises(ValueError):
        store.append({"args": {}})
    store.close()
    store.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        store.append(make_op("item.add", clock, id="x", title="x"))


# ----------------------------------------------------------------------------- the lock


LOCK_PROBE = r"""
import sys, time
from agile_tui.store import RoomStore, RoomLocked
t = time.monotonic()
try:
    RoomStore.open(sys.argv[1], sys.argv[2]).close()
except RoomLocked as exc:
    print(f"{time.monotonic() - t:.3f}")
    print(exc)
    sys.exit(3)
print("opened")
"""


def test_second_process_fails_fast_naming_the_holder(tmp_path):
    store = RoomStore.open(tmp_path, ROOM)
    probe = subprocess.run([sys.executable, "-c", LOCK_PROBE, str(tmp_path), ROOM], capture_output=True,
                           text=True, env=ENV, timeout=30, check=False)
    assert probe.returncode == 3, probe.stderr
    took, message = probe.stdout.split("\n", 1)
    assert float(took) < 0.5
    assert f"pid {os.getpid()}" in message
    assert "Room 'demo' is already open in another agile-tui" in message
    assert "Close that one first, or join it through a hub." in message
    assert "since " in message
    store.close()
    again = subprocess.run([sys.executable, "-c", LOCK_PROBE, str(tmp_path), ROOM], capture_output=True,
                           text=True, env=ENV, timeout=30, check=False)
    assert again.returncode == 0 and again.stdout.strip() == "opened", again.stderr


def test_second_open_in_same_process_is_refused(tmp_path):
    store = RoomStore.open(tmp_path, ROOM)
    with pytest.raises(RoomLocked) as info:
        RoomStore.open(tmp_path, ROOM)
    assert info.value.holder["pid"] == os.getpid()
    assert RoomStore.open(tmp_path, "other").problems == []  # other rooms are independent
    store.close()
    RoomStore.open(tmp_path, ROOM).close()


# ----------------------------------------------------------------------------- damage


@pytest.mark.parametrize("damage", [
    b'{"meta": {"1": {"schema": 1, "seq": 5',  # torn write: bad JSON
    b"\xff\xfe\x00garbage",  # not text
    b"",  # empty
    b"[1, 2, 3]",  # wrong shape
    b'{"_default": {}}',  # a TinyDB file, but not ours
    b'{"meta": {"1": {"schema": 1, "seq": 5}}, "state": {"1": {"items": [1, 2]}}}',  # malformed state
])
def test_corrupt_snapshot_is_kept_aside_and_the_room_opens(tmp_path, damage):
    clock = FakeClock()
    session(tmp_path, seed_ops(clock, items=3), close=True)
    later = [
        make_op("item.add", clock, id="i4", title="Independent of the snapshot"),
        make_op("item.update", clock, id="i1", title="Needs the lost snapshot"),
        make_op("member.add", clock, id="m2", name="Bo"),
    ]
    session(tmp_path, later, close=False)
    snapshot = room_path(tmp_path, ROOM)
    snapshot.write_bytes(damage)

    store = RoomStore.open(tmp_path, ROOM)
    kept = aside(tmp_path, "json.corrupt-*")
    assert len(kept) == 1 and kept[0].read_bytes() == damage
    assert sorted(store.state.items) == ["i4"] and sorted(store.state.members) == ["m2"]
    assert store.seq == 8  # numbering continues after the last saved change
    text = "\n".join(store.problems)
    assert str(snapshot) in text and str(kept[0]) in text
    assert "2 changes applied, 1 could not be applied" in text
    unapplied = aside(tmp_path, "journal.unapplied-*")
    assert len(unapplied) == 1 and len(unapplied[0].read_text().splitlines()) == 3
    # The app keeps working, and the repaired room reopens cleanly.
    store.commit(make_op("item.add", clock, id="i5", title="After the repair"))
    expected = store.state.content()
    store.close()
    with RoomStore.open(tmp_path, ROOM) as again:
        assert again.problems == [] and again.state.content() == expected and again.seq == 9


def test_newer_schema_is_refused_gracefully(tmp_path):
    snapshot = room_path(tmp_path, ROOM)
    snapshot.parent.mkdir(parents=True)
    future = json.dumps({"meta": {"1": {"schema": SCHEMA_VERSION + 1, "seq": 3, "room": ROOM}},
                         "state": {"1": {"hologram": {}}}}).encode()
    snapshot.write_bytes(future)
    with RoomStore.open(tmp_path, ROOM) as store:
        kept = aside(tmp_path, "json.corrupt-*")
        assert len(kept) == 1 and kept[0].read_bytes() == future
        assert "written by a newer agile-tui" in store.problems[0]
        assert str(kept[0]) in store.problems[0]
        assert store.state.items == {}
        store.commit(make_op("member.add", FakeClock(), id="m1", name="Ann"))
    assert not aside(tmp_path, "json.corrupt-*")[1:]


def test_torn_last_journal_line_is_ignored_silently(tmp_path):
    clock = FakeClock()
    session(tmp_path, seed_ops(clock, items=3), close=False)
    journal = room_files(tmp_path, ROOM).journal
    good = journal.read_bytes()
    with open(journal, "ab") as f:
        f.write(b'{"seq": 6, "op": {"type": "item.add", "args": {"id": "i9", "ti')
    assert load_readonly(tmp_path, ROOM)[2] == []
    with RoomStore.open(tmp_path, ROOM) as store:
        assert store.problems == [] and store.seq == 5 and "i9" not in store.state.items
        assert journal.read_bytes() == good  # cut off before anything is appended after it
        store.commit(make_op("item.add", clock, id="i9", title="Again"))
        assert journal.read_bytes().startswith(good) and journal.read_bytes().count(b"\n") == 6
    with RoomStore.open(tmp_path, ROOM) as again:
        assert again.problems == [] and "i9" in again.state.items and again.seq == 6


def test_garbage_last_line_with_newline_is_ignored_too(tmp_path):
    clock = FakeClock()
    session(tmp_path, seed_ops(clock, items=2), close=False)
    journal = room_files(tmp_path, ROOM).journal
    with open(journal, "ab") as f:
        f.write(b"\x00\x00\x00\x00\n")
    with RoomStore.open(tmp_path, ROOM) as store:
        assert store.problems == [] and store.seq == 4 and len(store.state.items) == 2


def test_corrupt_middle_journal_line(tmp_path):
    clock = FakeClock()
    session(tmp_path, seed_ops(clock, items=6), close=False)
    journal = room_files(tmp_path, ROOM).journal
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[4] = b'{"seq": 5, "op": {"type": "item.add", "ar#########\n'
    damaged = b"".join(lines)
    journal.write_bytes(damaged)

    _, ro_seq, ro_problems = load_readonly(tmp_path, ROOM)
    assert ro_seq == 4 and "line 5" in ro_problems[0] and not aside(tmp_path, "journal.corrupt-*")

    store = RoomStore.open(tmp_path, ROOM)
    kept = aside(tmp_path, "journal.corrupt-*")
    assert len(kept) == 1 and kept[0].read_bytes() == damaged
    assert store.seq == 4 and sorted(store.state.items) == ["i1", "i2"]
    assert len(store.problems) == 1
    message = store.problems[0]
    assert "line 5" in message and str(journal) in message and str(kept[0]) in message
    assert "4 changes before that line were loaded" in message
    store.commit(make_op("item.add", clock, id="i7", title="After the repair"))
    expected = store.state.content()
    store.close()
    with RoomStore.open(tmp_path, ROOM) as again:
        assert again.problems == [] and again.state.content() == expected


# ----------------------------------------------------------------------------- schema migration


def v0_file(path: Path) -> bytes:
    """Version 0 (defined for this test): the items collection was called "backlog"."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "meta": {"1": {"schema": 0, "seq": 2, "room": ROOM}},
        "state": {"1": {"room": {"name": "Old", "team": "Sales"},
                        "members": {"m1": {"id": "m1", "name": "Ann"}},
                        "backlog": {"i1": {"id": "i1", "title": "Old item", "rank": "V"}}}},
    }
    raw = json.dumps(data).encode()
    path.write_bytes(raw)
    return raw


def backlog_to_items(data: dict) -> dict:
    state = data["state"]["1"]
    state["items"] = state.pop("backlog")
    return data


def test_migration_is_applied_on_load(tmp_path, monkeypatch):
    monkeypatch.setitem(MIGRATIONS, 0, backlog_to_items)
    snapshot = room_path(tmp_path, ROOM)
    v0_file(snapshot)
    assert load_readonly(tmp_path, ROOM)[0].items["i1"].title == "Old item"
    store = RoomStore.open(tmp_path, ROOM)
    assert store.state.items["i1"].title == "Old item" and store.state.room.team == "Sales"
    assert store.seq == 2
    assert len(store.problems) == 1 and "upgraded to version 1" in store.problems[0]
    store.commit(make_op("item.update", FakeClock(), id="i1", title="New title"))
    store.close()
    saved = json.loads(snapshot.read_text())
    assert saved["meta"]["1"]["schema"] == SCHEMA_VERSION and "backlog" not in saved["state"]["1"]
    monkeypatch.delitem(MIGRATIONS, 0)
    with RoomStore.open(tmp_path, ROOM) as again:
        assert again.problems == [] and again.state.items["i1"].title == "New title"


def test_migrations_run_in_order(tmp_path, monkeypatch):
    calls: list[int] = []

    def step(n):
        def run(data):
            calls.append(n)
            assert data["meta"]["1"]["schema"] == n
            return backlog_to_items(data) if n == 0 else data
        return run

    monkeypatch.setattr(snapshot_module, "SCHEMA_VERSION", 3)
    for n in range(3):
        monkeypatch.setitem(MIGRATIONS, n, step(n))
    v0_file(room_path(tmp_path, ROOM))
    state, seq, _ = load_readonly(tmp_path, ROOM)
    assert calls == [0, 1, 2] and "i1" in state.items and seq == 2


def test_missing_or_failing_migration_keeps_the_file_aside(tmp_path, monkeypatch):
    snapshot = room_path(tmp_path, ROOM)
    raw = v0_file(snapshot)
    with RoomStore.open(tmp_path, ROOM) as store:  # no migration from 0 is registered
        assert "too old" in store.problems[0]
    assert aside(tmp_path, "json.corrupt-*")[0].read_bytes() == raw

    def broken(data):
        raise KeyError("members")

    monkeypatch.setitem(MIGRATIONS, 0, broken)
    (tmp_path / "rooms" / "demo.json").unlink()
    v0_file(snapshot)
    with RoomStore.open(tmp_path, ROOM) as store:
        assert "upgrading it from format version 0 failed" in store.problems[0]


# ----------------------------------------------------------------------------- read-only loading


def test_load_readonly_sees_appended_ops_and_touches_nothing(tmp_path):
    clock = FakeClock()
    store = RoomStore.open(tmp_path, ROOM)
    for op in seed_ops(clock, items=3):
        store.commit(op)
    store.compact()
    store.commit(make_op("item.add", clock, id="fresh", title="Just typed"))
    before = files_of(tmp_path)
    stats = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "rooms").iterdir()}
    state, seq, problems = load_readonly(tmp_path, ROOM)
    assert problems == [] and seq == store.seq == 6
    assert state.content() == store.state.content() and "fresh" in state.items
    assert files_of(tmp_path) == before
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "rooms").iterdir()} == stats
    store.close()


def test_load_readonly_of_a_damaged_room_changes_nothing(tmp_path):
    session(tmp_path, seed_ops(FakeClock(), items=2), close=True)
    room_path(tmp_path, ROOM).write_bytes(b"{broken")
    before = files_of(tmp_path)
    state, _, problems = load_readonly(tmp_path, ROOM)
    assert "could not be read" in problems[0] and state.items == {}
    assert files_of(tmp_path) == before


def test_load_readonly_of_a_missing_room_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="no room 'ghost'"):
        load_readonly(tmp_path, "ghost")
    assert list(tmp_path.iterdir()) == []


OWNER = r"""
import sys
from agile_tui.domain import SystemClock, make_op
from agile_tui.store import RoomStore
clock = SystemClock()
store = RoomStore.open(sys.argv[1], sys.argv[2], compact_after=10)
store.commit(make_op("member.add", clock, id="m1", name="Ann"))
for n in range(300):
    store.commit(make_op("item.add", clock, id=f"p{n}", title=f"Prefill {n}"))
store.compact()
print("ready", flush=True)
n = 0
while n < 100_000:
    store.commit(make_op("item.add", clock, id=f"x{n}", title=f"X{n}"))
    n += 1
    if store.should_compact():
        store.compact()
"""


def test_load_readonly_during_compactions(tmp_path):
    """A reader racing the owner's compactions (another process) always sees a complete prefix."""
    owner = subprocess.Popen([sys.executable, "-c", OWNER, str(tmp_path), ROOM], stdout=subprocess.PIPE,
                             text=True, env=ENV)
    try:
        assert owner.stdout.readline() == "ready\n"
        last, reads = 0, 0
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline and owner.poll() is None:
            state, seq, problems = load_readonly(tmp_path, ROOM)
            assert problems == []
            assert len(state.items) == seq - 1 and seq >= last
            last, reads = seq, reads + 1
        assert reads > 3 and last > 301
    finally:
        owner.kill()
        owner.wait()
        owner.stdout.close()


# ----------------------------------------------------------------------------- names, storage


def test_room_names_and_paths(tmp_path):
    for good in ("demo", "Team_2-east", "a", "x" * 40):
        assert validate_room_name(good) == good
    for bad in ("", "x" * 41, "../etc", "a b", "é", "demo.json", None):
        with pytest.raises(ValueError, match="not a valid room name"):
            validate_room_name(bad)
    with pytest.raises(ValueError):
        RoomStore.open(tmp_path, "../escape")
    assert room_path(tmp_path, "demo") == tmp_path / "rooms" / "demo.json"


def test_list_rooms_newest_first(tmp_path):
    assert list_rooms(tmp_path) == []
    for name in ("old", "new", "mid"):
        RoomStore.open(tmp_path, name).close()
    folder = tmp_path / "rooms"
    for name, age in (("old", 300), ("mid", 200), ("new", 100)):
        for path in folder.glob(f"{name}.*"):
            os.utime(path, (time.time() - age, time.time() - age))
    (folder / "junk.json.corrupt-20260101-000000").write_text("x")
    (folder / "notes.txt").write_text("x")
    assert list_rooms(tmp_path) == ["new", "mid", "old"]


def test_atomic_storage_with_tinydb_and_chunked_encoding(tmp_path):
    db = TinyDB(tmp_path / "t.json", storage=AtomicJSONStorage)
    db.insert({"a": 1})
    db.table("other").insert({"text": "naïve \ud800 ☃"})
    again = TinyDB(tmp_path / "t.json", storage=AtomicJSONStorage)
    assert again.all() == [{"a": 1}] and again.table("other").all()[0]["text"] == "naïve \ud800 ☃"
    assert not list(tmp_path.glob("*.tmp-*"))
    big = {"state": {"1": {"items": {f"k{n}": {"n": n, "s": "é" * (n % 3)} for n in range(1234)},
                           "undo": {"a": [{"x": None}]}, "deep": {"a": {"b": {"c": {"d": [1.5]}}}}}}}
    assert json.loads(encode(big)) == big
    assert json.loads(encode({})) == {}
