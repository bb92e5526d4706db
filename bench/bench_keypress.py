"""Key press to screen update on the planning screen with 5,000 backlog items, against 50 items.

    python bench/bench_keypress.py [--items 5000] [--baseline 50] [--presses 100] [--adds 12]

The app runs headless under ``app.run_test(size=(120, 40))`` on a real room store in a temporary folder
(the room is written as a snapshot, then opened the way the app opens it; 10 items in an active sprint, the
rest in the backlog; the backlog table has the focus, its cursor in the middle). The keys: ``z`` (bound to
nothing: the floor of the method), ``j``/``k`` alternating (cursor), ``space`` (status cycle: an op),
``J``/``K`` alternating (reorder: an op), and per added item ``a`` (open the editor), typing ``Lead N``,
``enter`` (save: an op), then ``escape`` (untimed).

What one sample measures (``pilot.press`` itself sleeps >= 40 ms waiting for "idle", so it is not used for
timing): from posting the key event to the app, as the terminal driver does, until

* everything it caused has been handled: the message queues of the app, the screen and every widget are
  empty, and the screen has no dirty region, layout or scroll left (checked each turn of the event loop;
  then confirmed, untimed, with Pilot's barrier: a callback queued through every widget); and
* the frame that shows it has been composed: each compositor refresh of the screen (the step that would
  write to the terminal) is timestamped; a sample ends at the end of the last frame the key caused (or when
  the app went quiet, for a key that changes nothing). Frames come from Textual's own update timer
  (60 fps), so up to ~17 ms of waiting for the next tick is part of every sample, in both rooms alike.

Headless, a frame is composed but not encoded to escape sequences nor written. The header's "saved" flip,
which waits for the writer thread's fsync (bench_store.py measures that), is held during a sample and
delivered after it, untimed; each sample starts with the disk idle, as at human typing speed. Besides wall
time, the main thread's CPU time over the sample is printed: on a busy machine wall time inflates, CPU time
much less.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from textual import events  # noqa: E402

from agile_tui.config import Memory  # noqa: E402
from agile_tui.domain import FakeClock, State  # noqa: E402
from agile_tui.domain.model import Item, Member, Room, Sprint  # noqa: E402
from agile_tui.domain.rank import spread  # noqa: E402
from agile_tui.session import RoomSession  # noqa: E402
from agile_tui.store import RoomStore, room_path  # noqa: E402
from agile_tui.store.snapshot import write_snapshot  # noqa: E402
from agile_tui.ui.app import make_app  # noqa: E402
from agile_tui.ui.widgets.item_table import ItemTable  # noqa: E402

TODAY = "2026-11-28"
SPRINT_ITEMS = 10
TARGET_P99_MS = 50.0
SIZE = (120, 40)
CHARS = {"space": " ", "enter": "\r", "escape": "\x1b", "tab": "\t"}


def build_state(n: int) -> State:
    members = {f"m{k}": Member(id=f"m{k}", name=name, role="AE")
               for k, name in enumerate(("Jordan Blake", "王芳", "Lucas García", "Sam Okafor", "Priya Nair",
                                         "Ana Souza 🚀"))}
    sprint = Sprint(id="s1", name="Sprint 7", start="2026-11-19", days=14, status="active", capacity=40,
                    started_on="2026-11-19", goal="Book 12 qualified demos with Nordic fintech accounts.")
    ranks = spread(n)
    statuses = ("todo", "todo", "doing", "done")
    items = {}
    for k in range(n):
        items[f"i{k}"] = Item(
            id=f"i{k}", title=f"Follow up with account {k} about the Q{k % 4 + 1} renewal", rank=ranks[k],
            owner=f"m{k % 6}" if k % 7 else "", estimate=("1", "2", "3", "5", "8", "")[k % 6],
            status=statuses[k % 4], kind=("task", "task", "deal", "milestone")[k % 4],
            sprint_id="s1" if k < SPRINT_ITEMS else None, created_on="2026-11-16",
            done_on="2026-11-20" if statuses[k % 4] == "done" else None)
    return State(room=Room(name="bench", team="Bench Team"), members=members, sprints={"s1": sprint},
                 items=items)


class Frames:
    """Timestamps the end of each compositor refresh of one screen (a frame composed for the terminal)."""

    def __init__(self, screen) -> None:
        self.last_end = 0.0
        self.count = 0
        self.event = asyncio.Event()
        original = screen._compositor_refresh

        def refresh() -> None:
            original()
            self.last_end = time.perf_counter()
            self.count += 1
            self.event.set()

        screen._compositor_refresh = refresh


def _busy(app, screen) -> bool:
    nodes = [app, *screen.walk_children(with_self=True)]
    return any(not node._message_queue.empty() for node in nodes)


def _dirty(screen) -> bool:
    return bool(screen._layout_required or screen._scroll_required or screen._repaint_required
                or screen._recompose_required or screen._dirty_widgets)


async def settle(pilot, frames: Frames, since: float) -> tuple[float, float]:
    """Wait until the app has handled everything the key caused and composed the frame that shows it;
    returns when that was (``perf_counter``) and the main thread's CPU time (``thread_time``) then."""
    app = pilot.app
    for _ in range(1000):
        quiet_since, quiet_cpu, quiet_polls = 0.0, 0.0, 0
        while quiet_polls < 3:  # quiet for 3 turns of the event loop in a row
            screen = app.screen
            if _busy(app, screen):
                quiet_polls = 0
                await asyncio.sleep(0)
            elif _dirty(screen):  # the update timer will compose a frame: wait for it, without spinning
                quiet_polls = 0
                frames.event.clear()
                try:
                    await asyncio.wait_for(frames.event.wait(), timeout=0.5)
                except TimeoutError:
                    screen._on_timer_update()  # the update timer did not fire: render now
            else:
                if quiet_polls == 0:
                    quiet_since, quiet_cpu = time.perf_counter(), time.thread_time()
                quiet_polls += 1
                await asyncio.sleep(0)
        # Confirm with Pilot's barrier (not timed): a handler may have been suspended while queues looked
        # empty. If the barrier turns up more work, keep going.
        count = frames.count
        await pilot._wait_for_screen()
        if frames.count == count and not _busy(app, app.screen) and not _dirty(app.screen):
            return max(quiet_since, frames.last_end if frames.last_end > since else 0.0), quiet_cpu
    raise RuntimeError("the app did not settle")


