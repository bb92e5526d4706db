"""Joining a room over SSH: ``agile-tui serve --ssh-port PORT [--ssh-authorized-keys FILE]``.

``ssh -t -p PORT ROOM@HOST`` opens the room ROOM: the hub (asyncssh, on the hub's own event loop) checks the key,
makes (or finds) that person's participant in the room, and runs ``agile-tui join`` for them on a new
pseudo-terminal of the connection's size, with the participant token in its environment (never in its
arguments). Keys, colours, resizes go through; when the connection drops, the client gets SIGHUP (it saves and
exits; SIGTERM, then SIGKILL if it does not); when the client exits, the connection closes with its status.

The keys file (default: ``ssh_authorized_keys`` in the hub's folder; re-read when it changes) is in OpenSSH's
authorized_keys format: one public key a line, ``#`` comments, and options before the key, comma-separated::

    # name="…"      the person's name in every room (else the key's comment: "ana" ; "ana@laptop" gives "ana")
    # facilitator   this person gets the facilitator role in the room they join (handed over from its holder)
    # rooms="…"     only these room ids, comma-separated (default: any room of this hub)
    # from="…"      only from these client addresses (OpenSSH patterns: 10.0.0.*,!10.0.0.9; not host names)
    facilitator,name="Ana Souza" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI… ana@laptop
    ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI… Ben
    rooms="Xy3k9QmPzT1a" ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ… cai@desk

``agile-name=``, ``agile-facilitator`` and ``agile-rooms=`` are the same options. Other OpenSSH options
(``restrict``, ``no-pty``, ``command=``, …) are ignored; ``cert-authority`` lines and lines without a name are
skipped; each skipped line is named in the log. A person is the participant of that name in the room (the one
who holds the active member of that name, case-insensitive), made on their first login (with the member, if
the room has none of that name). Their first SSH login since the hub started gives that participant a new
token, so a token handed out before under that name (by ``agile-tui share``, or ``join`` with the invite) stops
working. One terminal per person and room: connecting again from another terminal takes the seat over (the
first terminal's client is hung up, saves, and its terminal is told why), and the client keeps its folder,
``ssh-clients/<participant id>`` in the hub's folder (0700: it holds the token).

Refusals: a key that is not in the file (at authentication: "Permission denied"), then, with a message on the
terminal and exit status 1: no terminal asked for (``ssh -t``), a command, a room that does not exist or that
the key may not join, a full room (``room_limit`` people here), a hub that is stopping. The hub's host key
(ed25519) is made on the first start, ``ssh_host_ed25519_key`` (0600) in the hub's folder, and kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from .hub import HubError
from .ssh_keys import CONTROL, KEYS_NAME, AuthorizedKey, KeysFile, load_host_key
from .ssh_pty import PtyChild

log = logging.getLogger("agile_tui.hub")

CLIENTS_DIR = "ssh-clients"
ROOM_LIMIT = 50
TAKEOVER_S = 15.0  # the longest a new connection waits for the person's earlier client to save and exit
LOGIN_TIMEOUT_S = 30
KEEPALIVE_S = 30  # a silent connection is probed; after 3 probes without answer it is dropped
ROOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
FORWARDED_ENV = ("COLORTERM", "NO_COLOR")  # of what the SSH client sends, what reaches the app
DROPPED_ENV = ("AGILE_TUI_HUB_TOKEN", "COLUMNS", "LINES", "TMUX", "TMUX_PANE", "COLORTERM", "NO_COLOR")
# After a client that did not tidy its terminal (it was killed): main screen, cursor shown, no mouse reports,
# no bracketed paste, no focus events, the keyboard protocol popped, auto-wrap on.
RESET = (b"\x1b[?1049l\x1b[?25h\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?1004l\x1b[?2004l"
         b"\x1b[<u\x1b[?7h\x1b[0m\r\n")


# ---------------------------------------------------------------------- the server


def client_url(host: str, port: int) -> str:
    """The hub's HTTP address as its own clients reach it (a wildcard address is reached on loopback)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def unix_url(path: Path) -> str:
    """The same for a hub on a Unix socket (as the client spells it: ``http+unix://<path, %-encoded>``)."""
    from urllib.parse import quote

    return "http+unix://" + quote(str(Path(path).resolve()), safe="")


def join_command(url: str, data_dir: Path) -> list[str]:
    """``agile-tui join URL --data-dir DIR`` with this python."""
    return [sys.executable, "-m", "agile_tui", "join", url, "--data-dir", str(data_dir)]


