"""20 people in one room over SSH: memory per participant, and an op's time to every screen.

    python bench/bench_ssh.py [--people 20] [--rounds 10]

The hub runs as ``agile-tui serve --port 0 --ssh-port 0`` in its own process (its data and log in a temporary
folder), with a keys file of 20 fresh ed25519 keys. This process plays the 20 people: one asyncssh connection
each, with a pty of 100x30 (xterm-256color), so the hub spawns 20 real ``agile-tui join`` clients, each on its
own pseudo-terminal. Everything each connection receives (the clients' screens, as escape sequences) is
watched for text.

- start: from opening the 20 connections at once to each screen showing "● live" (2 cores: 20 Pythons start).
- memory: each spawned client's RSS and PSS (/proc/PID/status, smaps_rollup; PSS shares the common pages
  fairly), and the hub's RSS growth from before the 20 joined to after they are live.
- an op to all screens: the facilitator renames the sprint's one item (``item.update``, a distinctive title)
  through the HTTP API; t0 is taken just before the POST. Measured: until the title has appeared in the output of the
  first and of the last of the 20 SSH channels. Baselines, in the same run: the same op's arrival at one plain
  SSE subscriber (a participant's event stream, read with httpx in this process), and, before the 20 join, at
  one SSH screen alone (what the client's own pipeline costs, without 20 of them sharing 2 cores). Each op
  waits until all have it, then 300 ms pass. One warm-up op first.
- idle: the CPU the 20 clients and the hub use in 3 s of nothing happening.
- hang-up: from closing the 20 connections to the last client process gone (each gets SIGHUP and saves).

Prints figures and ratios; asserts nothing. Takes about a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncssh  # noqa: E402
import httpx  # noqa: E402

from agile_tui.domain import FakeClock, State, apply_all, make_op  # noqa: E402

TS = "2026-11-30T09:00:00+00:00"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SIZE = (100, 30)


def room_state() -> State:
    clock = FakeClock(TS)
    ops = [make_op("member.add", clock, id="fac", name="Facilitator"),
           make_op("sprint.create", clock, id="s1", name="Sprint 1", start="2026-11-23", days=14,
                   goal="Twenty people, one room."),
           make_op("sprint.start", clock, id="s1"),
           make_op("item.add", clock, id="watched", title="Watched item", sprint_id="s1")]
    return apply_all(State(), ops)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


# ---------------------------------------------------------------------------------------------- /proc

def status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


# ---------------------------------------------------------------------------------------------- the hub

class Hub:
    def __init__(self, folder: Path, keys: Path) -> None:
        self.folder, self.keys = folder, keys
        self.log = folder / "hub.log"
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.ssh_port = 0

    def start(self, timeout: float = 60) -> None:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "agile_tui", "serve", "--port", "0", "--ssh-port", "0", "--data-dir",
                 str(self.folder / "hub"), "--ssh-authorized-keys", str(self.keys)], cwd=ROOT, env=env,
                stdout=out, stderr=out)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the hub exited:\n{self.log.read_text()}")
            text = self.log.read_text()
            http = re.search(r"agile-tui hub on (http://127\.0\.0\.1:\d+)", text)
            ssh = re.search(r"agile-tui ssh on 127\.0\.0\.1:(\d+)", text)
            if http and ssh:
                self.url, self.ssh_port = http.group(1), int(ssh.group(1))
                try:
                    if httpx.get(f"{self.url}/v1/healthz", timeout=2).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the hub did not start:\n{text}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


# ---------------------------------------------------------------------------------------------- watchers

class Screen:
    """One SSH connection with a pty; notes when a watched text first shows in what it receives."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tail = b""
        self.watch: dict[bytes, asyncio.Future] = {}
        self.conn = None
        self.process = None
        self.bytes = 0

    def expect(self, text: str) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        self.watch[text.encode()] = fut
        return fut

    def feed(self, data: bytes) -> None:
        now = time.perf_counter()
        self.bytes += len(data)
        window = self.tail + data
        for needle, fut in list(self.watch.items()):
            if needle in window:
                del self.watch[needle]
                if not fut.done():
                    fut.set_result(now)
        self.tail = window[-256:]

    async def open(self, port: int, key, room: str) -> None:
        self.conn = await asyncssh.connect("127.0.0.1", port, username=room, client_keys=[key], known_hosts=None,
                                           agent_path=None, config=None)
        self.process = await self.conn.create_process(term_type="xterm-256color", term_size=SIZE, encoding=None)
        asyncio.ensure_future(self._pump())

    async def _pump(self) -> None:
        while True:
            data = await self.process.stdout.read(65536)
            if not data:
                return
            self.feed(data)


