"""Arrival schedules of the open-loop patterns and the load's two windows. Pure functions.

Windows (unix seconds), from the per-request send, first-token and end times:
- whole: from the load's start to the end of its last request;
- steady, closed loop: ML.ENERGY's (mlenergy/benchmark/llm/benchmark.py, ``RequestTracker``) with
  B = ``concurrency``: from when B requests have returned their first token until N − B − 1 of the
  N requests have ended;
- steady, open loop (constant, poisson, bursty, trace): from the first send plus the 90th
  percentile of the end-to-end latency (the ramp-up: the number in flight has then reached its
  steady level) until the last send (after it the server only drains).
None where the load is too short to have one. Whether a steady window is steady enough to report
is steady_check.py's question.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
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


def read_trace(path: str, num_requests: int | None, duration_s: float | None, fmt: str = "auto") -> list[Arrival]:
    """The arrivals of a trace file in ``fmt``'s layout (trace_formats.py), sorted, bounded."""
    from joules_worker.engines.server.trace_formats import read_rows

    layout, rows = read_rows(path, fmt)
    arrivals = [Arrival(t, out, inp) for t, inp, out in rows]
    kept = _bounded((a.offset_s for a in arrivals), num_requests, duration_s)
    if not kept:
        raise BadConfigError(
            f"load.trace_file: {path} has no arrivals (trace_format {layout}; within load.num_requests / load.duration_s)"
        )
    return arrivals[: len(kept)]


def whole_window(load_start: float, ends: Sequence[float]) -> tuple[float, float]:
    return load_start, max(ends, default=load_start)


def closed_loop_window(
    num_requests: int, first_tokens: Sequence[float], ends: Sequence[float], concurrency: int
) -> tuple[float, float] | None:
    """ML.ENERGY's steady window with B = ``concurrency``: from when B requests have returned their
    first token (the server has admitted a full batch) to when N − B − 1 of the N requests have
    ended (the ``RequestTracker`` of mlenergy/benchmark/llm/benchmark.py: after that fewer than B
    remain and the batch drains; the −1 closes it one request early). None when N ≤ B + 1 or the
    close comes first."""
    b, k = concurrency, num_requests - concurrency - 1
    firsts, done = sorted(first_tokens), sorted(ends)
    if k < 1 or len(firsts) < b or len(done) < k:
        return None
    start, end = firsts[b - 1], done[k - 1]
    return (start, end) if end > start else None


def open_loop_window(sends: Sequence[float], latencies: Sequence[float]) -> tuple[float, float] | None:
    """From the first send plus the 90th percentile of the requests' end-to-end latency (ramp-up:
    the server starts empty, and the number in flight reaches its steady level λ·E[latency] once
    the first requests' latencies have passed) to the last send (after it the server only drains).
    None when that leaves nothing."""
    if not sends or not latencies:
        return None
    start = min(sends) + percentile(latencies, 90)
    end = max(sends)
    return (start, end) if end > start else None


def percentile(values: Sequence[float], q: float) -> float:
    """numpy's percentile (linear interpolation between closest ranks, as @joules/metrics)."""
    import numpy as np

    return float(np.percentile(values, q))


def load_windows(
    start: float,
    records: Sequence[Any],
    closed_loop: bool,
    concurrency: int | None,
) -> tuple[tuple[float, float], tuple[float, float] | None]:
    """(whole, steady) of a load's request records (see the module docstring)."""
    ends = [r.end_unix_s for r in records if r.end_unix_s is not None]
    whole = whole_window(start, ends)
    if closed_loop:
        firsts = [r.first_token_unix_s for r in records if r.first_token_unix_s is not None]
        return whole, closed_loop_window(len(records), firsts, ends, concurrency or 1)
    latencies = [r.end_unix_s - r.send_unix_s for r in records if r.ok and r.end_unix_s is not None]
    return whole, open_loop_window([r.send_unix_s for r in records], latencies)
