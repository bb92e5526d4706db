"""The metrics board with 20 metrics of 10,000 samples each, against the same board with 10 samples each.

    python bench/bench_metrics.py [--samples 10000] [--baseline 10] [--opens 5] [--updates 150]

Both rooms are written as snapshots and opened the way the app opens them (a real room store in a temporary
folder), headless under ``app.run_test(size=(120, 40))``: 20 metrics (team and per-member; units %, min, € and
none; mean, sum and last), four members, an active sprint with three focus metrics, samples spread over the past
days (one a day over the last 10 days in the small room; ~25 a day over 400 days in the big one), so the recent
periods (the board's sparklines) are populated in both.

**Open**: from posting the key ``3`` (the app starts on planning) until the board shows every row: the app has
handled everything the key caused and composed the frame that shows it (``bench_keypress.settle``: the wait for
Textual's next 60 fps tick is included, as in every figure there). Each open is a new app on the room's session,
the board's row memos cleared: the screen and its rows are built from scratch each time. Two figures:

* *warm*: the app as it runs: when the room loads it builds the metrics index (samples grouped by metric, sorted by
  date) in a thread worker, after its first frame (``AgileApp._warm_metrics``). Open is measured once that worker
  has finished (40–70 ms after start-up at 200,000 samples; a ``3`` pressed before then waits for the rest).
* *cold*: that worker switched off and the index memo cleared, so the key pays for building the index on the main
  thread: what opening costs without the warm-up.

The target (the big board opens within 1.5x of the small one) is judged on the warm figure; both are printed.

**Update**: a new sample, submitted as the keyboard's sample dialog does (``app.submit("metric.sample", ...)`` on
the main thread, in the app's event loop) for a random metric (a random member for per-member metrics), dated
today so the row's latest value, change and sparkline change. Two figures per sample, alternating:

* *direct*: from calling submit (the reducer, the journal queue, the board's ``board_rows`` and the row's widgets
  updated, all inside the call) through the widgets' refresh messages handled, to a compositor refresh triggered
  right away (``Screen._on_timer_update``, what the update timer would call at its next tick: the layout, if one
  is needed, and the frame composed). This is the work one sample costs, without the wait for the tick;
  compare it with the 16 ms target.
* *with frame wait*: the same submit, then ``settle`` as for the open: the frame comes from Textual's own update
  timer, so up to ~17 ms of waiting for the next tick is part of each sample.

Each sample checks that the metric's row view holds a new row and that no other row view was redrawn. The
main thread's CPU time over each sample is printed too (on a busy machine wall time inflates, CPU time much
less). As in bench_keypress, the header's "saved" flip (the writer thread's fsync) is held during a sample and
delivered after it, untimed, and each sample starts with the disk idle. Fewer than 500 samples are submitted per
room, so no journal compaction (a background snapshot of the room) runs during the samples.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT, ROOT / "bench"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from bench_keypress import _dirty, _key_event, pct, settle  # noqa: E402

from agile_tui.config import Memory  # noqa: E402
from agile_tui.domain import FakeClock, State, metric_index, metrics  # noqa: E402
from agile_tui.domain.model import Member, MetricDef, Room, Sample, Sprint  # noqa: E402
from agile_tui.session import RoomSession  # noqa: E402
from agile_tui.store import RoomStore, room_path  # noqa: E402
from agile_tui.store.snapshot import write_snapshot  # noqa: E402
from agile_tui.ui.app import make_app  # noqa: E402
from agile_tui.ui.screens.metrics import MetricsScreen  # noqa: E402
from agile_tui.ui.widgets.metric_board import MetricRowView  # noqa: E402

TODAY = "2026-11-28"
SIZE = (120, 40)
TARGET_OPEN_RATIO = 1.5
TARGET_UPDATE_P99_MS = 16.0
SPAN_DAYS = 400  # the big room's samples cover this many days
MEMBERS = {"m0": "Jordan Blake", "m1": "王芳", "m2": "Lucas García", "m3": "Priya Nair"}
# id, name, unit, target, direction, scope, summary; (low, high) of the values
METRICS = (
    ("listen", "Listen share", "%", 55, "higher", "member", "mean", (30, 75)),
    ("questions", "Open questions per call", "", 11, "higher", "member", "mean", (3, 18)),
    ("mql-sql", "MQL→SQL conversion", "%", 25, "higher", "team", "mean", (10, 40)),
    ("response", "Lead response time", "min", 5, "lower", "team", "mean", (1, 30)),
    ("cycle", "Sales cycle length", "days", 45, "lower", "team", "mean", (20, 90)),
    ("deal", "Average deal size", "€", 18000, "higher", "team", "mean", (6000, 30000)),
    ("quota", "Quota attainment", "%", 100, "higher", "member", "last", (20, 100)),
    ("calls", "Calls made", "", 40, "higher", "member", "sum", (1, 12)),
    ("demos", "Demos booked", "", 6, "higher", "member", "sum", (0, 3)),
    ("pipeline", "Pipeline added", "€", 60000, "higher", "team", "sum", (0, 20000)),
    ("win", "Win rate", "%", 30, "higher", "team", "mean", (5, 50)),
    ("churn", "Churned revenue", "€", 2000, "lower", "team", "sum", (0, 1500)),
    ("talk", "Talk time per call", "min", 12, "lower", "member", "mean", (4, 25)),
    ("followup", "Follow-up within a day", "%", 90, "higher", "member", "mean", (40, 100)),
    ("noshow", "Demo no-show rate", "%", 10, "lower", "team", "mean", (0, 30)),
    ("emails", "Emails sent", "", 150, "higher", "member", "sum", (5, 40)),
    ("discount", "Average discount", "%", 8, "lower", "team", "mean", (0, 25)),
    ("ramp", "Time to first deal", "days", 60, "lower", "member", "last", (20, 120)),
    ("nps", "Customer NPS", "", 40, "higher", "team", "mean", (-20, 80)),
    ("ttv", "Time to value", "days", 14, "lower", "team", "mean", (3, 40)),
)
FOCUS = ("response", "listen", "deal")


def build_state(per_metric: int, seed: int = 7) -> State:
    rng = random.Random(seed)
    members = {mid: Member(id=mid, name=name, role="AE") for mid, name in MEMBERS.items()}
    metric_defs = {m[0]: MetricDef(id=m[0], name=m[1], unit=m[2], target=m[3], direction=m[4], scope=m[5],
                                   summary=m[6]) for m in METRICS}
    sprint = Sprint(id="s1", name="Sprint 7", start="2026-11-19", days=14, status="active", capacity=40,
                    started_on="2026-11-19", goal="Book 12 qualified demos with Nordic fintech accounts.",
                    focus_metrics=FOCUS)
    today = date.fromisoformat(TODAY)
    days = min(per_metric, SPAN_DAYS)
    samples: dict[str, Sample] = {}
    for k in range(per_metric):  # oldest first, as a room gains them; the metrics interleaved within a day
        day = (today - timedelta(days=days - 1 - k * days // per_metric)).isoformat()
        for metric_id, _name, _unit, _target, _dir, scope, _summary, (low, high) in METRICS:
            sample_id = f"{metric_id}-{k}"
            samples[sample_id] = Sample(id=sample_id, metric_id=metric_id, date=day,
                                        value=round(rng.uniform(low, high), 1),
                                        member_id=f"m{k % len(MEMBERS)}" if scope == "member" else None)
    return State(room=Room(name="bench", team="Bench Team"), members=members, sprints={"s1": sprint},
                 metrics=metric_defs, samples=samples)


class ScreenFrames:
    """Timestamps the end of each compositor refresh of any MetricsScreen (the screen does not exist before the
    key that opens it, so its class is hooked, not an instance)."""

    def __init__(self) -> None:
        self.last_end = 0.0
        self.count = 0
        self.event = asyncio.Event()
        original = MetricsScreen._compositor_refresh
        frames = self

        def refresh(screen) -> None:
            original(screen)
            frames.last_end = time.perf_counter()
            frames.count += 1
            frames.event.set()

        MetricsScreen._compositor_refresh = refresh
        self._original = original

    def close(self) -> None:
        MetricsScreen._compositor_refresh = self._original


def clear_row_memos(index_too: bool) -> None:
    """Forget the board's memoised rows and period values (and the samples index): a board built from scratch."""
    metrics._known.clear()
    metrics._rows.clear()
    if index_too:
        with metric_index._lock:
            metric_index._memo = None


