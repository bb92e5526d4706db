"""Time to first paint of ``agile-tui --demo`` against a bare Textual app, both real processes in a pty.

    python bench/bench_startup.py [--runs N]

Each program is started with the same python in a fresh pseudo-terminal of 120x40 (as a real terminal
emulator would give it); the clock runs from the spawn until a marker shows up in what the program writes
to the terminal: ``Goal:`` (the pinned sprint goal in the room header of the planning screen) for the app,
a Static's text for the bare app (a ``textual.app.App`` with Header, Static and Footer). Then ``q`` quits
it. The demo room is created by one warm-up run first, so seeding is not counted (that first run is printed
as info). Runs are interleaved (bare, app, app, bare, ...) so a noisy machine slows both alike.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
COLUMNS, LINES = 120, 40
TARGET_RATIO = 1.5
TIMEOUT_S = 30.0

APP_MARKER = b"Goal:"
BARE_MARKER = b"BARE-APP-READY"
BARE_APP = f'''
from textual.app import App
from textual.widgets import Footer, Header, Static


class Bare(App):
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self):
        yield Header()
        yield Static("{BARE_MARKER.decode()}")
        yield Footer()


if __name__ == "__main__":
    Bare().run()
'''


def spawn_in_pty(argv: list[str], env: dict[str, str], marker: bytes) -> tuple[float, float]:
    """Run ``argv`` on a new pty; returns (seconds to ``marker`` on the terminal, seconds to quit)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
                            start_new_session=True, close_fds=True)
    os.close(slave)
    seen = b""
    first_paint = None
    quit_sent = None
    try:
        while True:
            now = time.perf_counter()
            if now - started > TIMEOUT_S:
                raise TimeoutError(f"{argv[1:]} did not show {marker!r} within {TIMEOUT_S:.0f} s; "
                                   f"last output: {seen[-400:]!r}")
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    chunk = b""
                if not chunk:
                    if first_paint is None:
                        raise RuntimeError(f"{argv[1:]} exited before {marker!r} appeared (rc "
                                           f"{proc.wait()}); output: {seen[-800:]!r}")
                    break
                if first_paint is None:
                    seen = seen[-len(marker):] + chunk if len(seen) > 4096 else seen + chunk
                    if marker in seen:
                        first_paint = time.perf_counter() - started
                        os.write(master, b"q")
                        quit_sent = time.perf_counter()
            if quit_sent is not None and proc.poll() is not None:
                break
            if quit_sent is not None and time.perf_counter() - quit_sent > 10:
                raise TimeoutError(f"{argv[1:]} did not quit on q")
        proc.wait(timeout=10)
        return first_paint, time.perf_counter() - quit_sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)


IMPORT_PROBE = """
import time
t = time.perf_counter()
import {modules}
print((time.perf_counter() - t) * 1000)
"""


BARE_IMPORTS = "textual.app, textual.widgets._header, textual.widgets._footer, textual.widgets._static"
APP_IMPORTS = "agile_tui.cli, agile_tui.config, agile_tui.store, agile_tui.session, agile_tui.ui.app"


def import_ms(modules: str, env: dict[str, str]) -> float:
    """Milliseconds a fresh process takes to import ``modules`` (the import share of the startup)."""
    out = subprocess.run([sys.executable, "-c", IMPORT_PROBE.format(modules=modules)], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True, timeout=TIMEOUT_S).stdout
    return float(out.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="agile-bench-startup-") as tmp:
        tmp_path = Path(tmp)
        bare = tmp_path / "bare_app.py"
        bare.write_text(textwrap.dedent(BARE_APP), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
        env.update(TERM="xterm-256color", COLORTERM="truecolor", COLUMNS=str(COLUMNS), LINES=str(LINES),
                   AGILE_TUI_DATA_DIR=str(tmp_path / "data"), AGILE_TUI_CONFIG_DIR=str(tmp_path / "config"))
        env.setdefault("LANG", "C.UTF-8")
        env.pop("NO_COLOR", None)
        app_argv = [sys.executable, "-m", "agile_tui", "--demo"]
        bare_argv = [sys.executable, str(bare)]

        print(f"startup: spawn -> first paint in a {COLUMNS}x{LINES} pty, median of {args.runs} interleaved "
              "runs each")
        print(f"app: {' '.join(['python', *app_argv[1:]])} (marker {APP_MARKER.decode()!r}); baseline: bare "
              f"textual App with Header/Static/Footer (marker {BARE_MARKER.decode()!r}), same python\n")
        # Warm-up: the OS file cache and .pyc files for both; the first app run also seeds the demo room.
        bare_warm, _ = spawn_in_pty(bare_argv, env, BARE_MARKER)
        seed_run, _ = spawn_in_pty(app_argv, env, APP_MARKER)
        if not (tmp_path / "data" / "rooms" / "demo.json").exists():
            print("warning: the warm-up run left no demo room snapshot", file=sys.stderr)

        app_times, bare_times, app_quit, bare_quit = [], [], [], []
        imports_app, imports_bare = [], []
        for run in range(args.runs):
            imports_bare.append(import_ms(BARE_IMPORTS, env))
            imports_app.append(import_ms(APP_IMPORTS, env))
            order = [("bare", bare_argv, BARE_MARKER), ("app", app_argv, APP_MARKER)]
            if run % 2:
                order.reverse()
            for name, argv, marker in order:
                paint, quit_s = spawn_in_pty(argv, env, marker)
                (app_times if name == "app" else bare_times).append(paint)
                (app_quit if name == "app" else bare_quit).append(quit_s)

    app_med, bare_med = statistics.median(app_times), statistics.median(bare_times)
    ratio = app_med / bare_med

    def row(label: str, times: list[float], quits: list[float]) -> str:
        ms = " ".join(f"{t * 1000:.0f}" for t in times)
        return (f"{label:<14} median {statistics.median(times) * 1000:6.0f} ms   min {min(times) * 1000:6.0f}"
                f"   max {max(times) * 1000:6.0f}   quit {statistics.median(quits) * 1000:4.0f} ms   "
                f"runs: {ms}")

    print(row("bare textual", bare_times, bare_quit))
    print(row("agile-tui", app_times, app_quit))
    print(f"info: first run with seeding of the demo room: {seed_run * 1000:.0f} ms "
          f"(first bare run: {bare_warm * 1000:.0f} ms)")
    print(f"info: of which imports (fresh process, median): agile-tui "
          f"{statistics.median(imports_app):.0f} ms, bare {statistics.median(imports_bare):.0f} ms")
    print(f"\nratio agile-tui / bare = {ratio:.2f}x   (target <= {TARGET_RATIO:g}x; extra "
          f"{(app_med - bare_med) * 1000:.0f} ms)")
    print(f"{'PASS' if ratio <= TARGET_RATIO else 'FAIL'}: time to first paint {app_med * 1000:.0f} ms vs "
          f"{bare_med * 1000:.0f} ms bare")
    print(f"(bench took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
