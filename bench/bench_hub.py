"""The hub with 50 subscribed clients on loopback: an op's fan-out latency, and ops per second.

    python bench/bench_hub.py [--subscribers 50] [--ops 300] [--reader raw|httpx] [--seconds 4]

The hub runs as ``agile-tui serve`` (``python -m agile_tui serve --port 0 --rate 1e6``) in its own process,
with its data in a temporary folder and its log in a file there (as deployed: access log on, info level). The
rate limit is raised so that it does not cap the throughput. This process plays every client, on one asyncio
loop: 50 participants joined with the invite, each holding one SSE stream of room A, and the writers.

Latency: the facilitator posts one op at a time (``item.add``, a fresh id and title); t0 is taken just before
the POST. An op's latency is the time until its event (matched by the seq the POST returned) has arrived at
the last of the 50 subscribers. Each op waits until it has reached all of them, then 10-20 ms pass before the
next: every op is measured alone. 20 warm-up ops first. Baseline: after each op, one round trip of an empty
request (``GET /v1/healthz``) to the same hub with the same client, so both sets of samples see the same
conditions. Target (issue 6): op to all 50 clients p99 <= 50 ms.

Throughput: 4 writers (4 participants, one connection each) post ``item.update`` ops as fast as the hub
acknowledges them, for a few seconds, in batches of 1 (one SQLite transaction, so one fsync, per op) and of 50;
ops/s = acknowledged seqs / elapsed. The same loop against room B of the same hub, which has no subscribers, is
the baseline (its ratio says what the fan-out to 50 costs); A and B run in alternating slices, so that a drift
of the machine (the disk's fsync time, mostly) hits both alike. The rate of empty requests with 4 clients is
printed as the hub's request ceiling, and the disk's fsync time as the floor of a commit. "drain" is how long
after the writers stop the last subscriber has the last op.

The subscribers' reader: ``raw`` (default) is an asyncio.Protocol per stream that decodes the chunked body and
the SSE framing itself and timestamps each read as it arrives; ``httpx`` is ``httpx.AsyncClient.stream`` with
``aiter_lines``. On 2 cores the bench process shares the machine with the hub, so the readers' own cost shows
in the latency: measured at 50 subscribers, httpx costs ~1.7x the CPU per event of the raw reader (see the
"client CPU" figures), doubled the p50 (13.6 against 7.2 ms) and halved room A's ops/s in batches of 1.
Pings (``: ...``) and events without an id or without data (hello, presence) are skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from bench_store import fsync_floor  # noqa: E402
from hub_kit import Arrivals, HttpxSSE, HubProcess, open_raw, own_cpu_s, pct  # noqa: E402

from agile_tui.domain import FakeClock, State, apply_all, make_op  # noqa: E402

TARGET_P99_MS = 50.0
WARMUP = 20
WRITERS = 4
POOL = 10  # items each writer updates in turn
SLICES = 4  # throughput: A and B alternate this many times
TS = "2026-11-30T09:00:00+00:00"


def room_state() -> State:
    clock = FakeClock(TS)
    ops = [make_op("member.add", clock, id="fac", name="Facilitator")]
    ops += [make_op("item.add", clock, id=f"w{w}-{k}", title=f"Account {w}-{k}") for w in range(WRITERS)
            for k in range(POOL)]
    return apply_all(State(), ops)


def ops_body(ops: list[dict]) -> dict:
    return {"client_id": "bench", "ops": ops}


async def post_ops(client: httpx.AsyncClient, room: str, token: str, ops: list[dict]) -> list[dict]:
    response = await client.post(f"/v1/rooms/{room}/ops", json=ops_body(ops),
                                 headers={"Authorization": f"Bearer {token}"})
    if response.status_code != 200:
        raise RuntimeError(f"POST ops: {response.status_code} {response.text}")
    return response.json()["results"]


async def share(client: httpx.AsyncClient, name: str) -> dict:
    response = await client.post("/v1/rooms", json={"state": room_state().to_dict(), "name": "Facilitator"})
    if response.status_code != 201:
        raise RuntimeError(f"share {name}: {response.status_code} {response.text}")
    return response.json()


async def join(client: httpx.AsyncClient, room: dict, name: str) -> str:
    response = await client.post(f"/v1/rooms/{room['room']}/join",
                                 json={"invite": room["invite_token"], "name": name})
    if response.status_code != 201:
        raise RuntimeError(f"join {name}: {response.status_code} {response.text}")
    return response.json()["token"]


async def latency(client: httpx.AsyncClient, room: dict, arrivals: Arrivals, count: int, warmup: int,
                  rng: random.Random) -> dict:
    token = room["facilitator_token"]
    fanout, post_rtt, health, lost = [], [], [], 0
    for k in range(warmup + count):
        op = {"op_id": f"lat-{k}", "type": "item.add", "args": {"id": f"lat-{k}", "title": f"Lead {k}"}, "ts": TS}
        t0 = time.perf_counter()
        results = await post_ops(client, room["room"], token, [op])
        t1 = time.perf_counter()
        seq = results[0].get("seq")
        if seq is None:
            raise RuntimeError(f"op refused: {results[0]}")
        done = await arrivals.all_have(seq, 5.0)
        t2 = time.perf_counter()
        response = await client.get("/v1/healthz")
        t3 = time.perf_counter()
        if response.status_code != 200:
            raise RuntimeError(f"healthz: {response.status_code}")
        if k >= warmup:
            if done is None:
                lost += 1
            else:
                fanout.append(done - t0)
            post_rtt.append(t1 - t0)
            health.append(t3 - t2)
        await asyncio.sleep(rng.uniform(0.010, 0.020))
    return {"fanout": fanout, "post": post_rtt, "health": health, "lost": lost}


async def throughput(url: str, room_id: str, tokens: list[str], batch: int, seconds: float,
                     counter: itertools.count) -> tuple[int, float, int]:
    """Writers post item.update batches as fast as they are acknowledged; (ops committed, seconds, last seq)."""
    clients = [httpx.AsyncClient(base_url=url, timeout=30) for _ in tokens]
    committed = 0
    last_seq = 0
    try:
        for c in clients:  # connect before the clock starts
            await c.get("/v1/healthz")
        deadline = time.perf_counter() + seconds

        async def writer(w: int, client: httpx.AsyncClient, token: str) -> None:
            nonlocal committed, last_seq
            while time.perf_counter() < deadline:
                ops = []
                for _ in range(batch):
                    n = next(counter)
                    ops.append({"op_id": f"tp-{n}", "type": "item.update",
                                "args": {"id": f"w{w}-{n % POOL}", "title": f"Account {w} call {n}"}, "ts": TS})
                results = await post_ops(client, room_id, token, ops)
                for r in results:
                    if "seq" in r and not r.get("duplicate"):
                        committed += 1
                        last_seq = max(last_seq, r["seq"])
                    elif "error" in r:
                        raise RuntimeError(f"op refused: {r}")

        t0 = time.perf_counter()
        await asyncio.gather(*(writer(w, c, t) for w, (c, t) in enumerate(zip(clients, tokens, strict=True))))
        elapsed = time.perf_counter() - t0
    finally:
        for c in clients:
            await c.aclose()
    return committed, elapsed, last_seq


async def request_rate(url: str, clients_n: int, seconds: float) -> float:
    clients = [httpx.AsyncClient(base_url=url, timeout=30) for _ in range(clients_n)]
    done = 0
    try:
        for c in clients:
            await c.get("/v1/healthz")
        deadline = time.perf_counter() + seconds

        async def loop(client: httpx.AsyncClient) -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                if (await client.get("/v1/healthz")).status_code == 200:
                    done += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(loop(c) for c in clients))
        return done / (time.perf_counter() - t0)
    finally:
        for c in clients:
            await c.aclose()


async def drain(arrivals: Arrivals, seq: int, timeout: float = 30.0) -> float | None:
    """Seconds until every subscriber has ``seq`` (None: not within the timeout)."""
    t = time.perf_counter()
    got = await arrivals.all_have(seq, timeout)
    return None if got is None else max(0.0, got - t)


# ---------------------------------------------------------------------------------------------- the run

async def run(hub: HubProcess, args: argparse.Namespace) -> None:
    url = hub.url
    rng = random.Random(7)
    n = args.subscribers
    limits = httpx.Limits(max_connections=n + 20, max_keepalive_connections=n + 20)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        room_a = await share(client, "A")
        room_b = await share(client, "B")
        tokens = [await join(client, room_a, f"Subscriber {k:02d}") for k in range(n)]
        writers_a = [room_a["facilitator_token"]] + [await join(client, room_a, f"Writer {k}")
                                                     for k in range(WRITERS - 1)]
        writers_b = [room_b["facilitator_token"]] + [await join(client, room_b, f"Writer {k}")
                                                     for k in range(WRITERS - 1)]
        arrivals = Arrivals(n)
        t = time.perf_counter()
        if args.reader == "raw":
            streams = list(await asyncio.gather(*(open_raw(url, room_a["room"], tok, arrivals) for tok in tokens)))
        else:
            stream_client = httpx.AsyncClient(base_url=url, limits=limits,
                                              timeout=httpx.Timeout(30, read=None))
            streams = [HttpxSSE(stream_client, room_a["room"], tok, arrivals) for tok in tokens]
            await asyncio.wait_for(asyncio.gather(*(s.opened for s in streams)), 30)
        opened_s = time.perf_counter() - t
        await asyncio.sleep(0.5)  # the presence events of the joins settle
        print(f"{n} subscribers ({args.reader} reader) streaming room A, opened in {opened_s:.2f} s\n")

        # latency
        hub_cpu0, own_cpu0, events0 = hub.cpu_s(), own_cpu_s(), arrivals.events
        lat = await latency(client, room_a, arrivals, args.ops, WARMUP, rng)
        hub_cpu = hub.cpu_s() - hub_cpu0
        own_cpu = own_cpu_s() - own_cpu0
        events = arrivals.events - events0
        ops_done = args.ops + WARMUP

        # throughput: rooms A (50 subscribers) and B (none), in alternating slices so that both see the same
        # machine (the disk's fsync time drifts with whatever else runs)
        counter = itertools.count()
        tp: dict[tuple[str, int], list] = {}
        for batch in (1, 50):
            for _ in range(SLICES):
                for name, room, toks in (("A", room_a, writers_a), ("B", room_b, writers_b)):
                    h0, c0, e0 = hub.cpu_s(), own_cpu_s(), arrivals.events
                    committed, elapsed, last = await throughput(url, room["room"], toks, batch,
                                                                args.seconds / SLICES, counter)
                    drained = await drain(arrivals, last) if name == "A" else 0.0
                    row = tp.setdefault((name, batch), [0, 0.0, 0.0, 0.0, 0.0, 0])
                    row[0] += committed
                    row[1] += elapsed
                    row[2] = None if drained is None or row[2] is None else max(row[2], drained)
                    row[3] += hub.cpu_s() - h0
                    row[4] += own_cpu_s() - c0
                    row[5] += arrivals.events - e0
        req_rate = await request_rate(url, WRITERS, min(args.seconds, 2.0))
        fsync = fsync_floor(hub.data_dir, count=100)

        missing = sum(1 for s in streams if s.last_seq < max(arrivals.count, default=0))
        for s in streams:
            s.close()
        if args.reader == "httpx":
            await asyncio.gather(*(s.task for s in streams), return_exceptions=True)
            await stream_client.aclose()

    # ------------------------------------------------------------------ report
    f50, f99, fmax = pct(lat["fanout"], 50), pct(lat["fanout"], 99), pct(lat["fanout"], 100)
    h50, h99, hmax = pct(lat["health"], 50), pct(lat["health"], 99), pct(lat["health"], 100)
    p50, p99, pmax = pct(lat["post"], 50), pct(lat["post"], 99), pct(lat["post"], 100)
    print(f"latency: {args.ops} ops (after {WARMUP} warm-up), one at a time, 10-20 ms apart")
    header = f"{'':<38} | {'p50 ms':>7} | {'p99 ms':>7} | {'max ms':>7}"
    print(header)
    print("-" * len(header))
    print(f"{'op POST -> at all ' + str(n) + ' subscribers':<38} | {f50:>7.2f} | {f99:>7.2f} | {fmax:>7.2f}")
    print(f"{'  (its POST round trip alone)':<38} | {p50:>7.2f} | {p99:>7.2f} | {pmax:>7.2f}")
    print(f"{'baseline: GET /v1/healthz round trip':<38} | {h50:>7.2f} | {h99:>7.2f} | {hmax:>7.2f}")
    print(f"{'ratio op / baseline':<38} | {f50 / h50:>6.1f}x | {f99 / h99:>6.1f}x |")
    if lat["lost"]:
        print(f"  {lat['lost']} op(s) did not reach all {n} subscribers within 5 s (left out above)")
    print(f"  CPU per op: hub {hub_cpu / ops_done * 1000:.2f} ms, clients {own_cpu / ops_done * 1000:.2f} ms "
          f"({events} events read, {own_cpu / max(events, 1) * 1e6:.0f} us client CPU per event; includes the "
          "healthz requests)")
    print()
    print(f"throughput: {WRITERS} writers, item.update, {args.seconds:g} s per room and batch size, in {SLICES} slices "
          "alternating A and B")
    print("baseline: room B of the same hub, no subscribers")
    print(f"(disk floor now: write + fsync of one line p50 {fsync[0]:.2f} ms, p99 {fsync[1]:.2f} ms; a commit "
          "costs at least one)")
    header = (f"{'batch':>5} | {'A: ops/s, ' + str(n) + ' subs':>17} | {'B: ops/s, 0 subs':>16} | {'A/B':>5} | "
              f"{'drain A s':>9} | {'hub CPU/op A|B us':>17} | {'client CPU/event us':>19}")
    print(header)
    print("-" * len(header))
    for batch in (1, 50):
        a, b = tp[("A", batch)], tp[("B", batch)]
        rate_a, rate_b = a[0] / a[1], b[0] / b[1]
        drained = "timeout" if a[2] is None else f"{a[2]:.2f}"
        print(f"{batch:>5} | {rate_a:>17.0f} | {rate_b:>16.0f} | {rate_a / rate_b:>5.2f} | {drained:>9} | "
              f"{a[3] / max(a[0], 1) * 1e6:>8.0f} {b[3] / max(b[0], 1) * 1e6:>8.0f} | "
              f"{a[4] / max(a[5], 1) * 1e6:>19.1f}")
    print(f"  hub ceiling: GET /v1/healthz with {WRITERS} clients: {req_rate:.0f} requests/s")
    if missing:
        print(f"  {missing} subscriber(s) did not have the last event at the end")
    print()
    print(f"target: op to all {n} subscribers p99 <= {TARGET_P99_MS:g} ms")
    verdict = "PASS" if f99 <= TARGET_P99_MS and not lat["lost"] else "FAIL"
    print(f"{verdict}: p99 {f99:.2f} ms ({f99 / TARGET_P99_MS:.2f} of the target), p50 {f50:.2f} ms; "
          f"baseline healthz p99 {h99:.2f} ms")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--ops", type=int, default=300, help="ops timed for latency (after 20 warm-up)")
    parser.add_argument("--seconds", type=float, default=4.0, help="per throughput row")
    parser.add_argument("--reader", choices=("raw", "httpx"), default="raw")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"agile-tui hub: fan-out latency and throughput with {args.subscribers} SSE subscribers on loopback")
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          "(a busy machine raises every figure)")
    with tempfile.TemporaryDirectory() as tmp:
        hub = HubProcess(Path(tmp))
        try:
            up = hub.start()
            print(f"hub: separate process at {hub.url}, up in {up:.2f} s")
            asyncio.run(run(hub, args))
        finally:
            code = hub.stop()
        if code not in (0, None):
            print(f"note: the hub exited with {code}")
        if "Traceback" in hub.log_path.read_text(errors="replace"):
            print("note: the hub logged a traceback:")
            print(hub.log_path.read_text(errors="replace")[-3000:])
    print(f"(bench took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
