"""The guard's restore files: one per GPU it changes, ``<dir>/gpu-<index>.json``, written before the
change, removed after the restore. A file whose guard is gone (SIGKILL, reboot) is restored by the
next guard that starts on that folder."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from ..atomic_files import write_json_atomic
from ..parent_watch import pid_alive


def path_of(directory: Path, index: int) -> Path:
    return directory / f"gpu-{index}.json"


def write(directory: Path, entry: dict[str, Any]) -> Path:
    """``entry``: index, uuid, power_limit_mw (the previous limit, or null), reset_clocks, pid."""
    return write_json_atomic(path_of(directory, int(entry["index"])), entry)


def remove(directory: Path, index: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        path_of(directory, index).unlink()


def entries(directory: Path) -> list[tuple[Path, dict[str, Any] | None]]:
    """Every restore file of the folder with its content (None: unreadable), by GPU index."""
    found = []
    for path in sorted(directory.glob("gpu-*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = None
        found.append((path, data if isinstance(data, dict) else None))
    return found


def leftovers(directory: Path) -> list[dict[str, Any]]:
    """The restore files whose guard is gone (their pid is not running)."""
    return [d for _, d in entries(directory) if d is not None and not pid_alive(int(d.get("pid", 0)))]


def held_by_others(directory: Path, indices: list[int]) -> dict[int, int]:
    """GPU index → pid of a live guard (not this process) that holds its restore file."""
    held = {}
    for _, d in entries(directory):
        if d is None or int(d.get("index", -1)) not in indices:
            continue
        pid = int(d.get("pid", 0))
        if pid != os.getpid() and pid_alive(pid):
            held[int(d["index"])] = pid
    return held
