"""Arrival schedules of the open-loop patterns and the load's two windows. Pure functions.

Windows (unix seconds), from the per-request send and end times:
- whole: from the load's start to the end of its last request;
- steady, closed loop (ML.ENERGY's definition): from when all ``concurrency`` slots are first busy
  until the in-flight count first falls below ``concurrency`` for good, i.e. the first completion
  after the last send;
- steady, open loop (constant, poisson, bursty, trace): from the first completion (the pipeline has
  filled: ramp-up is over) until the last send (after it the server only drains). None when the
  load is too short to have one (the first completion comes after the last send).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joules_worker.errors import BadConfigError

# Open-loop schedules are cut at this many arrivals when only duration_s bounds them.
MAX_ARRIVALS = 10_000_000


@dataclass(frozen=True)
class Arrival:
    offset_s: float  # from the load's start
    max_tokens: int | None = None  # trace: the request's output length
    input_tokens: int | None = None  # trace: the wanted prompt length


def _bounded(offsets: Any, num_requests: int | None, duration_s: float | None) -> list[float]:
    out: list[float] = []
    for t in offsets:
        if (num_requests is not None and len(out) >= num_requests) or (duration_s is not None and t >= duration_s):
            break
        if len(out) >= MAX_ARRIVALS:
            break
        out.append(t)
    return out


def constant_offsets(rate: float, num_requests: int | None, duration_s: float | None) -> list[float]:
    return _bounded((i / rate for i in range(MAX_ARRIVALS + 1)), num_requests, duration_s)


def poisson_offsets(rate: float, num_requests: int | None, duration_s: float | None, seed: int) -> list[float]:
    rng = random.Random(seed)

    def gen():
        t = 0.0
        while True:
            yield t
            t += rng.expovariate(rate)

    return _bounded(gen(), num_requests, duration_s)


def bursty_offsets(
    burst_size: int,
    interval_ms: float,
    jitter_ms: tuple[float, float],
    num_requests: int | None,
    duration_s: float | None,
    seed: int,
) -> list[float]:
    """Bursts of ``burst_size`` requests sent at once, ``interval_ms`` apart, each burst delayed by a
    seeded uniform jitter in [traffic.delay_min_ms, traffic.delay_max_ms] (the original's traffic
    simulation: delays plus bursts)."""
    rng = random.Random(seed)

    def gen():
        start = 0.0
        while True:
            at = start + rng.uniform(*jitter_ms) / 1000.0
            for _ in range(burst_size):
                yield at
            start += interval_ms / 1000.0

    return _bounded(gen(), num_requests, duration_s)


def read_trace(path: str, num_requests: int | None, duration_s: float | None) -> list[Arrival]:
    """A JSONL of {"offset_s": s, "input_tokens"?: n, "output_tokens"?: n}, in any order."""
    rows: list[Arrival] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise BadConfigError(f"load.trace_file: cannot read {path}: {e}") from e
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            offset = row["offset_s"]
            if not isinstance(offset, (int, float)) or isinstance(offset, bool) or offset < 0:
                raise ValueError("offset_s must be a number >= 0")
            out = row.get("output_tokens")
            inp = row.get("input_tokens")
            for key, v in (("output_tokens", out), ("input_tokens", inp)):
                if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v <= 0):
                    raise ValueError(f"{key} must be an integer > 0")
        except (ValueError, KeyError, TypeError) as e:
            raise BadConfigError(f"load.trace_file: {path}:{n}: {e}") from e
        rows.append(Arrival(float(offset), out, inp))
    rows.sort(key=lambda a: a.offset_s)
    kept = _bounded((a.offset_s for a in rows), num_requests, duration_s)
    if not kept:
        raise BadConfigError(f"load.trace_file: {path} has no arrivals (within load.num_requests / load.duration_s)")
    return rows[: len(kept)]


def whole_window(load_start: float, ends: Sequence[float]) -> tuple[float, float]:
    return load_start, max(ends, default=load_start)


def steady_window(
    sends: Sequence[float],
    ends: Sequence[float],
    closed_loop: bool,
    concurrency: int | None,
) -> tuple[float, float] | None:
    """The steady-state window (see the module docstring), or None where there is none."""
    if not sends:
        return None
    last_send = max(sends)
    after = [e for e in ends if e > last_send]
    if closed_loop:
        events = sorted([(t, 1) for t in sends] + [(t, -1) for t in ends], key=lambda x: (x[0], -x[1]))
        inflight, start = 0, None
        for t, d in events:
            inflight += d
            if start is None and inflight >= (concurrency or 1):
                start = t
                break
        if start is None:  # fewer requests than slots: never all busy
            return None
        end = min(after) if after else last_send
        return (start, end) if end > start else None
    start = min(ends, default=None)
    if start is None or last_send <= start:
        return None
    return start, last_send
