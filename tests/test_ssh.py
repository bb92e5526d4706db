"""Joining a room over SSH (agile_tui/server/ssh.py): the keys file, the host key, the pty bridge, the refusals
and the seat of each person, against a real hub with a real SSH server (asyncssh clients, and a stand-in for
the client it spawns); then real OpenSSH clients in tmux against `agile-tui serve --ssh-port`, running the
real `agile-tui join`."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import asyncssh
import httpx
import pytest

from agile_tui.server import ssh as ssh_mod
from agile_tui.server.ssh_keys import InsecureFile, KeysFile, load_host_key, name_from_comment, parse_keys
from agile_tui.server.ssh_pty import PtyChild
from agile_tui.server.ssh_session import clamp_size

from .hubkit import HubProcess, free_port, share

ROOT = Path(__file__).resolve().parents[1]

# A stand-in for `agile-tui join`: says what it was given, echoes what is typed (upper-cased), reports window
# changes, writes a file when hung up, and exits with the status typed after "exit".
STANDIN = r'''
import fcntl, os, signal, struct, sys, termios, time, tty
import httpx
url, folder = sys.argv[1], sys.argv[2]
def size():
    rows, cols = struct.unpack("hh", fcntl.ioctl(1, termios.TIOCGWINSZ, b"\0" * 4))
    return f"{cols}x{rows}"
def say(text):
    os.write(1, (text + "\r\n").encode())
def on_winch(*_):
    say("SIZE " + size())
def on_hup(*_):
    with open(os.path.join(folder, "hung-up"), "w") as out:
        out.write("yes")
    os._exit(0)
signal.signal(signal.SIGWINCH, on_winch)
signal.signal(signal.SIGHUP, on_hup)
token = os.environ["AGILE_TUI_HUB_TOKEN"]
hub, room = url.split("/join/")
me = httpx.get(f"{hub}/v1/rooms/{room}/snapshot", headers={"Authorization": f"Bearer {token}"}).json()["me"]
secret_in_argv = any(token.split(".", 1)[1] in arg for arg in open("/proc/self/cmdline").read().split("\0"))
say(f"READY name={me['name']} role={me['role']} term={os.environ['TERM']} size={size()} "
    f"tty={os.isatty(0)} ctty={os.tcgetpgrp(0) == os.getpgrp()} argv_secret={secret_in_argv} "
    f"data={os.environ['AGILE_TUI_DATA_DIR'] == folder} cwd={os.getcwd() == folder}")
tty.setraw(0)
typed = b""
while True:
    data = os.read(0, 1024)
    typed += data
    if b"exit " in typed and typed.endswith(b"\r"):
        os._exit(int(typed.split(b"exit ")[1].strip()))
    os.write(1, b"GOT " + data.upper() + b"\r\n")
'''


# ---------------------------------------------------------------------- the keys file


def public_line(key: asyncssh.SSHKey, comment: str = "") -> str:
    text = key.export_public_key().decode().split()
    return " ".join(text[:2] + ([comment] if comment else []))


@pytest.fixture(scope="module")
def keys():
    return {name: asyncssh.generate_private_key("ssh-ed25519") for name in ("ana", "ben", "cai", "eve", "dan")}


def test_keys_file_names_marks_and_options(keys):
    text = "\n".join([
        "# the team",
        "",
        f'facilitator,name="Ana Souza" {public_line(keys["ana"], "ana@laptop")}',
        f"{public_line(keys['ben'], 'ben@desk')}",
        f'agile-facilitator,agile-rooms="r1, r2",from="127.0.0.1" {public_line(keys["cai"], "Cai Lin")}',
        f'no-pty,restrict,command="/bin/false",agile-name="Dan \\"D\\" Diaz" {public_line(keys["dan"])}',
    ])
    entries, problems = parse_keys(text)
    assert problems == []
    by_name = {e.name: e for e in entries}
    assert set(by_name) == {"Ana Souza", "ben", "Cai Lin", 'Dan "D" Diaz'}
    assert by_name["Ana Souza"].facilitator and by_name["Ana Souza"].rooms is None and by_name["Ana Souza"].line == 3
    assert not by_name["ben"].facilitator
    cai = by_name["Cai Lin"]
    assert cai.facilitator and cai.rooms == {"r1", "r2"}
    assert cai.allows_address("", "127.0.0.1") and not cai.allows_address("", "10.0.0.1")
    assert by_name["ben"].allows_address("", "10.0.0.1")
    assert by_name["ben"].key == keys["ben"].convert_to_public()
    assert name_from_comment("ana@laptop") == "ana" and name_from_comment(" Ana Souza ") == "Ana Souza"


def test_keys_file_skips_bad_lines_and_names_them(keys):
    text = "\n".join([
        public_line(keys["ana"]),  # no name at all
        "ssh-ed25519 AAAAnotbase64 eve",
        f'name="unclosed {public_line(keys["ben"], "ben")}',
        f"cert-authority {public_line(keys['cai'], 'ca')}",
        public_line(keys["eve"], "Eve"),
        f'name="Eve again" {public_line(keys["eve"])}',  # the same key twice: the first line counts
        f"rooms {public_line(keys['dan'], 'dan')}",
    ])
    entries, problems = parse_keys(text)
    assert [(e.name, e.line) for e in entries] == [("Eve", 5)]
    assert [p.split(":")[0] for p in problems] == ["line 1", "line 2", "line 3", "line 4", "line 6", "line 7"]
    assert "no name" in problems[0] and "not a public key" in problems[1] and "quote" in problems[2]
    assert "cert-authority" in problems[3] and "line 5" in problems[4] and "rooms needs a value" in problems[5]


def test_keys_file_is_read_again_when_it_changes(tmp_path, keys):
    path = tmp_path / "keys"
    keys_file = KeysFile(path)
    ana = keys["ana"].convert_to_public()
    assert keys_file.find(ana) is None  # no file: nobody
    path.write_text(public_line(keys["ana"], "Ana") + "\n")
    assert keys_file.find(ana).name == "Ana"
    path.write_text(f'name="Ana S" {public_line(keys["ana"])}\n{public_line(keys["ben"], "Ben")}\n')
    assert keys_file.find(ana).name == "Ana S"
    assert keys_file.find(keys["ben"].convert_to_public()).name == "Ben"
    path.write_text(public_line(keys["ben"], "Ben") + "\n")
    assert keys_file.find(ana) is None


def test_from_checks_ipv4_peers_of_a_dual_stack_listener_as_ipv4(keys, caplog):
    text = (f'from="*,!127.0.0.1" {public_line(keys["ben"], "Ben")}\n'
            f'from="127.0.0.0/8" {public_line(keys["cai"], "Cai")}\n'
            f'from="*,!bad.example.com,!10.0.0.*" {public_line(keys["dan"], "Dan")}\n')
    caplog.set_level("WARNING", logger="agile_tui.hub")
    entries, problems = parse_keys(text)
    assert problems == []
    ben, cai, dan = entries
    assert not ben.allows_address("", "127.0.0.1") and not ben.allows_address("", "::ffff:127.0.0.1")
    assert ben.allows_address("", "::ffff:10.1.2.3") and ben.allows_address("", "::1")
    assert cai.allows_address("", "127.0.0.1") and cai.allows_address("", "::ffff:127.0.0.1")
    assert not cai.allows_address("", "::ffff:10.0.0.1") and not cai.allows_address("", "::1")
    assert not dan.allows_address("", "::ffff:10.0.0.7") and dan.allows_address("", "::ffff:10.0.1.7")
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "line 3" in warnings[0] and "!bad.example.com" in warnings[0], warnings
    assert "10.0.0" not in warnings[0]


def test_keys_file_that_others_may_write_is_refused(tmp_path, keys, caplog):
    caplog.set_level("WARNING", logger="agile_tui.hub")
    path = tmp_path / "keys"
    path.write_text(public_line(keys["ana"], "Ana") + "\n")
    ana, ben = keys["ana"].convert_to_public(), keys["ben"].convert_to_public()
    for mode in (0o664, 0o646, 0o666):
        path.chmod(mode)
        with pytest.raises(InsecureFile, match="writable by"):
            KeysFile(path).load()  # at start: a clear error
    path.chmod(0o644)
    keys_file = KeysFile(path)
    keys_file.load()
    assert keys_file.find(ana).name == "Ana"
    path.write_text(public_line(keys["ben"], "Ben") + "\n")  # changed, and made writable by the group
    path.chmod(0o664)
    assert keys_file.find(ana).name == "Ana" and keys_file.find(ben) is None  # the old keys still count
    assert keys_file.find(ana).name == "Ana"
    said = [r.getMessage() for r in caplog.records if "not reading" in r.getMessage()]
    assert len(said) == 1 and "writable by group" in said[0], said  # once, not on every connection
    path.chmod(0o644)
    assert keys_file.find(ana) is None and keys_file.find(ben).name == "Ben"
    if os.geteuid() != 0:
        return
    os.chown(path, 12345, -1)  # someone else's file
    with pytest.raises(InsecureFile, match="owned by uid 12345"):
        KeysFile(path).load()


def test_window_size_is_clamped():
    assert clamp_size(16000, 16000, 99999, 99999) == (1000, 500, 0xFFFF, 0xFFFF)
    assert clamp_size(0, 0) == (80, 24, 0, 0)  # no size given: the usual terminal
    assert clamp_size(120, 40, 10, 20) == (120, 40, 10, 20)
    assert clamp_size(1, 1) == (1, 1, 0, 0)
    assert clamp_size(2**32 - 1, 501) == (1000, 500, 0, 0)


def test_preauth_caps_per_address_and_in_all():
    service = ssh_mod.SSHService(hub=None, config=None)
    for _ in range(ssh_mod.PREAUTH_PER_IP):
        assert service.admit_preauth("10.0.0.1")
    assert not service.admit_preauth("10.0.0.1")
    service.release_preauth("10.0.0.1")
    assert service.admit_preauth("10.0.0.1") and not service.admit_preauth("10.0.0.1")
    n = ssh_mod.PREAUTH_PER_IP
    others = [f"10.0.1.{i}" for i in range(ssh_mod.PREAUTH_MAX - n)]
    for ip in others:
        assert service.admit_preauth(ip)
    assert not service.admit_preauth("10.0.2.1")  # 64 in all
    for ip in others:
        service.release_preauth(ip)
    assert service.preauth == {"10.0.0.1": n}
    assert service.admit_preauth("10.0.2.1")
    assert ssh_mod.client_address("::ffff:127.0.0.1") == "127.0.0.1" and ssh_mod.client_address("::1") == "::1"
    assert ssh_mod.LOGIN_TIMEOUT_S <= 15


def test_host_key_is_made_once_private_and_kept(tmp_path):
    first = load_host_key(tmp_path / "hub")
    path = tmp_path / "hub" / "ssh_host_ed25519_key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert first.get_algorithm() == "ssh-ed25519"
    assert (tmp_path / "hub" / "ssh_host_ed25519_key.pub").read_bytes() == first.export_public_key()
    again = load_host_key(tmp_path / "hub")
    assert again.get_fingerprint() == first.get_fingerprint()
    for mode in (0o644, 0o640, 0o604, 0o660):  # readable (or writable) by others: refused, never "fixed"
        path.chmod(mode)
        with pytest.raises(InsecureFile, match="chmod 600"):
            load_host_key(tmp_path / "hub")
        assert path.stat().st_mode & 0o777 == mode
    path.chmod(0o600)
    assert load_host_key(tmp_path / "hub").get_fingerprint() == first.get_fingerprint()
    assert [p.name for p in (tmp_path / "hub").iterdir() if p.name.startswith(".")] == []


def test_client_environment():
    base = {"PATH": "/bin", "LANG": "C", "LC_ALL": "POSIX", "AGILE_TUI_HUB_TOKEN": "old", "COLUMNS": "80",
            "TMUX": "x", "HOME": "/root"}
    env = ssh_mod.child_env(base, "screen-256color", "p-1.secret", Path("/d"),
                            {"COLORTERM": "truecolor", "LD_PRELOAD": "/evil.so", "NO_COLOR": "\x1b[2J"})
    assert env == {"PATH": "/bin", "HOME": "/root", "LANG": "C.UTF-8", "COLORTERM": "truecolor",
                   "TERM": "screen-256color", "AGILE_TUI_HUB_TOKEN": "p-1.secret", "AGILE_TUI_DATA_DIR": "/d",
                   "AGILE_TUI_RESTRICTED": "1"}
    # only an allowlist of the hub's own environment: none of its secrets or its terminal's variables
    base = {"PATH": "/bin", "LANG": "en_US.UTF-8", "LC_TIME": "de_DE.UTF-8", "TZ": "UTC", "USER": "hub",
            "VIRTUAL_ENV": "/v", "AGILE_TUI_CONFIG_DIR": "/c", "AWS_SECRET_ACCESS_KEY": "s", "SSH_AUTH_SOCK": "/a",
            "LD_PRELOAD": "/x.so", "AGILE_TUI_RESTRICTED": "0", "NO_COLOR": "1", "TERM": "hub-term"}
    env = ssh_mod.child_env(base, "", "t", Path("/d"), {"NO_COLOR": "1"})
    assert env == {"PATH": "/bin", "LANG": "en_US.UTF-8", "LC_TIME": "de_DE.UTF-8", "TZ": "UTC", "USER": "hub",
                   "VIRTUAL_ENV": "/v", "AGILE_TUI_CONFIG_DIR": "/c", "NO_COLOR": "1", "TERM": "xterm-256color",
                   "AGILE_TUI_HUB_TOKEN": "t", "AGILE_TUI_DATA_DIR": "/d", "AGILE_TUI_RESTRICTED": "1"}
    assert ssh_mod.client_url("0.0.0.0", 8) == "http://127.0.0.1:8"
    assert ssh_mod.client_url("::", 8) == "http://[::1]:8"
    assert ssh_mod.unix_url(Path("/tmp/h.sock")) == "http+unix://%2Ftmp%2Fh.sock"


# ---------------------------------------------------------------------- the pty bridge


async def wait_until(condition, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_pty_bridge_sizes_input_resize_and_hang_up(tmp_path):
    script = r'''
import fcntl, os, signal, struct, sys, termios, tty
def size():
    rows, cols = struct.unpack("hh", fcntl.ioctl(1, termios.TIOCGWINSZ, b"\0" * 4))
    return f"{cols}x{rows}"
signal.signal(signal.SIGWINCH, lambda *_: os.write(1, f"SIZE {size()}\r\n".encode()))
def hup(*_):
    open(sys.argv[1], "w").write("hup")
    os.write(1, b"BYE\r\n")
    os._exit(0)
signal.signal(signal.SIGHUP, hup)
tty.setraw(0)
os.write(1, f"READY {size()} {os.environ['TERM']} {os.tcgetpgrp(0) == os.getpgrp()}\r\n".encode())
while True:
    data = os.read(0, 65536)
    os.write(1, b"<" + str(len(data)).encode() + b">")
'''
    out = bytearray()
    marker = tmp_path / "hup"
    child = PtyChild([sys.executable, "-c", script, str(marker)], env={**os.environ, "TERM": "xterm-test"},
                     size=(101, 33, 0, 0), on_output=out.extend)
    await child.start()
    await wait_until(lambda: b"READY" in out, "the child to start")
    assert b"READY 101x33 xterm-test True" in out
    child.resize(77, 21)
    await wait_until(lambda: b"SIZE 77x21" in out, "the new size (SIGWINCH)")
    big = b"x" * 300_000  # more than a pty takes at once: the rest waits for the child, the loop never blocks
    child.write(big)
    await wait_until(lambda: child.input_pending == 0, "the input to drain")
    child.pause_output()
    child.resume_output()
    status = await child.hang_up(grace=5)
    assert status == 0 and marker.read_text() == "hup"
    assert out.endswith(b"BYE\r\n")  # what it wrote last came through
    assert child.master is None and not child.running


async def test_pty_child_that_ignores_hang_up_is_terminated_then_killed(tmp_path):
    script = "import signal, time\nsignal.signal(signal.SIGHUP, signal.SIG_IGN)\n" \
             "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('up', flush=True)\ntime.sleep(60)\n"
    out = bytearray()
    child = PtyChild([sys.executable, "-c", script], env=dict(os.environ), on_output=out.extend)
    await child.start()
    await wait_until(lambda: b"up" in out, "the child to start")
    started = time.monotonic()
    status = await child.hang_up(grace=0.2, term_grace=0.2)
    assert status == 128 + signal.SIGKILL
    assert time.monotonic() - started < 5


# ---------------------------------------------------------------------- the SSH server, in process


class SSHHub:
    def __init__(self, url: str, port: int, data_dir: Path, server, keys_path: Path) -> None:
        self.url, self.port, self.data_dir, self.server, self.keys_path = url, port, data_dir, server, keys_path

    @property
    def service(self):
        return self.server.ssh_service


@contextmanager
def ssh_hub(tmp_path: Path, keys_text: str, room_limit: int = 50):
    """The hub's app on uvicorn in a thread with its SSH server, which runs the stand-in for each client."""
    from agile_tui.server.app import create_app
    from agile_tui.server.serve import bind_tcp, hub_server
    from agile_tui.server.ssh import SSHConfig

    data_dir = tmp_path / "hub"
    keys_path = tmp_path / "keys"
    keys_path.write_text(keys_text)
    standin = tmp_path / "standin.py"
    standin.write_text(STANDIN)
    sock, ssh_sock = bind_tcp("127.0.0.1", 0), bind_tcp("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = SSHConfig(ssh_sock, data_dir, url, keys_path, room_limit=room_limit,
                       command=lambda join_url, folder: [sys.executable, str(standin), join_url, str(folder)])
    config.prepare()
    app = create_app(data_dir)
    server = hub_server(app, log_level="warning", access_log=False, ssh=config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not (server.started and server.ssh_service is not None and server.ssh_service.acceptor is not None):
        assert time.monotonic() < deadline and thread.is_alive(), "the hub did not start"
        time.sleep(0.01)
    try:
        yield SSHHub(url, ssh_sock.getsockname()[1], data_dir, server, keys_path)
    finally:
        server.stop()
        thread.join(20)
        sock.close()
        ssh_sock.close()
        assert not thread.is_alive(), "the hub did not stop"


class Terminal:
    """An asyncssh client session with a pty: everything it receives, on stdout and stderr."""

    def __init__(self, conn, process) -> None:
        self.conn, self.process = conn, process
        self.out = bytearray()
        self.err = bytearray()
        self.tasks = [asyncio.ensure_future(self._pump(process.stdout, self.out)),
                      asyncio.ensure_future(self._pump(process.stderr, self.err))]

    @staticmethod
    async def _pump(stream, sink: bytearray) -> None:
        while True:
            data = await stream.read(65536)
            if not data:
                return
            sink.extend(data)

    @property
    def text(self) -> str:
        return (self.out + self.err).decode("utf-8", "replace")

    async def wait_for(self, needle: str, timeout: float = 20.0) -> None:
        await wait_until(lambda: needle in self.text, f"{needle!r} in {self.text[-500:]!r}", timeout)

    async def status(self, timeout: float = 20.0) -> int | None:
        await asyncio.wait_for(self.process.wait_closed(), timeout)
        await asyncio.gather(*self.tasks)
        return self.process.exit_status

    def close(self) -> None:
        self.conn.close()


async def connect(port: int, key, room: str, pty: bool = True, size=(90, 30), command: str | None = None,
                  term: str = "xterm-256color") -> Terminal:
    conn = await asyncssh.connect("127.0.0.1", port, username=room, client_keys=[key], known_hosts=None,
                                  agent_path=None, config=None)
    kwargs = {"term_type": term, "term_size": size} if pty else {}
    process = await conn.create_process(command, encoding=None, **kwargs)
    return Terminal(conn, process)


def keys_text(keys, facilitator: str | None = "ana") -> str:
    names = {"ana": "Ana", "ben": "Ben", "cai": "Cai", "dan": "Dan"}
    return "\n".join(("facilitator " if who == facilitator else "") + public_line(keys[who], name)
                     for who, name in names.items()) + "\n"


async def test_refusals_unknown_key_room_no_terminal_command(tmp_path, keys, caplog):
    caplog.set_level("INFO", logger="agile_tui.hub")
    with ssh_hub(tmp_path, keys_text(keys)) as hub:
        room = await asyncio.to_thread(share, hub.url)
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(hub.port, keys["eve"], room["room"])

        nowhere = await connect(hub.port, keys["ben"], "nosuch")
        assert await nowhere.status() == 1
        assert "There is no room nosuch on this hub that your key may join." in nowhere.text
        bad = await connect(hub.port, keys["ben"], "../hub")  # not even looked up
        assert await bad.status() == 1
        assert "There is no room ../hub on this hub that your key may join." in bad.text

        no_pty = await connect(hub.port, keys["ben"], room["room"], pty=False)
        assert await no_pty.status() == 1
        assert f"agile-tui needs a terminal: ssh -t -p {hub.port} {room['room']}@127.0.0.1" in no_pty.text
        command = await connect(hub.port, keys["ben"], room["room"], command="cat /etc/passwd")
        assert await command.status() == 1
        assert "agile-tui runs no commands here" in command.text
        for terminal in (nowhere, bad, no_pty, command):
            terminal.close()
        assert hub.service.sessions == {}
        assert not (hub.data_dir / "ssh-clients").exists()  # nobody was let in
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ssh: ")]
    assert any("refused 127.0.0.1" in line and "is not in the keys file" in line and
               keys["eve"].get_fingerprint() in line for line in lines), lines
    assert sum("refused Ben from 127.0.0.1" in line for line in lines) == 4, lines


async def test_a_person_joins_with_their_name_role_and_terminal(tmp_path, keys):
    with ssh_hub(tmp_path, keys_text(keys)) as hub:
        room = await asyncio.to_thread(share, hub.url, name="Ana")
        ben = await connect(hub.port, keys["ben"], room["room"], size=(101, 33), term="xterm-kitty")
        await ben.wait_for("READY")
        assert ("READY name=Ben role=participant term=xterm-kitty size=101x33 tty=True ctty=True argv_secret=False "
                "data=True cwd=True") in ben.text
        ben.process.change_terminal_size(88, 22)
        await ben.wait_for("SIZE 88x22")
        ben.process.stdin.write(b"hello ")
        await ben.wait_for("GOT HELLO")
        ana = await connect(hub.port, keys["ana"], room["room"])  # the sharer, marked facilitator: the same person
        await ana.wait_for("READY name=Ana role=facilitator")
        # the sharer's own token was rotated (the hub knows only the one it minted): the old one is refused
        old = httpx.get(f"{hub.url}/v1/rooms/{room['room']}/snapshot",
                        headers={"Authorization": f"Bearer {room['facilitator_token']}"})
        assert old.status_code == 401
        cai = await connect(hub.port, keys["cai"], room["room"])  # not marked: the facilitator stays Ana
        await cai.wait_for("READY name=Cai role=participant")
        assert sorted(k[1] for k in hub.service.sessions) == sorted(
            p.name for p in (hub.data_dir / "ssh-clients").iterdir())
        mode = (hub.data_dir / "ssh-clients").stat().st_mode & 0o777
        assert mode == 0o700, oct(mode)

        ben.process.stdin.write(b"exit 3\r")  # the client's exit status is the connection's
        assert await ben.status() == 3
        ben.close()
        folders = {k[1]: hub.data_dir / "ssh-clients" / k[1] for k in hub.service.sessions}
        cai.close()  # the connection drops: the client is hung up
        await wait_until(lambda: len(hub.service.sessions) == 1, "Cai's session to end")
        assert any((folder / "hung-up").exists() for folder in folders.values())
        ana.close()
        await wait_until(lambda: not hub.service.sessions, "Ana's session to end")


async def test_a_huge_window_is_clamped(tmp_path, keys):
    with ssh_hub(tmp_path, keys_text(keys)) as hub:
        room = await asyncio.to_thread(share, hub.url)
        ben = await connect(hub.port, keys["ben"], room["room"], size=(16000, 16000))
        await ben.wait_for("READY")
        assert "size=1000x500" in ben.text
        ben.process.change_terminal_size(5000, 30)
        await ben.wait_for("SIZE 1000x30")
        ben.close()


async def test_too_many_keys_and_unfinished_probes(tmp_path, keys, caplog):
    caplog.set_level("INFO", logger="agile_tui.hub")
    with ssh_hub(tmp_path, keys_text(keys)) as hub:
        strangers = [asyncssh.generate_private_key("ssh-ed25519") for _ in range(ssh_mod.MAX_KEYS_TRIED + 2)]
        with pytest.raises((asyncssh.PermissionDenied, asyncssh.DisconnectError, ConnectionError)):
            await asyncssh.connect("127.0.0.1", hub.port, username="r", client_keys=strangers, known_hosts=None,
                                   agent_path=None, config=None)
        # a key is offered (accepted) but never used to sign: the client leaves
        conn = await asyncssh.connect("127.0.0.1", hub.port, username="r", client_keys=[keys["ben"]],
                                      known_hosts=None, agent_path=None, config=None)
        conn.close()
        await wait_until(lambda: not hub.service.connections and not hub.service.preauth, "the connections to end")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ssh: ")]
    assert any(f"tried {ssh_mod.MAX_KEYS_TRIED} keys: disconnected" in line for line in lines), lines
    [refused] = [line for line in lines if "is not in the keys file" in line]
    assert refused.count("SHA256:") == ssh_mod.TRIED_KEPT and "and 1 more" in refused, refused


async def test_a_second_terminal_takes_the_seat_over(tmp_path, keys):
    with ssh_hub(tmp_path, keys_text(keys)) as hub:
        room = await asyncio.to_thread(share, hub.url)
        first = await connect(hub.port, keys["ben"], room["room"])
        await first.wait_for("READY name=Ben")
        [(key, session)] = hub.service.sessions.items()
        second = await connect(hub.port, keys["ben"], room["room"])
        await second.wait_for("READY name=Ben")
        assert await first.status() == 0  # hung up: it saved and exited
        assert "You joined room" in first.text and "from another terminal" in first.text
        assert (hub.data_dir / "ssh-clients" / key[1] / "hung-up").exists()
        assert list(hub.service.sessions) == [key] and hub.service.sessions[key] is not session  # the same seat
        second.process.stdin.write(b"typed ")
        await second.wait_for("GOT TYPED")
        first.close()
        second.close()


async def test_a_take_over_while_the_first_client_starts_is_not_lost(tmp_path, keys, monkeypatch):
    from agile_tui.server import ssh_session

    class SlowStart(PtyChild):  # spawning takes a while: the take-over arrives before the child is known
        async def start(self) -> None:
            await super().start()
            await asyncio.sleep(0.5)

    monkeypatch.setattr(ssh_session, "PtyChild", SlowStart)
    with ssh_hub(tmp_path, keys_text(keys)) as hub:
        room = await asyncio.to_thread(share, hub.url)
        first = await connect(hub.port, keys["ben"], room["room"])
        await wait_until(lambda: hub.service.sessions, "the first session")
        second = await connect(hub.port, keys["ben"], room["room"])
        assert await first.status(timeout=10) in (0, 128 + signal.SIGHUP)  # hung up as soon as it started
        assert "from another terminal" in first.text
        await second.wait_for("READY name=Ben")
        first.close()
        second.close()


async def test_a_full_room_refuses_the_next_person(tmp_path, keys):
    with ssh_hub(tmp_path, keys_text(keys), room_limit=2) as hub:
        room = await asyncio.to_thread(share, hub.url)
        ben = await connect(hub.port, keys["ben"], room["room"])
        cai = await connect(hub.port, keys["cai"], room["room"])
        await ben.wait_for("READY")
        await cai.wait_for("READY")
        dan = await connect(hub.port, keys["dan"], room["room"])
        assert await dan.status() == 1
        assert f"Room {room['room']} is full: 2 people are in it (the limit is 2)" in dan.text
        again = await connect(hub.port, keys["ben"], room["room"])  # someone already in: their seat
        await again.wait_for("READY name=Ben")
        cai.close()
        await wait_until(lambda: len(hub.service.sessions) == 1, "Cai to leave")
        dan = await connect(hub.port, keys["dan"], room["room"])
        await dan.wait_for("READY name=Dan")
        for terminal in (ben, again, dan):
            terminal.close()


async def test_a_key_limited_to_rooms_and_keys_added_while_running(tmp_path, keys):
    with ssh_hub(tmp_path, f'rooms="elsewhere" {public_line(keys["ben"], "Ben")}\n') as hub:
        room = await asyncio.to_thread(share, hub.url)
        ben = await connect(hub.port, keys["ben"], room["room"])
        assert await ben.status() == 1
        elsewhere = await connect(hub.port, keys["ben"], "nosuchroom")
        assert await elsewhere.status() == 1
        # the same words whether the room exists or not: a key limited to rooms learns no other room's id
        assert f"There is no room {room['room']} on this hub that your key may join." in ben.text
        assert ben.text.replace(room["room"], "ROOM") == elsewhere.text.replace("nosuchroom", "ROOM")
        ben.close()
        elsewhere.close()
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(hub.port, keys["cai"], room["room"])
        with hub.keys_path.open("a") as out:
            out.write(public_line(keys["cai"], "cai@desk") + "\n")
        os.utime(hub.keys_path, ns=(time.time_ns(), time.time_ns() + 10**9))
        cai = await connect(hub.port, keys["cai"], room["room"])
        await cai.wait_for("READY name=cai role=participant")
        cai.close()


async def test_stopping_the_hub_hangs_every_client_up(tmp_path, keys):
    with ssh_hub(tmp_path, keys_text(keys)) as hub:
        room = await asyncio.to_thread(share, hub.url)
        terminals = [await connect(hub.port, keys[who], room["room"]) for who in ("ben", "cai")]
        for terminal in terminals:
            await terminal.wait_for("READY")
        folders = [hub.data_dir / "ssh-clients" / k[1] for k in hub.service.sessions]
        await asyncio.to_thread(hub.server.stop)
        for terminal in terminals:
            assert await terminal.status() == 0
            assert "The hub is stopping." in terminal.text
        assert all((folder / "hung-up").exists() for folder in folders)


# ---------------------------------------------------------------------- real OpenSSH, real agile-tui, tmux

needs_openssh = pytest.mark.skipif(shutil.which("ssh") is None or shutil.which("ssh-keygen") is None,
                                   reason="the OpenSSH client is not installed")


def keygen(folder: Path, name: str, comment: str) -> Path:
    path = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True,
                   timeout=30)
    return path


