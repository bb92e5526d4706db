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
import ipaddress
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from .ssh_keys import KEYS_NAME, AuthorizedKey, KeysFile, load_host_key
from .ssh_session import CLIENTS_DIR, RoomSession, child_env, client_folder  # noqa: F401 - (re-exported)

log = logging.getLogger("agile_tui.hub")

ROOM_LIMIT = 50
LOGIN_TIMEOUT_S = 15
PREAUTH_MAX = 64  # connections not yet authenticated, in all: past it, new ones are closed at once
PREAUTH_PER_IP = 16  # the same, from one client address (a team behind one office NAT logs in at once)
MAX_KEYS_TRIED = 6  # failed keys before the connection is dropped (OpenSSH's MaxAuthTries)
TRIED_KEPT = 5  # fingerprints of refused keys kept for the log line (the rest are counted)
OVER_CAP_LOG_S = 60.0  # at most one "too many connections" line per client address in this time
KEEPALIVE_S = 30  # a silent connection is probed; after 3 probes without answer it is dropped


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
    preauth: dict[str, int] = field(default_factory=dict)  # client address -> connections not yet authenticated
    over_cap_logged: dict[str, float] = field(default_factory=dict)  # client address -> when last logged

    def admit_preauth(self, ip: str) -> bool:
        """Count a new connection against the pre-authentication caps; False (and at most one log line a minute
        for that address) when it is over them."""
        total = sum(self.preauth.values())
        if total >= PREAUTH_MAX or self.preauth.get(ip, 0) >= PREAUTH_PER_IP:
            now = time.monotonic()
            if now - self.over_cap_logged.get(ip, -OVER_CAP_LOG_S) >= OVER_CAP_LOG_S:
                if len(self.over_cap_logged) > 4096:
                    self.over_cap_logged = {a: t for a, t in self.over_cap_logged.items()
                                            if now - t < OVER_CAP_LOG_S}
                self.over_cap_logged[ip] = now
                log.warning("ssh: refused a connection from %s: too many connections not yet logged in (%d from "
                            "there, %d in all)", ip, self.preauth.get(ip, 0), total)
            return False
        self.preauth[ip] = self.preauth.get(ip, 0) + 1
        return True

    def release_preauth(self, ip: str) -> None:
        left = self.preauth.get(ip, 0) - 1
        if left > 0:
            self.preauth[ip] = left
        else:
            self.preauth.pop(ip, None)

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


def client_address(peer: str) -> str:
    """A client's address as counted and checked: an IPv4 peer of a dual-stack listener as plain IPv4."""
    try:
        ip = ipaddress.ip_address(peer)
    except ValueError:
        return peer
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


class _Connection(asyncssh.SSHServer):
    """One SSH connection: public-key authentication against the keys file; its sessions are RoomSessions."""

    def __init__(self, service: SSHService) -> None:
        self.service = service
        self.conn: asyncssh.SSHServerConnection | None = None
        self.peer = ("?", 0)
        self.host = "HOST"
        self.user = ""
        self.entry: AuthorizedKey | None = None
        self.tried: list[str] = []  # the first TRIED_KEPT refused fingerprints
        self.failed = 0  # keys refused (not in the file, or from an address they do not allow)
        self.refused_from = False
        self.authenticated = False
        self.counted_ip: str | None = None  # counted against the pre-authentication caps under this address

    def connection_made(self, conn) -> None:
        self.conn = conn
        self.peer = (conn.get_extra_info("peername") or ("?", 0))[:2]
        local = str((conn.get_extra_info("sockname") or ("HOST",))[0])
        self.host = f"[{local}]" if ":" in local else local  # the address the client reached: for the messages
        ip = client_address(str(self.peer[0]))
        if not self.service.admit_preauth(ip):
            conn.abort()  # before the version is even sent
            return
        self.counted_ip = ip
        self.service.connections.add(self)

    def _release(self) -> None:
        if self.counted_ip is not None:
            self.service.release_preauth(self.counted_ip)
            self.counted_ip = None

    def auth_completed(self) -> None:
        self.authenticated = True
        self._release()

    def connection_lost(self, exc) -> None:
        self._release()
        self.service.connections.discard(self)
        if not self.authenticated and self.entry is not None:
            log.info("ssh: %s:%s as %r offered the key of %s (%s) but never signed with it (a probe, or it "
                     "left)", *self.peer, self.user, self.entry.name, self.entry.fingerprint)
        elif self.entry is None and self.user:
            if self.refused_from:
                why = "from an address its key does not allow"
            elif self.tried:
                more = f" and {self.failed - len(self.tried)} more" if self.failed > len(self.tried) else ""
                why = f"key {', '.join(self.tried)}{more} is not in the keys file"
            else:
                why = "no public key offered"
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
            if len(self.tried) < TRIED_KEPT:
                fingerprint = key.get_fingerprint()
                if fingerprint not in self.tried:
                    self.tried.append(fingerprint)
            return self._failed()
        if not entry.allows_address("", str(self.peer[0])):
            self.refused_from = True
            return self._failed()
        self.entry = entry
        return True

    def _failed(self) -> bool:
        self.failed += 1
        if self.failed >= MAX_KEYS_TRIED and self.conn is not None:
            log.info("ssh: %s:%s as %r tried %d keys: disconnected", *self.peer, self.user, self.failed)
            self.conn.disconnect(asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE, "Too many keys tried")
        return False

    def session_requested(self):
        if self.entry is None:  # pragma: no cover - asyncssh asks only once authenticated
            return False
        return RoomSession(self.service, self)
