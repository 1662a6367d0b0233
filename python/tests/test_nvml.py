"""The NVML backend against a fake ``pynvml`` injected at the import boundary (no GPU here)."""

import sys
import time

import pytest

from joules_worker.config import EnergyConfig
from joules_worker.energy import BackendContext, GpuRef, NvmlBackend, choose_backend
from joules_worker.energy.monitor import GpuMonitor
from joules_worker.environment import gpu_records


def ctx(*gpus, secs=0.02):
    return BackendContext(EnergyConfig(measure_power_secs=secs), "node-1", True, tuple(gpus))


def run(backend, seconds=0.2, pause=None):
    backend.start()
    time.sleep(seconds / 2)
    if pause:
        backend.pause()
        time.sleep(pause)
        backend.resume()
    time.sleep(seconds / 2)
    return backend.stop()


def test_counter_per_gpu(fake_nvml):
    fake_nvml.configure(devices=[{"uuid": "GPU-a", "power_w": 150.0}, {"uuid": "GPU-b", "power_w": 90.0}])
    backend = NvmlBackend(ctx(GpuRef(1)))  # this rank reads its own GPU only
    result = run(backend)
    (reading,) = result.readings
    assert reading.device_id == "node-1/gpu/GPU-b" and reading.scope == "gpu" and not reading.estimated
    assert reading.energy_j == pytest.approx(90.0 * (result.end_unix_s - result.start_unix_s), rel=0.02)
    assert result.method == "counter" and result.backend == "nvml" and result.backend_version
    assert "GPU-b: counter" in result.note and "power polling" in result.note
    assert result.samples >= 2 and result.throttling == {"observed": False, "reasons": []}
    row = result.timeseries[0]
    assert set(row) == {"t", "device_id", "power_w", "util_pct", "temp_c", "clock_mhz", "throttle"}
    assert row["power_w"] == 90.0 and row["device_id"] == "node-1/gpu/GPU-b"
    assert fake_nvml._state["inits"] == 0  # every nvmlInit was paired with a shutdown


def test_counter_wrap_around(fake_nvml):
    """The 64-bit millijoule counter goes round between the reads at start, pause, resume and stop."""
    reads = [2**64 - 1_000, 700, 2**64 - 300, 2_000]  # start, pause, resume, stop
    fake_nvml.configure(devices=[{"uuid": "GPU-a", "power_w": 200.0, "energy_mj_reads": reads}])
    result = run(NvmlBackend(ctx(GpuRef(0))), 0.02, pause=0.01)
    # active: 1000 + 700 = 1.7 J; paused: 700 -> 2**64 - 300 (not counted); active: 300 + 2000 = 2.3 J
    assert result.readings[0].energy_j == pytest.approx(4.0, abs=1e-9)
    assert "energy counter wrapped 2x" in result.note


def test_counter_skips_a_pause(fake_nvml):
    fake_nvml.configure(devices=[{"uuid": "GPU-a", "power_w": 100.0}])
    backend = NvmlBackend(ctx(GpuRef(0)))
    result = run(backend, 0.2, pause=0.3)
    active = result.end_unix_s - result.start_unix_s - backend.paused_s
    assert backend.paused_s >= 0.3
    assert result.readings[0].energy_j == pytest.approx(100.0 * active, rel=0.03)


def test_polling_integrates_power_with_the_trapezoid_rule(fake_nvml):
    """No counter: power a + b·t is integrated exactly by the trapezoid rule, over the active spans."""
    a, b = 120.0, 400.0
    fake_nvml.configure(devices=[{"uuid": "GPU-old", "power_ramp": [a, b], "energy_counter": False}])
    t0 = fake_nvml._state["t0"]
    backend = NvmlBackend(ctx(GpuRef(0)))
    result = run(backend, 0.2, pause=0.1)

    def integral(x, y):
        return a * (y - x) + b / 2 * ((y - t0) ** 2 - (x - t0) ** 2)

    spans = backend.spans.closed
    assert len(spans) == 2 and spans[0][0] == result.start_unix_s and spans[-1][1] == result.end_unix_s
    expected = sum(integral(x, y) for x, y in spans)
    assert result.readings[0].energy_j == pytest.approx(expected, rel=1e-3)
    assert result.method == "polling" and not result.readings[0].estimated
    assert "no energy counter, power polled every 0.02 s" in result.note
    assert result.samples >= 4  # start, pause, resume, stop at least


def test_missing_devices_are_noted_not_fatal(fake_nvml):
    fake_nvml.configure(devices=[{"uuid": "GPU-a", "power_w": 50.0}])
    result = run(NvmlBackend(ctx(GpuRef(0), GpuRef(5), GpuRef(0, uuid="GPU-gone"))), 0.05)
    assert [r.device_id for r in result.readings] == ["node-1/gpu/GPU-a"]
    assert "GPU index 5 not found by NVML" in result.note and "GPU GPU-gone not found by NVML" in result.note


def test_throttling_is_recorded(fake_nvml):
    fake_nvml.configure(devices=[{"uuid": "GPU-hot", "power_w": 300.0, "throttle": 0x1 | 0x4 | 0x40}])
    result = run(NvmlBackend(ctx(GpuRef(0))), 0.05)
    assert result.throttling == {"observed": True, "reasons": ["hw_thermal_slowdown", "sw_power_cap"]}
    assert result.timeseries[0]["throttle"] == ["sw_power_cap", "hw_thermal_slowdown"]


def test_nvml_absent_is_said_and_auto_moves_on(fake_nvml):
    fake_nvml.configure(devices=[], init_error=fake_nvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    assert NvmlBackend.unavailable_reason() == "NVML cannot start: NVML Shared Library Not Found"
    cls, note = choose_backend("auto", ctx(GpuRef(0)))
    assert cls.NAME == "codecarbon" and "nvml skipped: NVML cannot start" in note


def test_no_gpu_seen(fake_nvml):
    fake_nvml.configure(devices=[])
    assert NvmlBackend.unavailable_reason() == "NVML sees no GPU"


def test_pynvml_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml -> ImportError
    assert NvmlBackend.unavailable_reason() == "nvidia-ml-py (module pynvml) is not installed"


def test_monitor_for_other_backends(fake_nvml):
    fake_nvml.configure(devices=[{"uuid": "GPU-a", "power_w": 80.0, "throttle": 0x8}])
    monitor = GpuMonitor([GpuRef(0)], "node-1", 0.01)
    monitor.start()
    time.sleep(0.05)
    rows, throttling = monitor.stop()
    assert len(rows) >= 2 and rows[0]["power_w"] == 80.0 and throttling == {"observed": True, "reasons": ["hw_slowdown"]}
    assert fake_nvml._state["inits"] == 0


def test_environment_gpu_records(fake_nvml):
    fake_nvml.configure(devices=[{"uuid": "GPU-a", "name": "NVIDIA H200", "power_limit_w": 700}])
    records, driver = gpu_records([GpuRef(0)])
    assert driver == "550.54.15-fake"
    assert records == [{"name": "NVIDIA H200", "uuid": "GPU-a", "power_limit_w": 700.0, "memory_total_bytes": 141 * 2**30}]
