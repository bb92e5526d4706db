"""CPU the app uses while the standup clock runs, against the same app idle on the planning screen.

    python bench/bench_standup_cpu.py [--seconds 10]

``agile-tui --demo`` runs for real in a 120x40 pseudo-terminal, on a fresh demo room in a temporary data
folder. Once it has painted and settled, the child's CPU time (user + system, all its threads, from
``/proc/<pid>/stat``) is read over ``--seconds`` of wall time with the app idle on the planning screen (the
baseline); then the keys ``2``, ``s`` and ctrl+s start a standup (six speakers, 15 minutes: a box of 2:30,
so no bell and no change of speaker in the window) and the same is read over as long again with the
speaker's clock counting down. Throughout, the parent reads everything the app writes to the terminal, so
the app never blocks on a full pty. Then ``q`` and ``y`` (the clock runs: quitting asks) end it.

Target: the running clock costs under 5% of one core over the idle app: (cpu_running - cpu_idle) / seconds
< 0.05 (each window's CPU is divided by its measured wall time).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLUMNS, LINES = 120, 40
SECONDS = 10.0
SETTLE_S = 2.0  # after a screen shows up, before a window starts: start-up and switching work are done
TARGET_SHARE = 0.05  # of one core
TIMEOUT_S = 30.0
TICKS = os.sysconf("SC_CLK_TCK")
SPOKEN = re.compile(rb"spoken (\d+):(\d\d)")


class AppInPty:
    """One app process on its own pseudo-terminal; everything it writes is read (and the tail kept)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.seen = b""  # what was written since the last expect() (the tail of it)
        self.window = bytearray()  # what was written since the last window started (capped)
        self.total = 0
        self.closed = False

    def _read(self, timeout: float) -> None:
        if self.closed:
            time.sleep(max(0.0, timeout))
            return
        ready, _, _ = select.select([self.master], [], [], max(0.0, timeout))
        if not ready:
            return
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the app closed the terminal
            chunk = b""
        if not chunk:
            self.closed = True
            return
        self.total += len(chunk)
        self.seen = (self.seen + chunk)[-65536:]
        if len(self.window) < 8 << 20:
            self.window += chunk

    def pump(self, seconds: float) -> None:
        """Read the app's output for ``seconds``."""
        end = time.perf_counter() + seconds
        while (left := end - time.perf_counter()) > 0:
            self._read(min(left, 0.05))

    def expect(self, marker: bytes, what: str) -> None:
        """Read until ``marker`` shows up in the app's output (from now on)."""
        self.seen = b""
        deadline = time.perf_counter() + TIMEOUT_S
        while marker not in self.seen:
            if self.closed or self.proc.poll() is not None:
                raise RuntimeError(f"the app ended (rc {self.proc.wait()}) before {what}; its last output: "
                                   f"{self.seen[-1500:]!r}")
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no {what} within {TIMEOUT_S:.0f} s; last output: {self.seen[-1500:]!r}")
            self._read(0.05)

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def cpu(self) -> float:
        """The app's CPU seconds so far (user + system, every thread)."""
        stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state is fields[0]
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15 of stat)

    def measure(self, seconds: float) -> tuple[float, float, int]:
        """(CPU seconds, wall seconds, bytes written to the terminal) over a window of ``seconds``."""
        self.window.clear()
        bytes0, cpu0, t0 = self.total, self.cpu(), time.perf_counter()
        self.pump(seconds)
        cpu1, t1 = self.cpu(), time.perf_counter()
        if self.closed or self.proc.poll() is not None:
            raise RuntimeError(f"the app ended (rc {self.proc.wait()}) during the window; its last output: "
                               f"{self.seen[-1500:]!r}")
        return cpu1 - cpu0, t1 - t0, self.total - bytes0

    def quit(self) -> None:
        """q; the clock runs, so the app asks: y. Then wait for it to end."""
        self.send(b"q")
        self.expect(b"Quit anyway", "quit confirmation")
        self.send(b"y")
        deadline = time.perf_counter() + TIMEOUT_S
        while self.proc.poll() is None:
            if time.perf_counter() > deadline:
                raise TimeoutError("the app did not quit on q, y")
            self._read(0.05)

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.close(self.master)


