"""`agile-tui serve` as a user runs it: a real subprocess on a free port or a Unix socket. It starts quickly,
logs a line per request and per stream, and stops cleanly on SIGTERM and ctrl+c even with a stream open."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import httpx
import pytest

from .hubkit import ROOT, HubProcess, free_port, share


def test_help_names_serve_and_loads_no_server_library():
    code = ("import sys, contextlib, io\nfrom agile_tui.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):\n"
            "    main(['--help'])\n"
            "heavy = sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'pydantic') if m in sys.modules)\n"
            "print(repr(('serve' in out.getvalue(), heavy)))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "(True, [])", result.stderr


def test_the_hub_is_headless():
    code = ("import sys\nimport agile_tui.server.app, agile_tui.server.serve\n"
            "print(sorted(m for m in ('textual', 'tinydb', 'rich', 'plotext') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


def test_serve_starts_answers_and_stops_on_sigterm_with_a_stream_open(tmp_path):
    hub = HubProcess(tmp_path, free_port())
    startup = hub.start()
    print(f"start-up to the first answer: {startup:.2f} s")
    assert startup < 10  # measured ~0.7 s on an idle 2-core machine; CI may be busy
    room = share(hub.url)
    opened = threading.Event()

    def listen():
        with httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {room['facilitator_token']}"},
                          timeout=30) as client, client.stream("GET", f"/v1/rooms/{room['room']}/events") as r:
            for _ in r.iter_lines():
                opened.set()

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert opened.wait(10)
    stopping = time.monotonic()
    assert hub.stop(signal.SIGTERM) == 0
    assert time.monotonic() - stopping < 5
    listener.join(5)
    log = hub.log.read_text()
    assert "agile-tui hub on http://127.0.0.1:" in log and "agile-tui hub stopped" in log
    assert '"POST /v1/rooms HTTP/1.1" 201' in log and "stream open room=" in log and "stream closed room=" in log
    assert "Traceback" not in log


def test_ctrl_c_stops_it_too(tmp_path):
    hub = HubProcess(tmp_path, free_port())
    hub.start()
    assert hub.stop(signal.SIGINT) == 0


def test_a_unix_socket_for_a_shared_host_and_a_stale_one_is_replaced(tmp_path):
    path = tmp_path / "hub.sock"
    env = dict(os.environ)
    command = [sys.executable, "-m", "agile_tui", "serve", "--uds", str(path), "--data-dir", str(tmp_path / "data")]

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while True:
            try:
                with httpx.Client(transport=httpx.HTTPTransport(uds=str(path)), base_url="http://hub") as client:
                    if client.get("/v1/healthz").status_code == 200:
                        return proc
            except (httpx.TransportError, OSError):
                pass
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.02)

    proc = start()
    assert stat.S_IMODE(path.stat().st_mode) == 0o660
    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 1 and "another hub is listening" in second.stderr
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert path.exists()  # left behind by the kill
    proc = start()
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(path)), base_url="http://hub") as client:
        assert json.loads(client.get("/v1/healthz").text)["ok"] is True
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0 and not path.exists()


@pytest.mark.parametrize("argv, says", [(["--port", "99999"], "is not a port"),
                                        (["--host", "203.0.113.255"], "agile-tui serve: cannot listen on")])
def test_an_address_it_cannot_have_is_a_clear_error(tmp_path, argv, says):
    result = subprocess.run([sys.executable, "-m", "agile_tui", "serve", "--data-dir", str(tmp_path), *argv],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and says in result.stderr and "Traceback" not in result.stderr


def test_answers_on_a_kept_alive_connection_are_not_held_by_nagle(tmp_path):
    """The socket is bound before FastAPI loads; made without IPPROTO_TCP, asyncio left Nagle on and every answer
    on a kept-alive connection waited ~40 ms for the client's delayed ACK."""
    import asyncio
    import socket as socketlib

    from agile_tui.server.serve import bind_tcp

    async def nodelay() -> int:
        sock = bind_tcp("127.0.0.1", 0)
        seen: asyncio.Future = asyncio.get_running_loop().create_future()

        def connected(reader, writer):
            accepted = writer.get_extra_info("socket")
            seen.set_result(accepted.getsockopt(socketlib.IPPROTO_TCP, socketlib.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(connected, sock=sock)
        reader, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        value = await asyncio.wait_for(seen, 10)
        writer.close()
        server.close()
        return value

    assert asyncio.run(nodelay()) != 0
    hub = HubProcess(tmp_path, free_port())
    hub.start()
    try:
        with httpx.Client(base_url=hub.url) as client:
            times = []
            for _ in range(21):
                started = time.perf_counter()
                client.get("/v1/healthz")
                times.append(time.perf_counter() - started)
        assert sorted(times)[10] < 0.035, times  # ~1-2 ms; Nagle made it 44 ms
    finally:
        hub.kill()
