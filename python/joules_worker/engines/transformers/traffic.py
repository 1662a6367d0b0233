"""Latency / traffic simulation: seeded waits before batches.

Before batch i (0-based) the rank waits a uniform random delay in [delay_min_ms, delay_max_ms]
(``random.Random`` seeded by the experiment seed and the rank, so a rerun waits the same), plus
``burst_interval_ms`` when a new burst of ``burst_size`` batches starts (i > 0, i % burst_size == 0).

``inside_energy_window: false`` takes each wait out of the accounting: the energy backend is
paused for the wait (a counter is read before and after and the difference dropped; a polling
integral skips the span; CodeCarbon and Zeus end their task/window and start a new one), and the
window's ``duration_s`` is end − start minus the waits. ``true`` leaves the waits in both.

Host-level readers (CodeCarbon, RAPL: local rank 0 reads the whole host) and several ranks on one
host: the waits are seeded per rank, so while one rank waits another computes. Such a reader
never pauses (``EnergyBackend.pauses``): it reads the whole span, waits included, and its
readings' ``active_s`` and the note say so; each rank's window still excludes its own waits. The
alternative, one schedule for every rank, would still not line up (ranks reach each batch at
different times) and would change the traffic each rank sees, so it was not taken.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from joules_worker.config import TrafficConfig
from joules_worker.energy.base import EnergyBackend


def planned_delays_s(traffic: TrafficConfig, num_batches: int, seed: int, rank: int) -> list[float]:
    rng = random.Random(f"joules-traffic:{seed}:{rank}")
    delays = []
    for i in range(num_batches):
        d = rng.uniform(traffic.delay_min_ms, traffic.delay_max_ms) / 1000 if traffic.delay_max_ms > 0 else 0.0
        if traffic.burst_size and traffic.burst_interval_ms and i > 0 and i % traffic.burst_size == 0:
            d += traffic.burst_interval_ms / 1000
        delays.append(d)
    return delays


def wait(
    seconds: float, energy: EnergyBackend, inside_energy_window: bool, sleep: Callable[[float], None] = time.sleep
) -> float:
    """Wait ``seconds``; outside the energy window the backend is paused meanwhile. Returns the
    seconds really spent (paused time included) for the window's bookkeeping."""
    if seconds <= 0:
        return 0.0
    start = time.perf_counter()
    if not inside_energy_window:
        energy.pause()
    try:
        sleep(seconds)
    finally:
        if not inside_energy_window:
            energy.resume()
    return time.perf_counter() - start
