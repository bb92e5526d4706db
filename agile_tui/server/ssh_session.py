"""One SSH connection's session: the checks after login (a terminal, the room, room for one more), the
person's participant, and their `agile-tui join` on a new pseudo-terminal, bridged both ways until either side
ends. See ssh.py for the whole design."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import asyncssh

from .hub import HubError
from .ssh_keys import CONTROL
from .ssh_pty import PtyChild

if TYPE_CHECKING:
    from .ssh import SSHService, _Connection
    from .ssh_keys import AuthorizedKey

log = logging.getLogger("agile_tui.hub")

CLIENTS_DIR = "ssh-clients"
TAKEOVER_S = 15.0  # the longest a new connection waits for the person's earlier client to save and exit
ROOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
FORWARDED_ENV = ("COLORTERM", "NO_COLOR")  # of what the SSH client sends, what reaches the app
# Of the hub's environment, only these reach the client (with LC_*): nothing else of the hub's (its secrets,
# its terminal's variables) does.
KEPT_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME",
            "AGILE_TUI_CONFIG_DIR")
# After a client that did not tidy its terminal (it was killed): main screen, cursor shown, no mouse reports,
# no bracketed paste, no focus events, the keyboard protocol popped, auto-wrap on.
RESET = (b"\x1b[?1049l\x1b[?25h\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?1004l\x1b[?2004l"
         b"\x1b[<u\x1b[?7h\x1b[0m\r\n")
MAX_COLS, MAX_ROWS = 1000, 500  # a client's window size is clamped to these (a huge one eats the app's memory)
MAX_PIXELS = 0xFFFF


def clamp_size(cols, rows, px_width=0, px_height=0) -> tuple[int, int, int, int]:
    """The SSH client's window size, within what the app is ever given: 1..1000 columns, 1..500 rows."""
    def within(value, low: int, high: int, default: int) -> int:
        try:
            value = int(value)
        except (TypeError, ValueError):
            return default
        return default if value <= 0 and default else max(low, min(value, high))
    return (within(cols, 1, MAX_COLS, 80), within(rows, 1, MAX_ROWS, 24),
            within(px_width, 0, MAX_PIXELS, 0), within(px_height, 0, MAX_PIXELS, 0))


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
        self.write_paused = False  # the SSH peer's window is full
        self.key: tuple[str, str] | None = None
        self.task: asyncio.Task | None = None
        self.done = asyncio.get_running_loop().create_future()

    # asyncssh's callbacks

    def connection_made(self, chan) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size, term_modes) -> bool:
        self.term = term_type or "xterm-256color"
        self.size = clamp_size(*tuple(term_size)[:4])
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
        self.size = clamp_size(width, height, pixwidth, pixheight)
        if self.child is not None:
            self.child.resize(*self.size)

    def eof_received(self) -> bool:
        self._hang_up()
        return True  # keep the channel open to send what the client draws last, and its exit status

    def pause_writing(self) -> None:
        self.write_paused = True
        if self.child is not None and self.farewell is None:  # once ending, the pty is read (and dropped)
            self.child.pause_output()

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.child is not None:
            self.child.resume_output()

    def connection_lost(self, exc) -> None:
        self.closed = True
        self._drain_child()
        self._hang_up()
        if self.child is None and self.task is not None and not self.task.done():
            self.task.cancel()  # still being let in: nothing to save

    # the session's life

    def _drain_child(self) -> None:
        """Read the pty again if the SSH peer had paused it: the client must not stay blocked writing to its
        terminal (and so never handle SIGHUP); once closed, what it writes is dropped (see _output)."""
        if self.child is not None:
            self.child.resume_output()

    def _hang_up(self) -> None:
        if self.child is not None and self.child.running:
            asyncio.ensure_future(self.child.hang_up(self.service.config.hangup_s))

    async def end(self, farewell: str) -> None:
        """End this session from the hub's side: the client is hung up (it saves), then ``farewell`` is shown."""
        self.farewell = farewell
        if self.child is not None:
            self._drain_child()
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
        # The key's rooms first, and one message for both: a key limited to some rooms learns nothing of others.
        no_room = f"There is no room {shown} on this hub that your key may join."
        if entry.rooms is not None and room_id not in entry.rooms:
            return self.refuse(no_room, "not one of the key's rooms")
        try:
            room = service.hub.room(room_id) if ROOM_ID.fullmatch(room_id) else None
        except HubError:
            room = None
        if room is None:
            return self.refuse(no_room, "no such room")
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
        if self.closed or self.farewell is not None or service.stopping:
            self._hang_up()  # dropped, taken over or the hub stopping while it was starting: end() found no child
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
        if self.farewell is not None and self.write_paused:
            return  # ending, and the peer does not read: the client's last drawing is dropped, not buffered
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
    """The client's environment: a few of the hub's (KEPT_ENV and LC_*), with the SSH terminal's TERM, a UTF-8
    locale, the token, the few variables of the SSH client that concern colour, and AGILE_TUI_RESTRICTED=1
    (the app reads no local files for a remote person: no CSV import from the hub's disk)."""
    env = {k: v for k, v in base.items() if k in KEPT_ENV or k.startswith("LC_")}
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
    env["AGILE_TUI_RESTRICTED"] = "1"
    return env
