"""A command on a new pseudo-terminal, bridged without blocking: what it draws goes to ``on_output``, what is
typed goes in with ``write``, a new window size with ``resize`` (the kernel sends the child SIGWINCH), and
``hang_up`` ends it (SIGHUP, then SIGTERM, then SIGKILL). All on the running asyncio loop: the master side is
non-blocking and watched with ``add_reader``/``add_writer``; nothing here waits on a file descriptor.

The child is a session leader with the pty as its controlling terminal (``setsid`` + ``TIOCSCTTY``), as a login
shell is: it is in the terminal's foreground process group, so window changes reach it as SIGWINCH."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import signal
import struct
import termios
from collections.abc import Callable, Mapping, Sequence

READ_CHUNK = 65536
INPUT_HIGH = 256 * 1024  # bytes typed but not yet taken by the child before the sender is asked to pause
HANGUP_S = 3.0  # after SIGHUP (the client flushes and exits), before SIGTERM
TERM_S = 2.0  # after SIGTERM, before SIGKILL


def winsize(cols: int, rows: int, px_width: int = 0, px_height: int = 0) -> bytes:
    cols, rows = cols if cols > 0 else 80, rows if rows > 0 else 24
    return struct.pack("HHHH", min(rows, 0xFFFF), min(cols, 0xFFFF), min(px_width, 0xFFFF), min(px_height, 0xFFFF))


def _take_terminal() -> None:  # pragma: no cover - runs in the child between fork and exec
    # start_new_session has made the child a session leader; its stdin is the pty's slave side.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def exit_status(returncode: int) -> int:
    """A shell-style status: a child ended by signal N is 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


class PtyChild:
    def __init__(self, argv: Sequence[str], *, env: Mapping[str, str], cwd: str | None = None,
                 size: tuple[int, int, int, int] = (80, 24, 0, 0), on_output: Callable[[bytes], None],
                 on_input_drained: Callable[[], None] | None = None) -> None:
        self.argv, self.env, self.cwd, self.size = list(argv), dict(env), cwd, size
        self.on_output, self.on_input_drained = on_output, on_input_drained
        self.master: int | None = None
        self.proc: asyncio.subprocess.Process | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._pending = bytearray()  # typed, not yet written to the master
        self._reading = False
        self._paused = False  # output paused by the receiver (flow control)
        self._output_done = False  # the slave side is closed (EIO): nothing more to read
        self.exited: asyncio.Future[int] | None = None
        self._hanging_up: asyncio.Future[int] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    @property
    def input_pending(self) -> int:
        return len(self._pending)

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        master, slave = os.openpty()
        try:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, winsize(*self.size))
            os.set_blocking(master, False)
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv, stdin=slave, stdout=slave, stderr=slave, env=self.env, cwd=self.cwd,
                start_new_session=True, preexec_fn=_take_terminal)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)  # the child has its own copies: once it exits, reading the master gives EIO
        self.master = master
        self.exited = self.loop.create_future()
        self._watch_output()
        self._waiter = asyncio.ensure_future(self._wait())

    async def _wait(self) -> None:
        returncode = await self.proc.wait()
        self._drain_output()  # what it drew last (its goodbye, a traceback) still goes out
        self._close_master()
        if not self.exited.done():
            self.exited.set_result(exit_status(returncode))

    # ------------------------------------------------------------------ output: child -> receiver

    def _watch_output(self) -> None:
        if self.master is not None and not self._reading and not self._paused and not self._output_done:
            self.loop.add_reader(self.master, self._read)
            self._reading = True

    def _unwatch_output(self) -> None:
        if self._reading and self.master is not None:
            self.loop.remove_reader(self.master)
        self._reading = False

    def _read(self) -> None:
        try:
            data = os.read(self.master, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError as error:  # EIO: every slave fd is closed (the child exited or closed its terminal)
            if error.errno != errno.EIO:
                raise
            data = b""
        if not data:
            self._output_done = True
            self._unwatch_output()
            return
        self.on_output(data)

    def _drain_output(self) -> None:
        self._unwatch_output()
        while self.master is not None and not self._output_done:
            try:
                data = os.read(self.master, READ_CHUNK)
            except OSError:
                break
            if not data:
                break
            self.on_output(data)
        self._output_done = True

    def pause_output(self) -> None:
        self._paused = True
        self._unwatch_output()

    def resume_output(self) -> None:
        self._paused = False
        self._watch_output()

    # ------------------------------------------------------------------ input: sender -> child

    def write(self, data: bytes) -> None:
        if self.master is None or not data:
            return
        if self._pending:
            self._pending += data
            return
        try:
            written = os.write(self.master, data)
        except BlockingIOError:
            written = 0
        except OSError:  # the child is gone: what is typed now goes nowhere
            return
        if written < len(data):
            self._pending += data[written:]
            self.loop.add_writer(self.master, self._flush_input)

    def _flush_input(self) -> None:
        try:
            written = os.write(self.master, self._pending)
        except BlockingIOError:
            return
        except OSError:
            written = len(self._pending)
        del self._pending[:written]
        if not self._pending:
            self.loop.remove_writer(self.master)
            if self.on_input_drained is not None:
                self.on_input_drained()

    # ------------------------------------------------------------------ size and ending

    def resize(self, cols: int, rows: int, px_width: int = 0, px_height: int = 0) -> None:
        self.size = (cols, rows, px_width, px_height)
        if self.master is not None:
            with contextlib.suppress(OSError):
                fcntl.ioctl(self.master, termios.TIOCSWINSZ, winsize(cols, rows, px_width, px_height))

    def signal(self, sig: int) -> bool:
        """Send ``sig`` to the child's process group (it leads one); False once it has exited."""
        if not self.running:
            return False
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            return False
        except PermissionError:  # pragma: no cover - the group leader left and the id is someone else's
            return False
        return True

    async def hang_up(self, grace: float = HANGUP_S, term_grace: float = TERM_S) -> int | None:
        """The terminal is gone: SIGHUP (the client saves and exits), after ``grace`` s SIGTERM, after
        ``term_grace`` more SIGKILL. Returns the exit status (None if it was never started). The first call
        runs to the end even when its caller stops waiting; a second one waits for the same."""
        if self.exited is None:
            return None
        if self._hanging_up is None:
            self._hanging_up = asyncio.ensure_future(self._hang_up(grace, term_grace))
        return await asyncio.shield(self._hanging_up)

    async def _hang_up(self, grace: float, term_grace: float) -> int:
        for sig, wait in ((signal.SIGHUP, grace), (signal.SIGTERM, term_grace), (signal.SIGKILL, 10.0)):
            if self.exited.done() or not self.signal(sig):
                break
            try:
                await asyncio.wait_for(asyncio.shield(self.exited), wait)
                break
            except TimeoutError:
                continue
        return await self.exited

    def _close_master(self) -> None:
        if self.master is None:
            return
        self._unwatch_output()
        if self._pending:
            self.loop.remove_writer(self.master)
            self._pending.clear()
        os.close(self.master)
        self.master = None
