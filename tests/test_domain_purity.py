"""The domain is pure Python: importing it (or any module in it) must not load the UI, storage or network
libraries. Checked in a fresh interpreter, because this test process may already have imported them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FORBIDDEN = ("textual", "tinydb", "httpx", "rich")
ROOT = Path(__file__).resolve().parents[1]

PROBE = f"""
import importlib, json, pkgutil, sys
import agile_tui.domain as domain
modules = ["agile_tui.domain"]
for info in pkgutil.walk_packages(domain.__path__, prefix="agile_tui.domain."):
    importlib.import_module(info.name)
    modules.append(info.name)
forbidden = {FORBIDDEN!r}
loaded = sorted(
    name for name in sys.modules
    if any(name == f or name.startswith(f + ".") for f in forbidden)
)
print(json.dumps(dict(modules=modules, loaded=loaded)))
"""


def _probe(code: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_domain_imports_no_ui_storage_or_network_library():
    report = _probe(PROBE)
    # The walk really found the domain's modules (guards against an empty, trivially passing walk).
    expected = {"model", "ops", "reducer", "tx", "planning_ops", "ritual_ops", "rules", "rank", "clock", "errors"}
    found = {name.rsplit(".", 1)[-1] for name in report["modules"]}
    assert expected <= found, f"pkgutil did not find {sorted(expected - found)}"
    assert report["loaded"] == [], f"importing agile_tui.domain loaded {report['loaded']}"


def test_each_domain_module_alone_imports_nothing_forbidden():
    """Each module imported on its own, in its own interpreter (an import order can hide a bad import)."""
    listing = _probe(PROBE)["modules"]
    code = (
        "import importlib, json, sys\n"
        "importlib.import_module(sys.argv[1])\n"
        f"forbidden = {FORBIDDEN!r}\n"
        "print(json.dumps({'loaded': sorted(n for n in sys.modules "
        "if any(n == f or n.startswith(f + '.') for f in forbidden))}))\n"
    )
    bad = {}
    for name in listing:
        result = subprocess.run(
            [sys.executable, "-c", code, name], cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 0, f"{name}: {result.stderr}"
        loaded = json.loads(result.stdout.strip().splitlines()[-1])["loaded"]
        if loaded:
            bad[name] = loaded
    assert bad == {}, f"domain modules load forbidden libraries: {bad}"


def test_forbidden_libraries_are_detectable():
    """Sanity check of the probe itself: it does see a forbidden library when one is imported."""
    code = "import rich\n" + PROBE
    assert "rich" in _probe(code)["loaded"]
