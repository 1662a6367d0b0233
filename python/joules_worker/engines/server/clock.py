"""The serving engine's clock: Unix-epoch seconds that advance with the monotonic clock.

Request timestamps must be comparable with the rest of a run (Unix seconds), and every duration
derived from them (TTFT, inter-token gaps, end-to-end latency, the load and steady windows) must be
monotonic: a wall-clock step (NTP, a manual change) mid-load would otherwise bend them. So the epoch
is read once per process and ``perf_counter`` advances it.
"""

from __future__ import annotations

import time

_UNIX0 = time.time()
_MONO0 = time.perf_counter()


def now() -> float:
    """Unix seconds, monotonic within this process."""
    return _UNIX0 + (time.perf_counter() - _MONO0)
