"""Arrival traces in the layouts people publish (``load.trace_format``), read into arrivals.

- ``joules``: JSONL of ``{"offset_s": s, "input_tokens"?: n, "output_tokens"?: n}``, in any order.
- ``mooncake``: Mooncake's JSONL (kvcache-ai/Mooncake, FAST'25 traces) of ``{"timestamp": ms,
  "input_length": n, "output_length": n, "hash_ids": [...]}``; ``hash_ids`` (its 512-token prefix
  blocks) are not replayed: the prompts are chosen by length as for any trace.
- ``azure``: the Azure LLM inference trace CSV (Azure/AzurePublicDataset, 2023 and 2024) with header
  ``TIMESTAMP,ContextTokens,GeneratedTokens``; TIMESTAMP a date-time such as
  ``2023-11-16 18:15:46.6805900`` (more fractional digits than Python parses: cut to microseconds).
- ``auto``: ``azure`` when the first line is that CSV header, ``mooncake`` when the first record has
  ``timestamp``, else ``joules``.

Offsets of mooncake and azure traces count from the trace's first arrival. A line without the fields
its layout needs is a config error naming ``load.trace_file``, the file and the line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from joules_worker.errors import BadConfigError

# One arrival as read: (offset_s or absolute time, input_tokens, output_tokens).
Row = tuple[float, int | None, int | None]
AZURE_COLUMNS = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")


def _count(row: dict[str, Any], key: str, required: bool) -> int | None:
    v = row.get(key)
    if v is None and not required:
        return None
    if isinstance(v, str) and v.strip().isdigit():
        v = int(v)
    if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
        raise ValueError(f"{key} must be an integer > 0 (got {v!r})")
    return v


def _time(v: Any, key: str) -> float:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
        raise ValueError(f"{key} must be a number >= 0 (got {v!r})")
    return float(v)


def _joules(row: dict[str, Any]) -> Row:
    if "offset_s" not in row:
        raise ValueError("no offset_s (trace_format joules)")
    return _time(row["offset_s"], "offset_s"), _count(row, "input_tokens", False), _count(row, "output_tokens", False)


def _mooncake(row: dict[str, Any]) -> Row:
    if "timestamp" not in row:
        raise ValueError("no timestamp (trace_format mooncake: milliseconds)")
    return (
        _time(row["timestamp"], "timestamp") / 1000,
        _count(row, "input_length", True),
        _count(row, "output_length", True),
    )


def _azure_time(text: str) -> float:
    """Seconds of a TIMESTAMP, read as UTC (offsets only; a host zone's DST change cannot shift them),
    a zone suffix such as ``+00:00`` dropped."""
    text = text.strip().removesuffix("Z")
    if len(text) > 19 and text[-6] in "+-" and text[-3] == ":":
        text = text[:-6]
    day, _, frac = text.partition(".")
    stamp = datetime.strptime(day, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    return stamp.timestamp() + (float("0." + frac) if frac else 0.0)


def _jsonl(lines: list[str], parse: Callable[[dict[str, Any]], Row]) -> Iterator[tuple[int, Row]]:
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("expected a JSON object")
            yield n, parse(row)
        except (ValueError, TypeError) as e:
            raise _bad(n, e) from e


def _csv(lines: list[str]) -> Iterator[tuple[int, Row]]:
    reader = csv.reader(lines)
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in AZURE_COLUMNS if c not in header]
    if missing:
        raise _bad(
            1, ValueError(f"the header has no {', '.join(missing)} (trace_format azure: {','.join(AZURE_COLUMNS)})")
        )
    at = {c: header.index(c) for c in AZURE_COLUMNS}
    for n, cells in enumerate(reader, 2):
        if not cells or not "".join(cells).strip():
            continue
        try:
            row = {c: cells[i] for c, i in at.items()}
            yield (
                n,
                (
                    _azure_time(row["TIMESTAMP"]),
                    _count(row, "ContextTokens", True),
                    _count(row, "GeneratedTokens", True),
                ),
            )
        except (ValueError, IndexError) as e:
            raise _bad(n, e) from e


class _LineError(Exception):
    def __init__(self, line: int, cause: Exception) -> None:
        super().__init__(f"{line}: {cause}")
        self.line = line


def _bad(line: int, e: Exception) -> _LineError:
    return _LineError(line, e)


def detect(lines: list[str]) -> str:
    first = next((line for line in lines if line.strip()), "")
    if all(c in first for c in AZURE_COLUMNS):
        return "azure"
    try:
        row = json.loads(first)
    except ValueError:
        return "joules"
    return "mooncake" if isinstance(row, dict) and "timestamp" in row else "joules"


def trace_layout(path: str, fmt: str = "auto") -> str:
    """The layout ``fmt`` names, or (auto) the one the file's first record shows."""
    if fmt != "auto":
        return fmt
    try:
        with open(path, encoding="utf-8") as f:
            return detect([line for _, line in zip(range(8), f, strict=False)])
    except OSError as e:
        raise BadConfigError(f"load.trace_file: cannot read {path}: {e}") from e


def read_rows(path: str, fmt: str = "auto") -> tuple[str, list[Row]]:
    """(the layout read, its arrivals as (offset_s, input_tokens, output_tokens), sorted by offset)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise BadConfigError(f"load.trace_file: cannot read {path}: {e}") from e
    layout = detect(lines) if fmt == "auto" else fmt
    try:
        if layout == "azure":
            rows = [r for _, r in _csv(lines)]
        else:
            rows = [r for _, r in _jsonl(lines, _mooncake if layout == "mooncake" else _joules)]
    except _LineError as e:
        raise BadConfigError(f"load.trace_file: {path}:{e} (trace_format {layout})") from e
    rows.sort(key=lambda r: r[0])
    if layout != "joules" and rows:
        t0 = rows[0][0]
        rows = [(t - t0, i, o) for t, i, o in rows]
    return layout, rows