@dataclass
class SSHConfig:
    """What ``serve`` decides before the loop runs: the bound socket, the keys, where the HTTP hub is."""

    sock: object  # a listening socket.socket
    data_dir: Path
    http_url: str
    keys_path: Path | None = None
    room_limit: int = ROOM_LIMIT
    command: Callable[[str, Path], Sequence[str]] = join_command  # (join URL, client data dir) -> argv
    hangup_s: float = 3.0
    host_key: asyncssh.SSHKey | None = None
    keys: KeysFile | None = None

    def prepare(self) -> None:
        """Load (or make) the host key and read the keys file; blocking, before the server starts."""
        self.keys_path = self.keys_path or self.data_dir / KEYS_NAME
        self.host_key = self.host_key or load_host_key(self.data_dir)
        self.keys = self.keys or KeysFile(self.keys_path)
        self.keys.load()


@dataclass
class SSHService:
    """The SSH side of one hub: the listener, the connections and their sessions (one per person and room)."""

    hub: object  # service.Hub
    config: SSHConfig
    acceptor: asyncssh.SSHAcceptor | None = None
    connections: set[_Connection] = field(default_factory=set)
    sessions: dict[tuple[str, str], RoomSession] = field(default_factory=dict)  # (room, participant id)
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)  # tokens minted in this run
    stopping: bool = False

    async def start(self) -> None:
        if self.config.host_key is None:
            self.config.prepare()
        asyncssh.set_log_level(logging.WARNING)
        self.acceptor = await asyncssh.listen(
            sock=self.config.sock, server_factory=lambda: _Connection(self),
            server_host_keys=[self.config.host_key], encoding=None, line_editor=False, allow_pty=True,
            agent_forwarding=False, x11_forwarding=False, allow_scp=False, gss_host=None,
            login_timeout=LOGIN_TIMEOUT_S,
            keepalive_interval=KEEPALIVE_S, keepalive_count_max=3)
        host, port = self.config.sock.getsockname()[:2]
        log.info("agile-tui ssh on %s:%s (host key %s), keys from %s (%d)", host, port,
                 self.config.host_key.get_fingerprint(), self.config.keys_path, len(self.config.keys.entries))

    @property
    def port(self) -> int:
        return self.config.sock.getsockname()[1]

    async def stop(self, timeout: float = 10.0) -> None:
        """No new connections; every client is hung up (each saves and exits), then the connections close."""
        self.stopping = True
        if self.acceptor is not None:
            self.acceptor.close()
        ending = [s.end("The hub is stopping. Join again when it is back.") for s in list(self.sessions.values())]
        if ending:
            await asyncio.wait([asyncio.ensure_future(e) for e in ending], timeout=timeout)
        # Each client leaves once its channel has closed (with the exit status): give them a moment to.
        closing = [asyncio.ensure_future(c.conn.wait_closed()) for c in self.connections if c.conn is not None]
        if closing:
            await asyncio.wait(closing, timeout=2.0)
        for conn in list(self.connections):
            conn.close()

    def here(self, room) -> set[str]:
        return room.here_ids() | {pid for (room_id, pid) in self.sessions if room_id == room.id}


class _Connection(asyncssh.SSHServer):
    """One SSH connection: public-key authentication against the keys file; its sessions are RoomSessions."""

    def __init__(self, service: SSHService) -> None:
        self.service = service
        self.conn: asyncssh.SSHServerConnection | None = None
        self.peer = ("?", 0)
        self.host = "HOST"
        self.user = ""
        self.entry: AuthorizedKey | None = None
        self.tried: list[str] = []
        self.refused_from = False

    def connection_made(self, conn) -> None:
        self.conn = conn
        self.peer = (conn.get_extra_info("peername") or ("?", 0))[:2]
        local = str((conn.get_extra_info("sockname") or ("HOST",))[0])
        self.host = f"[{local}]" if ":" in local else local  # the address the client reached: for the messages
        self.service.connections.add(self)

    def connection_lost(self, exc) -> None:
        self.service.connections.discard(self)
        if self.entry is None and self.user:
            why = "from an address its key does not allow" if self.refused_from else \
                (f"key {', '.join(self.tried)} is not in the keys file" if self.tried else "no public key offered")
            log.info("ssh: refused %s:%s as %r: %s", *self.peer, self.user, why)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def begin_auth(self, username: str) -> bool:
        self.user = username
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        entry = self.service.config.keys.find(key)
        if entry is None:
            fingerprint = key.get_fingerprint()
            if fingerprint not in self.tried:
                self.tried.append(fingerprint)
            return False
        if not entry.allows_address("", str(self.peer[0])):
            self.refused_from = True
            return False
        self.entry = entry
        return True

    def session_requested(self):
        if self.entry is None:  # pragma: no cover - asyncssh asks only once authenticated
            return False
        return RoomSession(self.service, self)