class Subscriber:
    """The baseline: one participant's SSE stream, read with httpx; notes when a watched text arrives."""

    def __init__(self, url: str, room: str, token: str) -> None:
        self.url, self.room, self.token = url, room, token
        self.watch: dict[str, asyncio.Future] = {}
        self.ready = asyncio.get_running_loop().create_future()
        self.task = asyncio.ensure_future(self._run())

    def expect(self, text: str) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        self.watch[text] = fut
        return fut

    async def _run(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=httpx.Timeout(10, read=None)) as client:
            async with client.stream("GET", f"/v1/rooms/{self.room}/events",
                                     headers={"Authorization": f"Bearer {self.token}"}) as response:
                async for line in response.aiter_lines():
                    now = time.perf_counter()
                    if not self.ready.done():
                        self.ready.set_result(now)
                    for needle, fut in list(self.watch.items()):
                        if needle in line:
                            del self.watch[needle]
                            if not fut.done():
                                fut.set_result(now)


# ---------------------------------------------------------------------------------------------- the run

async def ops_to(http, room: str, token: str, screens: list[Screen], subscriber: Subscriber, rounds: int):
    """``rounds`` ops (after one warm-up), one at a time: (SSE arrival, first screen, last screen, every screen),
    in seconds from just before each POST."""
    sse, first, last, each = [], [], [], []
    for n in range(rounds + 1):
        title = f"SSHBENCH{n:02d}{uuid.uuid4().hex[:6].upper()}"
        on_screens = [s.expect(title) for s in screens]
        on_sse = subscriber.expect(title)
        body = {"client_id": "bench", "ops": [{"op_id": uuid.uuid4().hex, "type": "item.update", "ts": TS,
                                               "args": {"id": "watched", "title": title}}]}
        t = time.perf_counter()
        response = await http.post(f"/v1/rooms/{room}/ops", json=body, headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        done, pending = await asyncio.wait([*on_screens, on_sse], timeout=10)
        if pending:
            print(f"  op {n}: {len(pending)} of {len(screens) + 1} never showed it within 10 s")
            continue
        await asyncio.sleep(0.3)
        if n == 0:
            continue  # warm-up
        times = sorted(f.result() - t for f in on_screens)
        sse.append(on_sse.result() - t)
        first.append(times[0])
        last.append(times[-1])
        each.extend(times)
    return sse, first, last, each


async def run(people: int, rounds: int, folder: Path) -> None:
    keys = [asyncssh.generate_private_key("ssh-ed25519") for _ in range(people + 1)]
    names = [f"Person {n:02d}" for n in range(people + 1)]  # Person 00: alone, first
    keys_file = folder / "authorized_keys"
    keys_file.write_text("".join(f'name="{name}" {key.export_public_key().decode().strip()}\n'
                                 for name, key in zip(names, keys, strict=True)))
    hub = Hub(folder, keys_file)
    hub.start()
    try:
        async with httpx.AsyncClient(base_url=hub.url, timeout=30) as http:
            shared = (await http.post("/v1/rooms", json={"state": room_state().to_dict(), "name": "Facilitator",
                                                         "member_id": "fac"})).json()
            room, fac_token = shared["room"], shared["facilitator_token"]
            watcher = (await http.post(f"/v1/rooms/{room}/join",
                                       json={"invite": shared["invite_token"], "name": "Watcher"})).json()
            subscriber = Subscriber(hub.url, room, watcher["token"])
            await asyncio.wait_for(subscriber.ready, 20)

            alone = Screen(names[0])
            up = alone.expect("● live")
            await alone.open(hub.ssh_port, keys[0], room)
            await asyncio.wait_for(up, 60)
            sse_solo, _, solo, _ = await ops_to(http, room, fac_token, [alone], subscriber, max(3, rounds // 2))
            alone.conn.close()
            names, keys = names[1:], keys[1:]
            await asyncio.sleep(1.0)

            hub_rss_before = status_kb(hub.proc.pid, "VmRSS")
            hub_cpu_before = cpu_s(hub.proc.pid)
            screens = [Screen(name) for name in names]
            t0 = time.perf_counter()
            live = [screen.expect("● live") for screen in screens]
            logging_in = asyncio.Semaphore(8)  # the hub lets 16 logins from one address be under way at once

            async def open_one(screen, key) -> None:
                async with logging_in:
                    await screen.open(hub.ssh_port, key, room)

            await asyncio.gather(*(open_one(s, k) for s, k in zip(screens, keys, strict=True)))
            opened = time.perf_counter() - t0
            await asyncio.wait_for(asyncio.gather(*live), 150)
            starts = sorted(t - t0 for t in (f.result() for f in live))
            hub_cpu_start = cpu_s(hub.proc.pid) - hub_cpu_before
            await asyncio.sleep(1.0)
            clients = children(hub.proc.pid)
            rss = [status_kb(pid, "VmRSS") for pid in clients]
            pss = [pss_kb(pid) for pid in clients]
            hub_rss_after = status_kb(hub.proc.pid, "VmRSS")

            print(f"people: {people} over SSH, each a pty of {SIZE[0]}x{SIZE[1]}; {len(clients)} client processes")
            print(f"start: all {people} connections open in {opened:.2f} s; screens live: first {starts[0]:.2f} s,"
                  f" median {statistics.median(starts):.2f} s, last {starts[-1]:.2f} s (hub CPU meanwhile "
                  f"{hub_cpu_start:.2f} s)")
            print(f"memory per participant: client RSS mean {statistics.mean(rss) / 1024:.1f} MiB (max "
                  f"{max(rss) / 1024:.1f}), PSS mean {statistics.mean(pss) / 1024:.1f} MiB; hub RSS "
                  f"{hub_rss_before / 1024:.1f} -> {hub_rss_after / 1024:.1f} MiB "
                  f"(+{(hub_rss_after - hub_rss_before) / 1024 / people:.2f} MiB per participant)")
            print(f"  all {people}: {sum(pss) / 1024:.0f} MiB PSS in the clients + "
                  f"{(hub_rss_after - hub_rss_before) / 1024:.0f} MiB in the hub")

            # an op to every screen
            cpu_before = (sum(cpu_s(pid) for pid in clients), cpu_s(hub.proc.pid), own_cpu_s())
            sse, first, last, each = await ops_to(http, room, fac_token, screens, subscriber, rounds)
            used = [after - before for after, before in zip(
                (sum(cpu_s(pid) for pid in clients), cpu_s(hub.proc.pid), own_cpu_s()), cpu_before, strict=True)]
            if sse:
                print(f"an op (item.update over HTTP) to the screens, {len(sse)} ops:")
                print(f"  baseline, one SSE subscriber: p50 {ms(pct(sse, 50))}  p95 {ms(pct(sse, 95))}  (before the "
                      f"20 joined: p50 {ms(pct(sse_solo, 50)).strip()})")
                print(f"  one screen alone (before):    p50 {ms(pct(solo, 50))}  p95 {ms(pct(solo, 95))}")
                print(f"  first of {people} screens:      p50 {ms(pct(first, 50))}  p95 {ms(pct(first, 95))}")
                print(f"  any screen:                p50 {ms(pct(each, 50))}  p95 {ms(pct(each, 95))}")
                print(f"  all {people} screens:          p50 {ms(pct(last, 50))}  p95 {ms(pct(last, 95))}  "
                      f"(x{pct(last, 50) / pct(sse, 50):.1f} the SSE baseline, x{pct(last, 50) / pct(solo, 50):.1f} "
                      "one screen alone, at p50)")
                per_op = [u / len(sse) * 1000 for u in used]
                print(f"  CPU per op: the {people} clients {per_op[0]:.0f} ms together, the hub {per_op[1]:.0f} ms, "
                      f"this process ({people} SSH readers) {per_op[2]:.0f} ms (2 cores: the redraws queue up)")

            # idle
            before = {pid: cpu_s(pid) for pid in clients}
            hub_idle = cpu_s(hub.proc.pid)
            await asyncio.sleep(3.0)
            idle = sum(cpu_s(pid) - c for pid, c in before.items()) / 3.0
            hub_idle = (cpu_s(hub.proc.pid) - hub_idle) / 3.0
            print(f"idle, 3 s: the {people} clients use {idle * 100:.1f}% of a core together, the hub "
                  f"{hub_idle * 100:.1f}%")

            # hang-up
            t = time.perf_counter()
            for screen in screens:
                screen.conn.close()
            while any(Path(f"/proc/{pid}").exists() and status_kb(pid, "VmRSS") for pid in clients):
                if time.perf_counter() - t > 30:
                    break
                await asyncio.sleep(0.02)
            gone = time.perf_counter() - t
            left = sum(1 for pid in clients if Path(f"/proc/{pid}").exists() and status_kb(pid, "VmRSS"))
            print(f"hang-up: {people} connections closed -> all clients saved and exited in {gone:.2f} s"
                  + (f" ({left} still running)" if left else ""))
            subscriber.task.cancel()
    finally:
        hub.stop()
    log = hub.log.read_text()
    print(f"hub log: {log.count('ssh: ')} ssh lines ({log.count(' joined room ')} joined, "
          f"{log.count(' left room ')} left, {log.count('ssh: refused')} refused)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-ssh-") as tmp:
        asyncio.run(run(args.people, args.rounds, Path(tmp)))
    print(f"bench_ssh: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
