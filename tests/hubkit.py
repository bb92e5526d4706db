"""Helpers for the hub's tests: a real hub on 127.0.0.1 (uvicorn in a thread, or `agile-tui serve` in a
subprocess), a small SSE reader, and rooms to share. Nothing of ours is mocked."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from agile_tui.domain import FakeClock, State, apply_all, make_op

ROOT = Path(__file__).resolve().parents[1]
T0 = "2026-11-30T09:00:00+00:00"
TEAM = {"ana": "Ana", "ben": "Ben", "cai": "Cai"}


def team_state(anonymous: bool = True) -> State:
    """Three members, an active sprint, and an open retro r1 in reflect."""
    clock = FakeClock(T0)
    ops = [make_op("member.add", clock, id=m, name=n) for m, n in TEAM.items()]
    ops += [make_op("sprint.create", clock, id="s1", name="Sprint 1", start="2026-11-16", days=14,
                    goal="Close ten deals."),
            make_op("sprint.start", clock, id="s1"),
            make_op("item.add", clock, id="i1", title="Call Acme"),
            make_op("metric.define", clock, id="calls", name="Calls", unit="calls"),
            make_op("retro.create", clock, actor="ana", id="r1", sprint_id="s1", anonymous=anonymous)]
    return apply_all(State(), ops)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Hub:
    url: str
    app: object = None
    server: object = None
    thread: threading.Thread | None = None

    def client(self, token: str | None = None, timeout: float = 10.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)


@contextmanager
def running_hub(data_dir: Path, **settings) -> Iterator[Hub]:
    """uvicorn with the hub's app in a thread, on a socket bound here (port 0: no race for a port)."""
    from agile_tui.server.app import create_app
    from agile_tui.server.hub import Settings
    from agile_tui.server.serve import bind_tcp, hub_server

    sock = bind_tcp("127.0.0.1", 0)
    app = create_app(data_dir, settings=Settings(**settings))
    server = hub_server(app, log_level="warning", access_log=False)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the hub did not start"
        time.sleep(0.01)
    try:
        yield Hub(f"http://127.0.0.1:{sock.getsockname()[1]}", app, server, thread)
    finally:
        server.stop()
        thread.join(15)
        sock.close()
        assert not thread.is_alive(), "the hub did not stop"


class HubProcess:
    """`python -m agile_tui serve` as a subprocess, to kill -9 and start again on the same port and data."""

    def __init__(self, data_dir: Path, port: int, *extra: str) -> None:
        self.data_dir, self.port, self.extra = data_dir, port, extra
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None
        self.log = data_dir / "hub.log"

    def start(self, timeout: float = 30.0) -> float:
        """Start and wait until /v1/healthz answers; returns the seconds that took."""
        env = dict(os.environ)
        env.pop("PYTHONWARNINGS", None)
        started = time.monotonic()
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "agile_tui", "serve", "--port", str(self.port), "--data-dir",
                 str(self.data_dir), *self.extra], cwd=ROOT, env=env, stdout=out, stderr=out)
        while True:
            try:
                if httpx.get(f"{self.url}/v1/healthz", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() - started < timeout, "the hub did not start"
            time.sleep(0.01)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)


@dataclass
class Event:
    id: int | None
    name: str
    data: dict = field(default_factory=dict)


def sse_events(response: httpx.Response) -> Iterator[Event]:
    """Events of an SSE response, parsed as the spec says: comments (pings) skipped, fields per event."""
    seq, name, data = None, "message", []
    for line in response.iter_lines():
        if line == "":
            if data:
                yield Event(seq, name, json.loads("\n".join(data)))
            seq, name, data = None, "message", []
        elif line.startswith(":"):
            continue
        else:
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if key == "id":
                seq = int(value)
            elif key == "event":
                name = value
            elif key == "data":
                data.append(value)


def share(hub_url: str, state: State | None = None, name: str = "Ana", **extra) -> dict:
    body = {"state": (state or team_state()).to_dict(), "name": name, **extra}
    response = httpx.post(f"{hub_url}/v1/rooms", json=body, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def join(hub_url: str, room: dict, name: str) -> dict:
    response = httpx.post(f"{hub_url}/v1/rooms/{room['room']}/join",
                          json={"invite": room["invite_token"], "name": name}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def op(type_: str, op_id: str | None = None, **args) -> dict:
    import uuid

    return {"op_id": op_id or uuid.uuid4().hex, "type": type_, "args": args, "ts": T0}


class Follower:
    """A participant's client, reduced to sync: snapshot, then the SSE stream folded into a local view with the
    same reducer (ops), entity patches and snapshot reloads (refetch), resuming with Last-Event-ID when the
    stream breaks. Records every seq it saw, and every byte it received."""

    def __init__(self, url: str, room: str, token: str) -> None:
        self.url, self.room, self.token = url, room, token
        self.client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        self.seqs: list[int] = []  # seqs folded in
        self.sent: list[int] = []  # every event id the hub sent (a resend would show here twice)
        self.raw: list[str] = []
        self.names: list[str] = []
        self.state: State | None = None
        self.seq = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.reconnects = 0
        self.response: httpx.Response | None = None

    def load(self) -> None:
        response = self.client.get(f"/v1/rooms/{self.room}/snapshot")
        response.raise_for_status()
        self.raw.append(response.text)
        data = response.json()
        self.state, self.seq = State.from_dict(data["state"]), data["seq"]

    def start(self) -> Follower:
        self.load()
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self._stream()
            except (httpx.TransportError, httpx.HTTPStatusError):
                self.reconnects += 1
                time.sleep(0.05)
            except BaseException as error:  # surfaced by wait_for
                if not self.stop.is_set():
                    self.error = error
                return

    def _stream(self) -> None:
        from agile_tui.domain import apply
        from agile_tui.domain.ops import Op
        from agile_tui.domain.privacy import apply_patch

        headers = {"Last-Event-ID": str(self.seq)}
        with self.client.stream("GET", f"/v1/rooms/{self.room}/events", headers=headers,
                                timeout=httpx.Timeout(10, read=30)) as response:
            self.response = response
            response.raise_for_status()
            for event in sse_events(_recording(response, self.raw)):
                self.names.append(event.name)
                if self.stop.is_set():
                    return
                if event.id is None:
                    continue
                data = event.data
                if not data.get("refetch"):
                    self.sent.append(event.id)
                if data.get("refetch"):
                    self.load()
                    continue
                if data["seq"] <= self.seq:
                    continue
                assert data["seq"] == self.seq + 1, f"gap: {self.seq} -> {data['seq']}"
                if "op" in data:
                    self.state = apply(self.state, Op.from_dict(data["op"]))
                else:
                    self.state = apply_patch(self.state, data["patch"])
                self.seq = data["seq"]
                self.seqs.append(self.seq)

    def wait_for(self, seq: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while self.seq < seq:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, f"stuck at seq {self.seq}, waiting for {seq}"
            time.sleep(0.01)

    def close(self) -> None:
        self.stop.set()
        if self.response is not None:  # wake the reader blocked on the stream: shut its socket
            stream = self.response.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.thread.join(10)
        self.client.close()


class _recording:
    """Wraps a streaming response so the lines read are also kept, as received."""

    def __init__(self, response: httpx.Response, sink: list[str]) -> None:
        self.response, self.sink = response, sink

    def iter_lines(self):
        for line in self.response.iter_lines():
            self.sink.append(line)
            yield line