class RoomSession(asyncssh.SSHServerSession):
    """One terminal in one room: its refusals, or its agile-tui client on a pty."""

    def __init__(self, service: SSHService, connection: _Connection) -> None:
        self.service, self.connection = service, connection
        self.entry: AuthorizedKey = connection.entry
        self.room_id = connection.user
        self.chan = None
        self.term: str | None = None
        self.size = (80, 24, 0, 0)
        self.command: str | None = None
        self.child: PtyChild | None = None
        self.early_input = bytearray()  # typed before the client started
        self.closed = False
        self.farewell: str | None = None
        self.key: tuple[str, str] | None = None
        self.task: asyncio.Task | None = None
        self.done = asyncio.get_running_loop().create_future()

    # asyncssh's callbacks

    def connection_made(self, chan) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size, term_modes) -> bool:
        self.term = term_type or "xterm-256color"
        self.size = tuple(term_size)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self.command = command
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        return False

    def session_started(self) -> None:
        self.task = asyncio.ensure_future(self.run())

    def data_received(self, data: bytes, datatype) -> None:
        if self.child is not None:
            self.child.write(data)
            if self.child.input_pending > 256 * 1024:
                self.chan.pause_reading()
        elif len(self.early_input) < 64 * 1024:
            self.early_input += data

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self.size = (width, height, pixwidth, pixheight)
        if self.child is not None:
            self.child.resize(*self.size)

    def eof_received(self) -> bool:
        self._hang_up()
        return True  # keep the channel open to send what the client draws last, and its exit status

    def pause_writing(self) -> None:
        if self.child is not None:
            self.child.pause_output()

    def resume_writing(self) -> None:
        if self.child is not None:
            self.child.resume_output()

    def connection_lost(self, exc) -> None:
        self.closed = True
        self._hang_up()
        if self.child is None and self.task is not None and not self.task.done():
            self.task.cancel()  # still being let in: nothing to save

    # the session's life

    def _hang_up(self) -> None:
        if self.child is not None and self.child.running:
            asyncio.ensure_future(self.child.hang_up(self.service.config.hangup_s))

    async def end(self, farewell: str) -> None:
        """End this session from the hub's side: the client is hung up (it saves), then ``farewell`` is shown."""
        self.farewell = farewell
        if self.child is not None:
            self._hang_up()  # runs to its end, even if the caller stops waiting for it
        elif self.task is not None and not self.task.done():
            self.task.cancel()
        await asyncio.shield(self.done)

    def say(self, text: str) -> None:
        if not self.closed:
            with contextlib.suppress(OSError, asyncssh.Error):
                self.chan.write_stderr(text.replace("\n", "\r\n").encode("utf-8", "replace") + b"\r\n")

    def close(self, status: int) -> None:
        if not self.closed:
            with contextlib.suppress(OSError, asyncssh.Error):
                self.chan.exit(status)

    def refuse(self, message: str, why: str) -> int:
        c = self.connection
        log.info("ssh: refused %s from %s:%s in room %r: %s", self.entry.name, *c.peer, self.room_id, why)
        self.say(message)
        return 1

    async def run(self) -> None:
        status = 1
        try:
            status = await self._run()
        except asyncio.CancelledError:
            status = 1
        except Exception:
            log.exception("ssh: the session of %s in room %r failed", self.entry.name, self.room_id)
            self.say("Something went wrong on the hub (its log says what).")
        finally:
            if self.key is not None and self.service.sessions.get(self.key) is self:
                del self.service.sessions[self.key]
            if not self.done.done():
                self.done.set_result(status)
        if status >= 128 and self.child is not None:
            self._output(RESET)
        if self.farewell:
            self.say(self.farewell)
        self.close(status)

    async def _run(self) -> int:
        service, entry, room_id = self.service, self.entry, self.room_id
        shown = CONTROL.sub("?", room_id)[:80]
        host = self.connection.host
        where = f"{self.connection.peer[0]}:{self.connection.peer[1]}"
        if service.stopping:
            return self.refuse("The hub is stopping. Join again when it is back.", "the hub is stopping")
        if self.command is not None:
            return self.refuse(f"agile-tui runs no commands here. Join with: ssh -t -p {service.port} {shown}@{host}",
                               f"a command ({self.command[:60]!r})")
        if self.term is None:
            return self.refuse(f"agile-tui needs a terminal: ssh -t -p {service.port} {shown}@{host}",
                               "no terminal requested")
        try:
            room = service.hub.room(room_id) if ROOM_ID.fullmatch(room_id) else None
        except HubError:
            room = None
        if room is None:
            return self.refuse(f"There is no room {shown} on this hub.", "no such room")
        if entry.rooms is not None and room_id not in entry.rooms:
            return self.refuse(f"Your key may not join room {shown} on this hub.", "not one of the key's rooms")
        # One client per person and room (it owns its data folder): a second terminal takes the seat over.
        while (person := room.person_named(entry.name)) is not None and (room_id, person.id) in service.sessions:
            earlier = service.sessions[(room_id, person.id)]
            log.info("ssh: %s joins room %r again from %s: the earlier terminal is closed", entry.name, room_id, where)
            try:
                await asyncio.wait_for(earlier.end(f"You joined room {shown} from another terminal; this one is "
                                                   "closed."), TAKEOVER_S)
            except TimeoutError:
                return self.refuse("Your earlier terminal in this room is still closing; try again.", "takeover")
            if self.closed or service.stopping:
                return 1
        here = service.here(room)
        if (person is None or person.id not in here) and len(here) >= service.config.room_limit:
            return self.refuse(f"Room {shown} is full: {len(here)} people are in it (the limit is "
                               f"{service.config.room_limit}). Try again when someone leaves.", "the room is full")
        try:
            who, token = service.hub.admit_person(room_id, entry.name, facilitator=entry.facilitator,
                                                  token=service.tokens.get((room_id, person.id)) if person else None)
        except HubError as error:
            return self.refuse(f"You cannot join room {shown} as {entry.name}: {error.reason}", error.reason)
        self.key = (room_id, who.id)
        service.tokens[self.key] = token
        service.sessions[self.key] = self  # from here on, this person is "here" for the room limit

        folder = client_folder(service.config.data_dir, who.id)
        env = child_env(os.environ, self.term, token, folder, self.chan.get_environment())
        self.child = PtyChild(service.config.command(f"{service.config.http_url}/join/{room_id}", folder),
                              env=env, cwd=str(folder), size=self.size, on_output=self._output,
                              on_input_drained=self._input_drained)
        try:
            await self.child.start()
        except OSError as error:
            self.child = None
            log.error("ssh: cannot start the client of %s in room %r: %s", entry.name, room_id, error)
            self.say(f"The hub could not start agile-tui for you: {error.strerror or error}")
            return 1
        if self.closed:
            self._hang_up()
        if self.early_input:
            self.child.write(bytes(self.early_input))
            self.early_input.clear()
        started = time.monotonic()
        log.info("ssh: %s%s joined room %r from %s (key %s, %s, client pid %s)", who.name,
                 " (facilitator)" if who.facilitator else "", room_id, where, entry.fingerprint, who.id,
                 self.child.pid)
        status = await self.child.exited
        log.info("ssh: %s left room %r (client exit %s after %.0f s)", who.name, room_id, status,
                 time.monotonic() - started)
        return status

    def _output(self, data: bytes) -> None:
        if not self.closed:
            with contextlib.suppress(OSError, asyncssh.Error):
                self.chan.write(data)

    def _input_drained(self) -> None:
        if not self.closed:
            with contextlib.suppress(OSError, asyncssh.Error):
                self.chan.resume_reading()