def _key_event(key: str) -> events.Key:
    char = CHARS.get(key, key if len(key) == 1 else None)
    return events.Key(key, char)


class Keys:
    """Timed key presses, kept by kind: wall milliseconds, and the main thread's CPU milliseconds."""

    def __init__(self, pilot, frames: Frames, session: RoomSession) -> None:
        self.pilot, self.frames = pilot, frames
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}
        # The header's "saved" flip waits for the writer thread's fsync (bench_store measures that): it is
        # held during a sample and delivered after it, untimed.
        self._deliver = session.on_saved
        self._held: list = []
        session.on_saved = self._held.append

    async def press(self, key: str, kind: str | None = None) -> None:
        """One key press; timed under ``kind`` unless it is None."""
        app = self.pilot.app
        cpu0, t0 = time.thread_time(), time.perf_counter()
        event = _key_event(key)
        event.set_sender(app)
        app.post_message(event)
        end, cpu_end = await settle(self.pilot, self.frames, t0)
        if kind is not None:
            self.wall.setdefault(kind, []).append((end - t0) * 1000)
            self.cpu.setdefault(kind, []).append((cpu_end - cpu0) * 1000)
        app.session.flush()  # untimed: the next sample starts with the disk idle, as at human typing speed
        if self._held:
            while self._held:
                self._deliver(self._held.pop(0))
            await settle(self.pilot, self.frames, 0.0)


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def run_room(n: int, folder: Path, presses: int, adds: int) -> tuple[Keys, float]:
    room = f"bench{n}"
    snapshot = room_path(folder, room)
    snapshot.parent.mkdir(parents=True)
    write_snapshot(snapshot, build_state(n), 0, room)
    clock = FakeClock(f"{TODAY}T09:00:00+00:00")
    store = RoomStore.open(folder, room)
    session = RoomSession(store, clock=clock)
    app = make_app(session, memory=Memory.load(folder), config_dir=folder / "config",
                   today=clock.now().date())
    try:
        t0 = time.perf_counter()
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            frames = Frames(screen)
            open_ms = ((await settle(pilot, frames, t0))[0] - t0) * 1000
            table = screen.query_one("#backlog-table", ItemTable)
            assert table.row_count == n - SPRINT_ITEMS, (table.row_count, n)
            table.focus()
            table.select(table.ids[table.row_count // 2])
            await settle(pilot, frames, 0.0)
            gc.collect()
            keys = Keys(pilot, frames, session)

            for _ in range(max(1, presses // 3)):
                await keys.press("z", "no-op key (floor)")
            # j and k alternate, so every press moves the cursor (in both rooms).
            for k in range(presses):
                await keys.press("j" if k % 2 == 0 else "k", "j/k (cursor move)")
            for _ in range(presses):
                await keys.press("space", "space (status)")
            assert session.state.undo, "space changed nothing"
            moved, row = table.selected_id, table.cursor
            for k in range(presses):
                await keys.press("J" if k % 2 == 0 else "K", "J/K (reorder)")
            assert table.selected_id == moved and table.cursor == row, "J/K did not move the item"
            count = len(session.state.items)
            for k in range(adds):
                await keys.press("a", "a (open editor)")
                for ch in f"Lead {k}":
                    await keys.press("space" if ch == " " else ch, "typing a title")
                await keys.press("enter", "enter (save new item)")
                await keys.press("escape")
            assert len(session.state.items) == count + adds, "the adds did not all land"
        await asyncio.to_thread(session.flush)
    finally:
        session.close()
    return keys, open_ms


async def main_async(args) -> int:
    started = time.perf_counter()
    print(f"key press -> screen update on the planning screen, {SIZE[0]}x{SIZE[1]} headless: {args.items:,} "
          f"items against a baseline of {args.baseline} items ({SPRINT_ITEMS} in the active sprint, the rest "
          "in the focused backlog)")
    print("sample: key event posted -> app idle with the frame showing it composed (see the docstring); "
          "cpu = main thread CPU in that time\n")
    with tempfile.TemporaryDirectory(prefix="agile-bench-keys-") as tmp:
        base, base_open = await run_room(args.baseline, Path(tmp) / "base", args.presses, args.adds)
        big, big_open = await run_room(args.items, Path(tmp) / "big", args.presses, args.adds)
    b_label, s_label = f"{args.baseline} items", f"{args.items:,} items"
    header = (f"{'key':<22} {'n':>4} | {b_label + ' p50/p99 ms':>21} | {s_label + ' p50/p99 ms':>24} | "
              f"{'ratio p50/p99':>13} | {'cpu ' + s_label + ' p50/p99':>26}")
    print(header)
    print("-" * len(header))
    worst = ("", 0.0)
    for kind, samples in big.wall.items():
        ref, cpu = base.wall[kind], big.cpu[kind]
        b50, b99, s50, s99 = pct(ref, 50), pct(ref, 99), pct(samples, 50), pct(samples, 99)
        print(f"{kind:<22} {len(samples):>4} | {b50:>9.1f} / {b99:>9.1f} | {s50:>11.1f} / {s99:>10.1f} | "
              f"{s50 / b50:>5.1f}x/{s99 / b99:>5.1f}x | {pct(cpu, 50):>13.1f} / {pct(cpu, 99):>10.1f}")
        if "floor" not in kind and s99 > worst[1]:
            worst = (kind, s99)
    print(f"\nopening the room (mount -> first complete frame): {base_open:.0f} ms at {b_label}, "
          f"{big_open:.0f} ms at {s_label} (ratio {big_open / base_open:.1f}x)")
    print(f"target: p99 <= {TARGET_P99_MS:g} ms for every key at {s_label}")
    verdict = "PASS" if worst[1] <= TARGET_P99_MS else "FAIL"
    print(f"{verdict}: worst p99 at {s_label} = {worst[1]:.1f} ms ({worst[0]})")
    print(f"(bench took {time.perf_counter() - started:.0f} s)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--baseline", type=int, default=50)
    parser.add_argument("--presses", type=int, default=100, help="presses of j, space and J/K each")
    parser.add_argument("--adds", type=int, default=12, help="items added through the editor")
    args = parser.parse_args()
    os.environ.pop("NO_COLOR", None)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
