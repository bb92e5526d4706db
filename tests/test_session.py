"""The op pipeline: an op the disk refuses is kept and written later, in order; none is skipped."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json, os, resource, signal, sys, time
    from pathlib import Path
    from agile_tui.domain import FakeClock
    from agile_tui.session import RoomSession
    from agile_tui.store import RoomStore

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    folder = Path(sys.argv[1])
    reports = []
    session = RoomSession(RoomStore.open(folder, "team"), clock=FakeClock(), on_saved=reports.append)
    session.submit("member.add", id="m1", name="Ann")
    session.flush()
    journal = folder / "rooms" / "team.journal"
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (journal.stat().st_size + 10, hard))  # the disk is "full" mid-line
    for n in range(3):
        session.submit("item.add", id=f"i{n}", title=f"Item {n}")
    deadline = time.monotonic() + 10
    while not any(r.error for r in reports) and time.monotonic() < deadline:
        time.sleep(0.01)
    failed = [r.error for r in reports if r.error]
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # space again
    while session.pending and time.monotonic() < deadline:
        time.sleep(0.05)
    last = reports[-1]
    print(json.dumps({"failed": failed[:1], "pending": session.pending, "last_error": last.error,
                      "seq": last.seq}))
    session.close()
""")


def test_an_op_the_disk_refuses_is_written_once_space_returns(data_dir):
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(data_dir)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["failed"] and "Could not save" in report["failed"][0]
    assert report["pending"] == 0 and report["last_error"] is None and report["seq"] == 4
    from agile_tui.store import load_readonly

    state, seq, problems = load_readonly(data_dir, "team")
    assert sorted(state.items) == ["i0", "i1", "i2"] and not problems
    assert [state.items[f"i{n}"].title for n in range(3)] == ["Item 0", "Item 1", "Item 2"]