def client_folder(data_dir: Path, participant_id: str) -> Path:
    """Where a participant's SSH client keeps its outbox, cache and link (with its token): the hub's user only."""
    clients = data_dir / CLIENTS_DIR
    clients.mkdir(mode=0o700, exist_ok=True)
    if clients.stat().st_mode & 0o077:
        clients.chmod(0o700)
    folder = clients / participant_id
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def child_env(base, term: str, token: str, folder: Path, sent) -> dict[str, str]:
    """The client's environment: the hub's, less what belongs to the hub's own terminal, with the SSH
    terminal's TERM, a UTF-8 locale, the token, and the few variables of the SSH client that concern colour."""
    env = {k: v for k, v in base.items() if k not in DROPPED_ENV}
    locale = " ".join(env.get(k, "") for k in ("LC_ALL", "LC_CTYPE", "LANG")).lower()
    if "utf-8" not in locale and "utf8" not in locale:
        env.pop("LC_ALL", None)
        env.pop("LC_CTYPE", None)
        env["LANG"] = "C.UTF-8"
    for name in FORWARDED_ENV:
        value = sent.get(name) if sent else None
        if isinstance(value, str) and len(value) < 64 and not CONTROL.search(value):
            env[name] = value
    env["TERM"] = CONTROL.sub("", term)[:64] or "xterm-256color"
    env["AGILE_TUI_HUB_TOKEN"] = token
    env["AGILE_TUI_DATA_DIR"] = str(folder)
    return env
