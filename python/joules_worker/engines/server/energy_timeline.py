"""The energy of a sub-window known only after the load: a thread samples the backend's running
totals (``EnergyBackend.totals_j``: counters read mid-span) every ``interval_s``; the energy between
two times is the difference of the totals interpolated linearly at each.

A serving load's steady window is found from the requests once they are done, so no backend could
open and close a span on it. Sampled counters measure it: the error is at most the energy change
over one interval at each edge, beside the counter's own update period (NVML's energy counter
refreshes every few tens of ms on recent GPUs; RAPL's about every ms). Where the backend cannot read
mid-span, ``supported`` is False and the caller prorates.
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_left
from collections.abc import Callable, Sequence

from joules_worker.energy.base import EnergyBackend

logger = logging.getLogger(__name__)


class EnergyTimeline:
    def __init__(self, backend: EnergyBackend, interval_s: float, now: Callable[[], float]) -> None:
        self.backend = backend
        self.interval_s = interval_s
        self.now = now
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.supported = True
        self.failed_reads = 0  # reads after the first that gave nothing (skipped: the next one counts)
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> bool:
        """One reading; False only when the backend cannot read mid-span at all (the first read)."""
        before = self.now()
        try:
            totals = self.backend.totals_j()
        except Exception as e:  # noqa: BLE001 - the backend's stop() reports a broken counter itself
            logger.warning("energy timeline: %s: %s", type(e).__name__, e)
            totals = None
        if totals is None:
            if not self.samples:
                self.supported = False
                return False
            self.failed_reads += 1  # a transient failure: interpolate over the gap
            if self.failed_reads == 1:
                logger.warning("energy timeline: a mid-load read of the counters failed; skipped")
            return True
        self.samples.append(((before + self.now()) / 2, totals))  # the reads' midpoint
        return True

    def _loop(self) -> None:
        while not self._halt.wait(self.interval_s) and self._sample():
            pass

    def start(self) -> None:
        """Right after the backend's start(): the first sample, then the thread."""
        if self._sample():
            self._thread = threading.Thread(target=self._loop, name="joules-energy-timeline", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Right before the backend's stop(): the thread ends, then the last sample."""
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self.supported:
            self._sample()

    def _at(self, t: float, device: str) -> float:
        times = [s[0] for s in self.samples]
        i = min(max(bisect_left(times, t), 1), len(times) - 1)
        (t0, a), (t1, b) = self.samples[i - 1], self.samples[i]
        if t1 <= t0:
            return b[device]
        return a[device] + (b[device] - a[device]) * (t - t0) / (t1 - t0)

    def totals_at(self, times: Sequence[float]) -> list[float] | None:
        """The running total of all readings (J, from the first sample) interpolated at each of
        ``times`` (ascending), in one pass; None when not sampled or a time lies outside the sampled
        span. Differences of these are ``between``'s joules (per-request attribution cuts the load at
        every send and end: energy_attribution.py)."""
        if not self.supported or len(self.samples) < 2:
            return None
        if times and (times[0] < self.samples[0][0] or times[-1] > self.samples[-1][0]):
            return None
        stamps = [s[0] for s in self.samples]
        devices = list(self.samples[0][1])
        base = sum(self.samples[0][1][d] for d in devices)
        out, i = [], 1
        for t in times:
            while i < len(stamps) - 1 and stamps[i] < t:
                i += 1
            (t0, a), (t1, b) = self.samples[i - 1], self.samples[i]
            share = 1.0 if t1 <= t0 else (t - t0) / (t1 - t0)
            out.append(sum(a[d] + (b[d] - a[d]) * share for d in devices) - base)
        return out

    def between(self, start: float, end: float) -> float | None:
        """Joules of all readings from ``start`` to ``end`` (the timeline's clock), or None when not
        sampled or the window is not inside the sampled span."""
        if not self.supported or len(self.samples) < 2 or end < start:
            return None
        if start < self.samples[0][0] or end > self.samples[-1][0]:
            return None
        devices = self.samples[0][1].keys()
        return sum(max(self._at(end, d) - self._at(start, d), 0.0) for d in devices)