def ssh_argv(port: int, key: Path, room: str, *extra: str) -> list[str]:
    return ["ssh", *extra, "-p", str(port), "-i", str(key), "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", "LogLevel=ERROR", "-F", "/dev/null", f"{room}@127.0.0.1"]


@contextmanager
def ssh_hub_process(tmp_path: Path, keys: str):
    hub_dir = tmp_path / "hub"
    hub_dir.mkdir()
    keys_path = tmp_path / "authorized_keys"
    keys_path.write_text(keys)
    ssh_port = free_port()
    hub = HubProcess(hub_dir, free_port(), "--ssh-port", str(ssh_port), "--ssh-authorized-keys", str(keys_path))
    hub.start()
    try:
        deadline = time.monotonic() + 20
        while "agile-tui ssh on" not in hub.log.read_text():
            assert time.monotonic() < deadline, hub.log.read_text()
            time.sleep(0.02)
        yield hub, ssh_port
    finally:
        if hub.proc.poll() is None:
            assert hub.stop() == 0, hub.log.read_text()


@needs_openssh
@pytest.mark.serial
def test_openssh_refusals_against_agile_tui_serve(tmp_path):
    ana = keygen(tmp_path, "ana", "ana@laptop")
    eve = keygen(tmp_path, "eve", "eve")
    with ssh_hub_process(tmp_path, "facilitator " + (tmp_path / "ana.pub").read_text()) as (hub, port):
        room = share(hub.url)["room"]
        run = dict(capture_output=True, timeout=60, encoding="utf-8", errors="replace", stdin=subprocess.DEVNULL)
        refused = subprocess.run(ssh_argv(port, eve, room, "-tt"), **run)
        assert refused.returncode == 255 and "Permission denied (publickey)" in refused.stderr
        nowhere = subprocess.run(ssh_argv(port, ana, "nosuch", "-tt"), **run)
        assert nowhere.returncode == 1, nowhere
        assert "There is no room nosuch on this hub that your key may join." in nowhere.stdout + nowhere.stderr
        no_tty = subprocess.run(ssh_argv(port, ana, room, "-T"), **run)
        assert no_tty.returncode == 1
        assert "agile-tui needs a terminal: ssh -t" in no_tty.stderr
    log = hub.log.read_text()
    assert "is not in the keys file" in log and "no such room" in log and "no terminal requested" in log
    host_key = tmp_path / "hub" / "ssh_host_ed25519_key"
    assert host_key.stat().st_mode & 0o777 == 0o600


