"""Small file-system helpers for durable, atomic writes."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def temp_fd(target: Path) -> tuple[int, Path]:
    """A new temp file next to ``target`` (same folder, so ``os.replace`` is atomic), opened read/write."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f"{target.name}.tmp-")
    return fd, Path(name)


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` so that a crash leaves either the old file or the new one, whole."""
    fd, tmp = temp_fd(target)
    try:
        write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    try:
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)


def remove_stale_temps(target: Path) -> None:
    """Remove temp files a crashed write left next to ``target``."""
    for stale in target.parent.glob(f"{target.name}.tmp-*"):
        stale.unlink(missing_ok=True)


def aside_path(path: Path, tag: str = "corrupt") -> Path:
    """``<path>.<tag>-YYYYmmdd-HHMMSS`` (with a counter when that name is taken)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.{tag}-{stamp}")
    n = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.{tag}-{stamp}-{n}")
        n += 1
    return candidate


def keep_copy(path: Path, tag: str = "corrupt") -> Path:
    """Keep the current content of ``path`` under an aside name, byte-identical, without moving ``path``."""
    target = aside_path(path, tag)
    try:
        os.link(path, target)  # same bytes, same inode; ``path`` is later replaced, never rewritten in place
    except OSError:
        data = path.read_bytes()
        atomic_write_bytes(target, data)
        return target
    fsync_dir(path.parent)
    return target


def move_aside(path: Path, tag: str = "corrupt") -> Path:
    """Rename ``path`` aside, untouched."""
    target = aside_path(path, tag)
    os.rename(path, target)
    fsync_dir(path.parent)
    return target