@contextmanager
def warm_up_disabled():
    original = metrics.warm
    metrics.warm = lambda *args, **kwargs: None
    try:
        yield
    finally:
        metrics.warm = original


class Room_:
    """One room on disk and its session (kept open across the apps opened on it)."""

    def __init__(self, per_metric: int, folder: Path) -> None:
        self.per_metric = per_metric
        name = f"metrics{per_metric}"
        snapshot = room_path(folder, name)
        snapshot.parent.mkdir(parents=True)
        write_snapshot(snapshot, build_state(per_metric), 0, name)
        self.clock = FakeClock(f"{TODAY}T09:00:00+00:00")
        self.folder = folder
        self.session = RoomSession(RoomStore.open(folder, name), clock=self.clock)
        assert len(self.session.state.samples) == per_metric * len(METRICS)

    def app(self):
        return make_app(self.session, memory=Memory.load(self.folder), config_dir=self.folder / "config",
                        today=self.clock.now().date())

    def close(self) -> None:
        self.session.close()


def check_board(app) -> list[MetricRowView]:
    screen = app.screen
    assert isinstance(screen, MetricsScreen), type(screen)
    views = list(screen.query(MetricRowView))
    assert len(views) == len(METRICS), len(views)
    assert [v.metric_id for v in views[:3]] == list(FOCUS), [v.metric_id for v in views[:3]]
    for view in views:
        assert view.row is not None and view._ready and view.region.height == 1, view.metric_id
        assert str(view.query_one(".metric-latest").render()).strip() not in ("", "–"), view.metric_id
    return views


