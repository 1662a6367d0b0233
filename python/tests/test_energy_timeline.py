"""The steady window's energy from counters sampled through the load (engines/energy_timeline.py):
NVML (the fake pynvml, a power ramp) and RAPL (a fake powercap tree whose counter follows a power
step), and the fallback for backends that cannot read mid-span."""

from __future__ import annotations

import time

import pytest

from joules_worker.config import EnergyConfig
from joules_worker.energy import BackendContext, GpuRef, NvmlBackend, RaplBackend, get_backend
from joules_worker.energy.rapl_backend import ROOT_ENV, Zone
from joules_worker.engines.server.energy_timeline import EnergyTimeline
from joules_worker.engines.server.serving_output import steady_energy


def sampled(backend, now, seconds: float) -> tuple[EnergyTimeline, object]:
    backend.start()
    timeline = EnergyTimeline(backend, 0.01, now)
    timeline.start()
    time.sleep(seconds)
    timeline.stop()
    return timeline, backend.stop()


def test_a_power_ramp_is_measured_where_prorating_would_miss_it(fake_nvml) -> None:
    a, b = 100.0, 400.0  # W and W/s: 100 W at the start, 300 W half a second later
    fake_nvml.configure(devices=[{"uuid": "GPU-a", "power_ramp": [a, b]}])
    t0 = fake_nvml._state["t0"]
    ctx = BackendContext(EnergyConfig(measure_power_secs=0.02), "node-1", True, (GpuRef(0),))
    timeline, result = sampled(NvmlBackend(ctx), time.time, 0.5)  # the fake's curves run on time.time
    assert timeline.supported and len(timeline.samples) >= 3
    first, last = timeline.samples[0][0], timeline.samples[-1][0]
    w0, w1 = first + 0.5 * (last - first), last - 0.05 * (last - first)  # a late window: above the mean power

    def truth(t: float) -> float:
        return a * (t - t0) + b * (t - t0) ** 2 / 2

    expected = truth(w1) - truth(w0)
    assert timeline.between(w0, w1) == pytest.approx(expected, rel=0.02)
    whole = result.readings[0].energy_j
    prorated = whole * (w1 - w0) / (result.end_unix_s - result.start_unix_s)
    assert prorated < 0.95 * expected  # what the old prorating would have reported
    assert timeline.between(first - 1.0, w1) is None  # outside what was sampled: unknown, not guessed
    assert fake_nvml._state["inits"] == 0


def test_rapl_counters_give_each_side_of_a_power_step(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "powercap" / "intel-rapl:0"
    folder.mkdir(parents=True)
    (folder / "name").write_text("package-0\n")
    (folder / "energy_uj").write_text("0\n")
    (folder / "max_energy_range_uj").write_text(f"{2**32 - 1}\n")
    monkeypatch.setenv(ROOT_ENV, str(tmp_path / "powercap"))
    origin = time.perf_counter()
    step = origin + 0.3  # 10 W, then 40 W

    def joules(t: float) -> float:
        return 10 * (t - origin) if t < step else 10 * (step - origin) + 40 * (t - step)

    monkeypatch.setattr(Zone, "read_uj", lambda self: int(joules(time.perf_counter()) * 1e6) % 2**32)
    ctx = BackendContext(EnergyConfig(measure_power_secs=0.02), "node-1", True)
    timeline, result = sampled(RaplBackend(ctx), time.perf_counter, 0.6)
    assert timeline.between(step + 0.05, step + 0.25) == pytest.approx(40 * 0.2, rel=0.02)
    assert timeline.between(origin + 0.05, step - 0.05) == pytest.approx(10 * 0.2, rel=0.02)
    total = timeline.between(timeline.samples[0][0], timeline.samples[-1][0])
    assert total == pytest.approx(result.readings[0].energy_j, rel=0.02)


def test_a_failed_read_mid_load_is_skipped_not_the_end_of_sampling(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "powercap" / "intel-rapl:0"
    folder.mkdir(parents=True)
    for name, text in (("name", "package-0"), ("energy_uj", "0"), ("max_energy_range_uj", str(2**32 - 1))):
        (folder / name).write_text(text + "\n")
    monkeypatch.setenv(ROOT_ENV, str(tmp_path / "powercap"))
    origin, calls = time.perf_counter(), {"n": 0}

    def read_uj(self) -> int:
        calls["n"] += 1
        if 6 <= calls["n"] <= 8:
            raise OSError("EIO (a flaky read)")
        return int(20 * (time.perf_counter() - origin) * 1e6)  # 20 W

    monkeypatch.setattr(Zone, "read_uj", read_uj)
    ctx = BackendContext(EnergyConfig(measure_power_secs=1.0), "node-1", True)  # its own thread stays idle
    timeline, _ = sampled(RaplBackend(ctx), time.perf_counter, 0.3)
    assert timeline.supported and timeline.failed_reads >= 1 and len(timeline.samples) >= 5
    a, b = timeline.samples[0][0], timeline.samples[-1][0]
    assert timeline.between(a, b) == pytest.approx(20 * (b - a), rel=0.02)


def test_a_backend_that_cannot_read_mid_span_is_prorated_and_says_so() -> None:
    backend = get_backend("none")(BackendContext(EnergyConfig(), "node-1", True))
    timeline, _ = sampled(backend, time.perf_counter, 0.0)
    assert not timeline.supported and timeline.between(0.0, 1.0) is None
    # (measured, prorated, method): a prorated estimate never sits where measured joules go
    assert steady_energy((0.0, 10.0), (2.0, 7.0), 100.0, None) == (None, 50.0, "prorated_by_time")
    assert steady_energy((0.0, 10.0), (2.0, 7.0), 100.0, 61.5) == (61.5, None, "counters_sampled")
    assert steady_energy((0.0, 10.0), None, 100.0, None) == (None, None, None)
    assert steady_energy((0.0, 10.0), (2.0, 7.0), None, 61.5) == (None, None, None)  # a device unread: no figure
