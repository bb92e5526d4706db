"""Run every benchmark in turn with this python, streaming what each prints (``make bench``).

    python bench/run_all.py [NAME ...]      e.g.  python bench/run_all.py keypress

The benchmarks print their figures beside a baseline measured in the same run, and their target; none
asserts. This exits non-zero only when a benchmark crashed (or overran its time limit).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ("bench_startup.py", "bench_store.py", "bench_keypress.py", "bench_standup_cpu.py", "bench_metrics.py",
           "bench_retro.py", "bench_hub.py", "bench_ssh.py")
LIMIT_S = 600  # per benchmark; each normally takes well under a minute or two


def main(argv: list[str]) -> int:
    wanted = [name for name in BENCHES if not argv or any(arg in name for arg in argv)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    failed: list[str] = []
    ran = 0
    for name in wanted:
        path = HERE / name
        if not path.exists():
            print(f"=== {name}: not present, skipped\n", flush=True)
            continue
        print(f"=== {name}", flush=True)
        t0 = time.perf_counter()
        try:
            code = subprocess.run([sys.executable, str(path)], check=False, env=env, cwd=HERE.parent,
                                  timeout=LIMIT_S).returncode
        except subprocess.TimeoutExpired:
            print(f"=== {name}: killed after {LIMIT_S} s", flush=True)
            code = -1
        took = time.perf_counter() - t0
        ran += 1
        if code != 0:
            failed.append(name)
            print(f"=== {name}: CRASHED (exit {code}) after {took:.0f} s\n", flush=True)
        else:
            print(f"=== {name}: done in {took:.0f} s\n", flush=True)
    total = time.perf_counter() - started
    if failed:
        print(f"{len(failed)} benchmark(s) crashed: {', '.join(failed)} (total {total:.0f} s)")
        return 1
    print(f"all {ran} benchmark(s) ran in {total:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