async def open_board(room: Room_, frames: ScreenFrames, warm: bool) -> tuple[float, float]:
    """One app on the room: start it, (wait for the warm-up,) press 3; wall and main-thread CPU ms of the open."""
    app = room.app()
    if not warm:
        clear_row_memos(index_too=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        if warm:
            await app.workers.wait_for_complete()
            assert metric_index._memo is not None and metric_index._memo.samples is room.session.state.samples
        else:
            assert metric_index._memo is None, "the index was built before the key"
        clear_row_memos(index_too=False)
        await pilot._wait_for_screen()
        gc.collect()
        cpu0, t0 = time.thread_time(), time.perf_counter()
        event = _key_event("3")
        event.set_sender(app)
        app.post_message(event)
        end, cpu_end = await settle(pilot, frames, t0)
        check_board(app)
    return (end - t0) * 1000, (cpu_end - cpu0) * 1000


class Updates:
    def __init__(self) -> None:
        self.wall: dict[str, list[float]] = {"direct": [], "frame": []}
        self.cpu: dict[str, list[float]] = {"direct": [], "frame": []}


async def compose_now(pilot, frames: ScreenFrames, nodes: list) -> tuple[float, float]:
    """Let the widgets handle what they were sent (their refreshes reach the screen as messages), then compose the
    frame at once, as the update timer would at its next tick (no wait for it). ``nodes``: the app and the screen's
    widgets (listed once per sample, so the polling costs little)."""
    app = pilot.app
    screen = app.screen
    end = 0.0
    for _ in range(1000):
        if any(node._message_queue.qsize() for node in nodes):
            await asyncio.sleep(0)
        elif _dirty(screen):
            count = frames.count
            screen._on_timer_update()
            if frames.count != count:
                end = frames.last_end
        else:
            return end, time.thread_time()
    raise RuntimeError("the screen did not settle")


async def run_updates(room: Room_, frames: ScreenFrames, count: int, seed: int = 11) -> Updates:
    rng = random.Random(seed)
    session = room.session
    app = room.app()
    result = Updates()
    specs = {m[0]: m for m in METRICS}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.press("3")
        await settle(pilot, frames, 0.0)
        check_board(app)
        deliver, held = session.on_saved, []
        session.on_saved = held.append
        gc.collect()
        for k in range(count):
            metric_id = rng.choice(list(specs))
            _id, _name, _unit, _target, _dir, scope, _summary, (low, high) = specs[metric_id]
            args = {"member_id": rng.choice(list(MEMBERS))} if scope == "member" else {}
            views = {v.metric_id: (v, v.row) for v in app.screen.query(MetricRowView)}
            nodes = [app, *app.screen.walk_children(with_self=True)]
            mode = "direct" if k % 2 == 0 else "frame"
            cpu0, t0 = time.thread_time(), time.perf_counter()
            refused = app.submit("metric.sample", id=f"bench-{k}", metric_id=metric_id,
                                 value=round(rng.uniform(low, high), 1), date=TODAY, **args)
            if mode == "direct":
                end, cpu_end = await compose_now(pilot, frames, nodes)
            else:
                end, cpu_end = await settle(pilot, frames, t0)
            assert refused is None, refused
            assert end > t0, "no frame was composed"
            result.wall[mode].append((end - t0) * 1000)
            result.cpu[mode].append((cpu_end - cpu0) * 1000)
            await settle(pilot, frames, 0.0)  # untimed: anything left over
            for mid, (view, row) in views.items():
                assert (view.row is not row) == (mid == metric_id), f"{mid} redrawn: {view.row is not row}"
            session.flush()  # untimed: the next sample starts with the disk idle
            while held:
                deliver(held.pop(0))
            await settle(pilot, frames, 0.0)
        session.on_saved = deliver
    return result


async def main_async(args) -> int:
    started = time.perf_counter()
    sizes = (args.baseline, args.samples)
    labels = {n: f"{n:,}/metric" for n in sizes}
    print(f"metrics board, {SIZE[0]}x{SIZE[1]} headless: {len(METRICS)} metrics with {args.samples:,} samples "
          f"each ({args.samples * len(METRICS):,} in all) against {args.baseline} each; 3 focus metrics, "
          f"{len(MEMBERS)} members")
    assert args.updates * 2 < 500, "stay below the journal's compaction threshold"
    frames = ScreenFrames()
    opens: dict[tuple[int, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="agile-bench-metrics-") as tmp:
        t0 = time.perf_counter()
        rooms = {n: Room_(n, Path(tmp) / f"r{n}") for n in sizes}
        print(f"(rooms written and loaded in {time.perf_counter() - t0:.1f} s)\n")
        try:
            first = await open_board(rooms[args.baseline], frames, warm=True)  # Textual's first-use costs
            for _ in range(args.opens):
                for n in sizes:  # interleaved, so both rooms meet the machine in the same mood
                    with warm_up_disabled():
                        opens.setdefault((n, "cold"), []).append(await open_board(rooms[n], frames, warm=False))
                    opens.setdefault((n, "warm"), []).append(await open_board(rooms[n], frames, warm=True))
            updates = {n: await run_updates(rooms[n], frames, args.updates * 2) for n in sizes}
        finally:
            for room in rooms.values():
                room.close()
            frames.close()

    def median(values: list[float]) -> float:
        return pct(values, 50)

    print(f"open: key 3 -> every row drawn and its frame composed; median of {args.opens} (min-max), "
          "wall ms | main-thread cpu ms")
    print(f"  (not in the figures: the first open in this process, {labels[args.baseline]}, took {first[0]:.0f} ms: "
          "Textual parses the board widgets' CSS on first use)")
    small, big = args.baseline, args.samples
    for kind, note in (("warm", "index built by the load-time worker"), ("cold", "no warm-up: index built on the key")):
        figures = {}
        for n in sizes:
            wall = [w for w, _ in opens[(n, kind)]]
            cpu = [c for _, c in opens[(n, kind)]]
            figures[n] = median(wall)
            print(f"  {kind} ({note}), {labels[n]:>13}: {median(wall):7.1f} ({min(wall):.1f}-{max(wall):.1f}) "
                  f"| cpu {median(cpu):6.1f}")
        print(f"  {kind} ratio {labels[big]} / {labels[small]}: {figures[big] / figures[small]:.2f}x")
    ratio = median([w for w, _ in opens[(big, "warm")]]) / median([w for w, _ in opens[(small, "warm")]])

    print(f"\nupdate: one new sample (app.submit, main thread) -> its row redrawn and the frame composed; "
          f"{args.updates} samples per figure")
    header = (f"{'figure':<34} | {labels[small] + ' p50/p99 ms':>24} | {labels[big] + ' p50/p99 ms':>27} | "
              f"{'ratio p50/p99':>13} | {'cpu ' + labels[big] + ' p50/p99':>26}")
    print(header)
    print("-" * len(header))
    for mode, title in (("direct", "direct (frame composed at once)"), ("frame", "with the wait for the 60 fps tick")):
        ref, samples, cpu = updates[small].wall[mode], updates[big].wall[mode], updates[big].cpu[mode]
        b50, b99, s50, s99 = pct(ref, 50), pct(ref, 99), pct(samples, 50), pct(samples, 99)
        print(f"{title:<34} | {b50:>10.2f} / {b99:>10.2f} | {s50:>12.2f} / {s99:>11.2f} | "
              f"{s50 / b50:>5.1f}x/{s99 / b99:>5.1f}x | {pct(cpu, 50):>13.2f} / {pct(cpu, 99):>10.2f}")
    direct99 = pct(updates[big].wall["direct"], 99)
    print(f"\ntargets: the {labels[big]} board opens within {TARGET_OPEN_RATIO:g}x of the {labels[small]} one "
          f"(warm); one new sample updates within {TARGET_UPDATE_P99_MS:g} ms p99 (direct)")
    print(f"{'PASS' if ratio <= TARGET_OPEN_RATIO else 'FAIL'}: open ratio {ratio:.2f}x")
    print(f"{'PASS' if direct99 <= TARGET_UPDATE_P99_MS else 'FAIL'}: update p99 at {labels[big]} = "
          f"{direct99:.2f} ms (with the frame wait: {pct(updates[big].wall['frame'], 99):.2f} ms)")
    print(f"(bench took {time.perf_counter() - started:.0f} s)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000, help="samples per metric in the big room")
    parser.add_argument("--baseline", type=int, default=10, help="samples per metric in the small room")
    parser.add_argument("--opens", type=int, default=5, help="opens per room and kind (warm, cold)")
    parser.add_argument("--updates", type=int, default=150, help="new samples per figure (direct, frame wait)")
    args = parser.parse_args()
    os.environ.pop("NO_COLOR", None)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