class SSHTerminal:
    """One tmux session (on its own tmux server) whose pane runs an OpenSSH client."""

    def __init__(self, folder: Path, name: str) -> None:
        from .test_tmux import Tmux

        folder.mkdir(parents=True, exist_ok=True)
        self.tmux = Tmux(folder)
        self.name = name

    def start(self, argv: list[str], width: int, height: int) -> None:
        t = self.tmux
        marker = shlex.quote(str(t.exit_file))
        script = f"{shlex.join(argv)}; echo $? > {marker}.tmp && mv {marker}.tmp {marker}"
        t.tmux("start-server", ";", "set-option", "-g", "remain-on-exit", "on", ";",
               "new-session", "-d", "-s", "app", "-x", str(width), "-y", str(height), "-c", str(ROOT),
               "-e", f"LANG={t.env.get('LANG', 'C.UTF-8')}", "-e", "TERM=xterm-256color",
               shlex.join(["/bin/sh", "-c", script]))


@needs_openssh
@pytest.mark.serial
@pytest.mark.tmux
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_two_openssh_terminals_share_a_room(tmp_path):
    from .test_tmux import words

    ana = keygen(tmp_path, "ana", "ana@laptop")
    ben = keygen(tmp_path, "ben", "Ben")
    keys = f'facilitator,name="Ana" {(tmp_path / "ana.pub").read_text()}{(tmp_path / "ben.pub").read_text()}'
    terms = [SSHTerminal(tmp_path / "t-ana", "ana"), SSHTerminal(tmp_path / "t-ben", "ben")]
    try:
        with ssh_hub_process(tmp_path, keys) as (hub, port):
            room = share(hub.url)["room"]
            terms[0].start(ssh_argv(port, ana, room, "-tt"), 130, 36)
            terms[1].start(ssh_argv(port, ben, room, "-tt"), 130, 36)
            a, b = terms[0].tmux, terms[1].tmux
            a.wait_for(lambda s: "● live" in s and "Here 2/2" in s and "Ana ★ · you" in s, "Ana live with Ben here")
            b.wait_for(lambda s: "● live" in s and "Here 2/2" in s and "Ben · you" in s, "Ben live with Ana here")

            title = "Call 王芳 over SSH 🚀"
            b.keys("a")
            b.wait_for(lambda s: "New item" in s, "Ben's item editor")
            b.type(title)
            b.keys("Enter")
            a.wait_for(lambda s: title in s, "Ben's item on Ana's screen")
            b.keys("Escape")
            b.wait_for(lambda s: "Close editor" not in s and "next item in" not in s, "Ben's editor to close")

            assert "Burndown · Sprint 1" in a.screen()  # 130 columns: the chart is there
            a.tmux("resize-window", "-t", "app", "-x", "80", "-y", "24")
            assert a.size() == (80, 24)
            screen = a.wait_for(lambda s: "Burndown" not in s and "day of sprint" not in s and "Goal:" in s
                                and "Title" in s and "palette" in s.splitlines()[-1], "Ana's screen laid out again "
                                "for 80 columns (no chart, the footer redrawn)")
            assert "Call 王芳 over SSH" in words(screen)
            a.tmux("resize-window", "-t", "app", "-x", "130", "-y", "36")
            a.wait_for(lambda s: "Burndown · Sprint 1" in s, "the chart back at 130 columns")

            b.keys("q")
            assert b.wait_for_exit() == 0  # the app quit; the SSH connection ended with its status
            a.wait_for(lambda s: "Here 1/2" in s, "Ben gone from who is here, on Ana's screen")

            # Ben again, from a terminal that vanishes (its ssh killed): his client is hung up, saves and exits,
            # and what he had typed is in the room.
            terms.append(SSHTerminal(tmp_path / "t-ben2", "ben"))
            c = terms[2].tmux
            terms[2].start(ssh_argv(port, ben, room, "-tt"), 100, 30)
            c.wait_for(lambda s: "● live" in s and "Here 2/2" in s, "Ben back")
            c.keys("a")
            c.wait_for(lambda s: "New item" in s, "Ben's item editor")
            c.type("Typed before the drop")
            c.keys("Enter")
            c.wait_for(lambda s: s.count("Typed before the drop") >= 1 and "saved" in s, "the item")
            shell = c.tmux("display-message", "-p", "-t", "app", "#{pane_pid}").strip()
            [ssh_pid] = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
            os.kill(int(ssh_pid), signal.SIGKILL)
            a.wait_for(lambda s: "Here 1/2" in s and "Typed before the drop" in s,
                       "Ben gone again, his item in the room")
            deadline = time.monotonic() + 20
            while "ssh: Ben left room" not in hub.log.read_text().split("ssh: Ben joined room")[-1]:
                assert time.monotonic() < deadline, hub.log.read_text()
                time.sleep(0.05)
        assert a.wait_for_exit() == 0  # the hub stopped: Ana's client was hung up, saved and exited
        assert "The hub is stopping." in a.tmux("capture-pane", "-p", "-t", "app", "-S", "-200")
        log = hub.log.read_text()
        assert "ssh: Ana (facilitator) joined room" in log and "ssh: Ben joined room" in log, log
    finally:
        for term in terms:
            term.tmux.kill()
