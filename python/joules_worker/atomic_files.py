"""Files written atomically (temp file in the same folder, fsync, rename): readers never see half
a file. JSON (rank-<r>.json, error files, side files) and JSONL (timeseries, token ids, requests)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: Path, text: str) -> Path:
    """Write to a temp file in the same folder, fsync, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes it private; results are ordinary files
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path.resolve()


def write_json_atomic(path: Path, data: dict[str, Any]) -> Path:
    """Pretty JSON, atomically; allow_nan=False: every number finite."""
    return write_text_atomic(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


def write_jsonl_atomic(path: Path, rows: list[dict[str, Any]]) -> Path:
    """One JSON object per line (timeseries, token ids), atomically."""
    return write_text_atomic(path, "".join(json.dumps(r, allow_nan=False, separators=(",", ":")) + "\n" for r in rows))
