"""The NVML backend against a fake ``pynvml`` injected at the import boundary (no GPU here)."""

import sys
import time

import pytest

from joules_worker.config import EnergyConfig
from joules_worker.energy import BackendContext, GpuRef, NvmlBackend, choose_backend
from joules_worker.energy.monitor import GpuMonitor
from joules_worker.environment import gpu_records
from joules_worker.errors import TransientError


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


def test_a_counter_that_goes_backwards_is_a_reset_naming_the_device(fake_nvml):
    """NVML's 64-bit mJ counter never wraps in practice: a decrease is a driver reload or GPU reset.
    It fails the run (transient: a rerun helps) naming the device, never +1.8e16 J."""
    reads = [0, 5_000, 5_000, 5_000, 1_200]  # prepare, start, pause, resume, stop: reset before stop
    fake_nvml.configure(devices=[{"uuid": "GPU-a", "power_w": 200.0, "energy_mj_reads": reads}])
    backend = NvmlBackend(ctx(GpuRef(0)))
    with pytest.raises(
        TransientError, match=r"NVML node-1/gpu/GPU-a: the energy counter went backwards \(5000 -> 1200\)"
    ):
        run(backend, 0.02, pause=0.01)
    assert fake_nvml._state["inits"] == 0  # NVML released on the way out


def test_counter_sums_only_the_active_spans(fake_nvml):
    reads = [0, 1_000, 2_700, 9_000, 11_300]  # prepare, start, pause, resume, stop
    fake_nvml.configure(devices=[{"uuid": "GPU-a", "power_w": 200.0, "energy_mj_reads": reads}])
    result = run(NvmlBackend(ctx(GpuRef(0))), 0.02, pause=0.01)
    assert result.readings[0].energy_j == pytest.approx(1.7 + 2.3, abs=1e-9)  # the paused 6.3 J are dropped


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

    # spans are monotonic; the fake's power curve is in unix time: map with the offset of the first tick
    offset = result.start_unix_s - backend.spans.closed[0][0]
    spans = [(x + offset, y + offset) for x, y in backend.spans.closed]
    assert len(spans) == 2
    expected = sum(integral(x, y) for x, y in spans)
    assert result.readings[0].energy_j == pytest.approx(expected, rel=5e-3)
    assert result.readings[0].active_s == pytest.approx(sum(y - x for x, y in backend.spans.closed), rel=1e-12)
    assert result.readings[0].active_s < result.end_unix_s - result.start_unix_s - 0.09  # the pause is not active
    assert result.method == "polling" and not result.readings[0].estimated
    assert "no energy counter, power polled every 0.02 s" in result.note
    assert result.samples >= 4  # start, pause, resume, stop at least


def test_missing_devices_are_null_readings_not_zero(fake_nvml):
    fake_nvml.configure(devices=[{"uuid": "GPU-a", "power_w": 50.0}])
    result = run(NvmlBackend(ctx(GpuRef(0), GpuRef(5), GpuRef(0, uuid="GPU-gone"))), 0.05)
    by_id = {r.device_id: r for r in result.readings}
    assert list(by_id) == ["node-1/gpu/GPU-a", "node-1/gpu/index-5", "node-1/gpu/GPU-gone"]
    assert by_id["node-1/gpu/GPU-a"].energy_j > 0 and by_id["node-1/gpu/GPU-a"].missing_reason is None
    for gone, what in (("node-1/gpu/index-5", "GPU index 5"), ("node-1/gpu/GPU-gone", "GPU GPU-gone")):
        assert by_id[gone].energy_j is None and by_id[gone].missing_reason.startswith(f"{what} not found by NVML")
    block = result.to_dict()
    assert block["complete"] is False and block["readings"][1]["energy_j"] is None
    assert "GPU index 5 not found by NVML" in result.note


def test_a_gpu_without_counter_or_power_is_null_not_zero(fake_nvml):
    """A MIG slice (or some vGPUs): NVML finds it but gives neither an energy counter nor power."""
    fake_nvml.configure(
        devices=[
            {"uuid": "GPU-a", "power_w": 50.0},
            {"uuid": "MIG-0f1e", "energy_counter": False, "power": False},
        ]
    )
    result = run(NvmlBackend(ctx(GpuRef(0), GpuRef(1, uuid="MIG-0f1e"))), 0.05)
    ok, mig = result.readings
    assert ok.energy_j > 0 and result.complete is False
    assert mig.device_id == "node-1/gpu/MIG-0f1e" and mig.energy_j is None
    assert "neither an energy counter nor power for a MIG slice" in mig.missing_reason


def test_a_mig_uuid_given_with_the_gpu_prefix_is_still_found(fake_nvml):
    """torch gives MIG slices a bare UUID, which environment.cuda_uuid prefixes "GPU-": NVML knows it as "MIG-"."""
    fake_nvml.configure(devices=[{"uuid": "MIG-77aa", "power_w": 40.0}])
    result = run(NvmlBackend(ctx(GpuRef(0, uuid="GPU-77aa"))), 0.05)
    assert [r.device_id for r in result.readings] == ["node-1/gpu/MIG-77aa"] and result.readings[0].energy_j > 0


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
    assert (
        len(rows) >= 2 and rows[0]["power_w"] == 80.0 and throttling == {"observed": True, "reasons": ["hw_slowdown"]}
    )
    assert fake_nvml._state["inits"] == 0


def test_environment_gpu_records(fake_nvml):
    fake_nvml.configure(devices=[{"uuid": "GPU-a", "name": "NVIDIA H200", "power_limit_w": 700}])
    records, driver = gpu_records([GpuRef(0)])
    assert driver == "550.54.15-fake"
    assert records == [
        {"name": "NVIDIA H200", "uuid": "GPU-a", "power_limit_w": 700.0, "memory_total_bytes": 141 * 2**30}
    ]
