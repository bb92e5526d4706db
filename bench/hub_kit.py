"""What the hub bench needs around it: the hub in its own process, the subscribers' SSE readers (raw asyncio,
or httpx for comparison), arrival bookkeeping, and the machine's own figures (fsync floor, CPU)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def pct(samples: list[float], q: float) -> float:
    """The q-th percentile (nearest rank), in ms."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] * 1000


# ---------------------------------------------------------------------------------------------- the hub process

class HubProcess:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.log_path = data_dir / "hub.log"
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self, timeout: float = 60.0) -> float:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
        started = time.monotonic()
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "agile_tui", "serve", "--port", "0", "--rate", "1000000",
                 "--data-dir", str(self.data_dir / "hub")], cwd=ROOT, env=env, stdout=out, stderr=out)
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the hub exited ({self.proc.returncode}):\n{self.log_path.read_text()}")
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"the hub did not start in {timeout:.0f} s:\n{self.log_path.read_text()}")
            if not self.url:
                found = re.search(r"agile-tui hub on (http://127\.0\.0\.1:\d+)", self.log_path.read_text())
                if found:
                    self.url = found.group(1)
            if self.url:
                try:
                    if httpx.get(f"{self.url}/v1/healthz", timeout=2).status_code == 200:
                        return time.monotonic() - started
                except httpx.TransportError:
                    pass
            time.sleep(0.02)

    def cpu_s(self) -> float:
        """The hub's user + system CPU seconds so far (Linux), or NaN."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / CLK_TCK
        except (OSError, IndexError, ValueError, AttributeError):
            return float("nan")

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            return self.proc.wait(10)


def own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


# ---------------------------------------------------------------------------------------------- subscribers

class Arrivals:
    """For each seq: how many subscribers have it and when the last one got it; a future per awaited seq."""

    def __init__(self, subscribers: int) -> None:
        self.n = subscribers
        self.count: dict[int, int] = {}
        self.last: dict[int, float] = {}
        self.waiting: dict[int, asyncio.Future] = {}
        self.events = 0

    def got(self, seq: int, t: float) -> None:
        self.events += 1
        c = self.count.get(seq, 0) + 1
        self.count[seq] = c
        self.last[seq] = t
        if c == self.n:
            fut = self.waiting.pop(seq, None)
            if fut is not None and not fut.done():
                fut.set_result(t)

    async def all_have(self, seq: int, timeout: float) -> float | None:
        if self.count.get(seq, 0) >= self.n:
            return self.last[seq]
        fut = self.waiting.setdefault(seq, asyncio.get_running_loop().create_future())
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            self.waiting.pop(seq, None)
            return None


class RawSSE(asyncio.Protocol):
    """One SSE stream over a raw socket: HTTP/1.1 response head, chunked body, SSE events."""

    def __init__(self, request: bytes, arrivals: Arrivals) -> None:
        self.request, self.arrivals = request, arrivals
        self.buf = b""
        self.head_done = False
        self.chunked = False
        self.text = b""  # SSE bytes not yet split into events
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future = asyncio.get_running_loop().create_future()
        self.last_seq = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("the hub closed the stream"))
        if not self.closed.done():
            self.closed.set_result(exc)

    def data_received(self, data: bytes) -> None:
        t = time.perf_counter()
        self.buf += data
        if not self.head_done:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.buf = self.buf[:end].decode("latin-1"), self.buf[end + 4:]
            status = head.split("\r\n", 1)[0]
            if " 200 " not in status + " ":
                self.opened.set_exception(RuntimeError(f"stream refused: {head}"))
                self.transport.close()
                return
            self.chunked = "transfer-encoding: chunked" in head.lower()
            self.head_done = True
        if self.chunked:
            while True:
                line_end = self.buf.find(b"\r\n")
                if line_end < 0:
                    break
                size = int(self.buf[:line_end].split(b";", 1)[0], 16)
                if len(self.buf) < line_end + 2 + size + 2:
                    break
                self.text += self.buf[line_end + 2:line_end + 2 + size]
                self.buf = self.buf[line_end + 2 + size + 2:]
                if size == 0:
                    self.transport.close()
                    break
        else:
            self.text += self.buf
            self.buf = b""
        self.split(t)

    def split(self, t: float) -> None:
        while True:
            end = self.text.find(b"\n\n")
            if end < 0:
                return
            block, self.text = self.text[:end], self.text[end + 2:]
            seq, has_data, name = None, False, b""
            for line in block.split(b"\n"):
                if line.startswith(b"id:"):
                    seq = int(line[3:])
                elif line.startswith(b"data:"):
                    has_data = True
                elif line.startswith(b"event:"):
                    name = line[6:].strip()
            if name == b"hello" and not self.opened.done():
                self.opened.set_result(True)
            if seq is not None and has_data:
                self.last_seq = seq
                self.arrivals.got(seq, t)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_raw(url: str, room: str, token: str, arrivals: Arrivals) -> RawSSE:
    host, port = httpx.URL(url).host, httpx.URL(url).port
    request = (f"GET /v1/rooms/{room}/events HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
               "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_connection(lambda: RawSSE(request, arrivals), host, port)
    await asyncio.wait_for(proto.opened, 20)
    return proto


class HttpxSSE:
    """One SSE stream read with httpx's streaming API, line by line."""

    def __init__(self, client: httpx.AsyncClient, room: str, token: str, arrivals: Arrivals) -> None:
        self.client, self.room, self.token, self.arrivals = client, room, token, arrivals
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()
        self.last_seq = 0
        self.task = asyncio.create_task(self.run())

    async def run(self) -> None:
        try:
            async with self.client.stream("GET", f"/v1/rooms/{self.room}/events",
                                          headers={"Authorization": f"Bearer {self.token}"}) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise RuntimeError(f"stream refused: {response.status_code} {response.text}")
                seq, has_data, name = None, False, ""
                async for line in response.aiter_lines():
                    if line == "":
                        if name == "hello" and not self.opened.done():
                            self.opened.set_result(True)
                        if seq is not None and has_data:
                            self.last_seq = seq
                            self.arrivals.got(seq, time.perf_counter())
                        seq, has_data, name = None, False, ""
                    elif line.startswith(":"):
                        continue
                    elif line.startswith("id:"):
                        seq = int(line[3:])
                    elif line.startswith("data:"):
                        has_data = True
                    elif line.startswith("event:"):
                        name = line[6:].strip()
        except BaseException as error:
            if not self.opened.done():
                self.opened.set_exception(error if isinstance(error, Exception) else RuntimeError("cancelled"))
            raise

    def close(self) -> None:
        self.task.cancel()


# ---------------------------------------------------------------------------------------------- clients
