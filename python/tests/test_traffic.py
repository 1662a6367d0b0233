"""Traffic simulation: the seeded waits, and pausing the energy accounting outside the window."""

import pytest

from joules_worker.config import EnergyConfig, TrafficConfig
from joules_worker.energy import BackendContext, NoneBackend
from joules_worker.engines.transformers.traffic import planned_delays_s, wait


def test_no_traffic_no_waits():
    assert planned_delays_s(TrafficConfig(), 4, 0, 0) == [0.0] * 4


def test_uniform_delays_are_seeded_and_in_range():
    t = TrafficConfig(delay_min_ms=10, delay_max_ms=30)
    delays = planned_delays_s(t, 50, seed=3, rank=0)
    assert delays == planned_delays_s(t, 50, seed=3, rank=0)
    assert delays != planned_delays_s(t, 50, seed=4, rank=0)
    assert delays != planned_delays_s(t, 50, seed=3, rank=1)  # ranks do not wait in lock-step
    assert all(0.010 <= d <= 0.030 for d in delays)


def test_bursts():
    t = TrafficConfig(burst_size=3, burst_interval_ms=200)
    assert planned_delays_s(t, 7, 0, 0) == [0.0, 0.0, 0.0, 0.2, 0.0, 0.0, 0.2]


class Recording(NoneBackend):
    def __init__(self):
        super().__init__(BackendContext(EnergyConfig(), "h", True))
        self.calls = []

    def _pause(self):
        self.calls.append("pause")

    def _resume(self):
        self.calls.append("resume")


@pytest.mark.parametrize(("inside", "calls"), [(False, ["pause", "resume"]), (True, [])])
def test_wait_pauses_the_backend_only_outside_the_window(inside, calls):
    backend = Recording()
    slept = []
    waited = wait(0.25, backend, inside, sleep=slept.append)
    assert slept == [0.25] and backend.calls == calls and waited >= 0


def test_zero_wait_touches_nothing():
    backend = Recording()
    assert wait(0.0, backend, False) == 0.0 and backend.calls == []
