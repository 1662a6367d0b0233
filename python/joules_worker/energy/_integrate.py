"""Arithmetic shared by the backends: energy counters (wrap or reset) and trapezoid integration of power.

Times here are monotonic (``time.perf_counter``) seconds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


class CounterReset(RuntimeError):
    """A counter without a wrap range went backwards: a reset (driver reload, GPU reset), not a wrap."""


@dataclass
class CounterTotal:
    """Sums a monotonic energy counter.

    ``wrap`` is the range of a counter that really wraps (RAPL's ``max_energy_range_uj`` + 1): a
    decrease is one wrap-around. ``wrap=None`` is a counter that never wraps in practice (NVML's
    64-bit mJ since the driver loaded): a decrease is a reset and raises ``CounterReset`` naming
    ``device``. Call ``update`` often enough that a wrapping counter cannot wrap twice between two
    calls. Increments read while inactive (paused) are skipped, so only the active spans count.
    """

    last: int
    wrap: int | None
    device: str = "counter"
    total: int = 0
    wraps: int = 0

    def update(self, value: int, active: bool = True) -> None:
        delta = value - self.last
        if delta < 0:
            if self.wrap is None:
                raise CounterReset(
                    f"{self.device}: the energy counter went backwards ({self.last} -> {value}): the driver was "
                    "reloaded or the device was reset during the measurement, so this window's energy is unknown"
                )
            delta += self.wrap  # the counter went round
            self.wraps += 1
        self.last = value
        if active:
            self.total += delta


@dataclass
class Spans:
    """The active spans of a measurement: [start, pause), [resume, pause), ..., [resume, stop]."""

    spans: list[tuple[float, float | None]] = field(default_factory=list)

    def open(self, t: float) -> None:
        self.spans.append((t, None))

    def close(self, t: float) -> None:
        if self.spans and self.spans[-1][1] is None:
            self.spans[-1] = (self.spans[-1][0], t)

    @property
    def closed(self) -> list[tuple[float, float]]:
        return [(a, b) for a, b in self.spans if b is not None]

    def contains(self, t: float) -> bool:
        return any(a <= t <= (b if b is not None else float("inf")) for a, b in self.spans)


def trapezoid_j(samples: Sequence[tuple[float, float]], spans: Sequence[tuple[float, float]]) -> float:
    """Joules from (monotonic time, watts) samples, integrated over each span with the trapezoid rule.

    Samples outside every span are ignored; each span should have samples at its two ends
    (the backends take one at every start, pause, resume and stop).
    """
    total = 0.0
    ordered = sorted(samples)
    for a, b in spans:
        inside = [(t, p) for t, p in ordered if a <= t <= b]
        for (t0, p0), (t1, p1) in zip(inside, inside[1:], strict=False):
            total += (t1 - t0) * (p0 + p1) / 2
    return total
