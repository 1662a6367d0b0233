"""The returned files: at most 8 leave the GPU machine, so every raw file of every step travels
in one JSONL (one line per file: its path under raw/, its byte count and its text), beside
summary.json and the kit's log. Written atomically (temp file + rename)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

RAW_BUNDLE = "raw-files.jsonl"
SUMMARY = "summary.json"
LOG = "gpu-check.log"
MAX_FILE_BYTES = 16 * 2**20  # the device tool returns files up to 16 MiB


def _atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_raw_bundle(raw: Path, out: Path) -> dict[str, Any]:
    lines = []
    files = []
    for path in sorted(p for p in raw.rglob("*") if p.is_file()):
        rel = path.relative_to(raw).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        lines.append(json.dumps({"path": rel, "bytes": path.stat().st_size, "text": text}))
        files.append(rel)
    body = "".join(line + "\n" for line in lines)
    if len(body.encode()) > MAX_FILE_BYTES:
        raise ValueError(f"{RAW_BUNDLE} would be {len(body.encode())} bytes, over the 16 MiB a returned file may have")
    _atomic(out / RAW_BUNDLE, body)
    return {"file": RAW_BUNDLE, "entries": len(files), "bytes": len(body.encode())}


def write_summary(out: Path, summary: dict[str, Any]) -> None:
    _atomic(out / SUMMARY, json.dumps(summary, indent=2) + "\n")