def spoken_seconds(output: bytes) -> list[int]:
    """Every "spoken m:ss" figure the app drew on the clock's status line, in order."""
    return [int(m[1]) * 60 + int(m[2]) for m in SPOKEN.finditer(output)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=SECONDS, help="length of each measuring window")
    args = parser.parse_args()
    if not Path(f"/proc/{os.getpid()}/stat").exists():
        print("this benchmark reads /proc/<pid>/stat (Linux); not available here", file=sys.stderr)
        return 2
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="agile-bench-standup-") as tmp:
        tmp_path = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
        env.update(TERM="xterm-256color", COLORTERM="truecolor", COLUMNS=str(COLUMNS), LINES=str(LINES),
                   AGILE_TUI_DATA_DIR=str(tmp_path / "data"), AGILE_TUI_CONFIG_DIR=str(tmp_path / "config"))
        env.setdefault("LANG", "C.UTF-8")
        env.pop("NO_COLOR", None)
        argv = [sys.executable, "-m", "agile_tui", "--demo"]
        print(f"standup clock CPU: python -m agile_tui --demo in a {COLUMNS}x{LINES} pty, the app's CPU "
              f"(user+sys, /proc/<pid>/stat, {1000 / TICKS:.0f} ms ticks) over {args.seconds:g} s windows")
        print("baseline: the same process idle on the planning screen; then the standup clock running "
              "(2, s, ctrl+s)\n")

        app = AppInPty(argv, env)
        try:
            app.expect(b"Goal:", "planning screen")
            app.pump(SETTLE_S)
            idle_cpu, idle_wall, idle_bytes = app.measure(args.seconds)

            app.send(b"2")
            app.expect(b"No standup is running", "standup lobby")
            app.send(b"s")
            app.expect(b"Start today's standup", "start dialog")
            app.pump(0.5)
            app.send(b"\x13")  # ctrl+s
            app.expect(b"spoken ", "speaker's clock")
            app.pump(SETTLE_S)
            run_cpu, run_wall, run_bytes = app.measure(args.seconds)
            spoken = spoken_seconds(bytes(app.window))
            app.quit()
        finally:
            app.close()

    if len(spoken) < 2 or spoken[-1] - spoken[0] < max(1, args.seconds // 2):  # a sanity check, not a timing
        raise RuntimeError(f"the clock did not run through the window: spoken figures drawn {spoken}")
    idle_share, run_share = idle_cpu / idle_wall, run_cpu / run_wall
    extra = run_share - idle_share
    ratio = (f"{run_share / idle_share:.2f}x" if idle_share > 0
             else f"n/a (idle used under one {1000 / TICKS:.0f} ms tick)")

    def row(label: str, cpu: float, wall: float, written: int) -> str:
        return (f"{label:<22} cpu {cpu * 1000:7.0f} ms in {wall:5.2f} s = {cpu / wall * 100:5.2f}% of one core"
                f"   terminal output {written / 1024:6.1f} KiB")

    print(row("idle (planning)", idle_cpu, idle_wall, idle_bytes))
    print(row("standup clock running", run_cpu, run_wall, run_bytes))
    print(f"info: the clock's status line went from spoken {spoken[0] // 60}:{spoken[0] % 60:02d} to "
          f"{spoken[-1] // 60}:{spoken[-1] % 60:02d} in the window ({len(spoken)} redraws of it)")
    print(f"\nratio running / idle = {ratio}; the running clock costs {extra * 100:.2f}% of one core "
          f"(target < {TARGET_SHARE * 100:g}%)")
    print(f"{'PASS' if extra < TARGET_SHARE else 'FAIL'}: standup clock {run_share * 100:.2f}% vs idle "
          f"{idle_share * 100:.2f}% of one core")
    print(f"(bench took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
