"""Idle baseline: measured by the backend before warm-up, cached per backend and device."""

import json

import pytest

from joules_worker.config import EnergyConfig
from joules_worker.energy import (
    BackendContext,
    CodeCarbonBackend,
    EnergyReading,
    EnergyResult,
    GpuRef,
    NoneBackend,
    NvmlBackend,
)
from joules_worker.energy.idle import IdleBaseline, apply_idle, cache_dir, measure_idle


def nvml_ctx():
    return BackendContext(EnergyConfig(measure_power_secs=0.02), "node-1", True, (GpuRef(0),))


def test_measured_then_cached(fake_nvml):
    fake_nvml.configure(devices=[{"uuid": "GPU-a", "power_w": 61.2}])
    first = measure_idle(NvmlBackend, nvml_ctx(), 0.1)
    assert first.cached is False and first.duration_s >= 0.1
    assert first.power_w == {"node-1/gpu/GPU-a": pytest.approx(61.2, rel=0.02)}
    files = list(cache_dir().glob("nvml-*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["device_id"] == "node-1/gpu/GPU-a"

    fake_nvml.configure(devices=[{"uuid": "GPU-a", "power_w": 500.0}])  # a cached value is not re-measured
    second = measure_idle(NvmlBackend, nvml_ctx(), 0.1)
    assert second.cached is True and second.power_w == first.power_w and second.duration_s == first.duration_s

    third = measure_idle(NvmlBackend, nvml_ctx(), 5 * first.duration_s)  # a longer baseline is asked: measure
    assert third.cached is False and third.power_w["node-1/gpu/GPU-a"] == pytest.approx(500.0, rel=0.02)


def test_cache_expires(fake_nvml, monkeypatch):
    fake_nvml.configure(devices=[{"uuid": "GPU-a", "power_w": 70.0}])
    measure_idle(NvmlBackend, nvml_ctx(), 0.05)
    monkeypatch.setenv("JOULES_IDLE_CACHE_TTL_S", "0")
    assert measure_idle(NvmlBackend, nvml_ctx(), 0.05).cached is False


def test_nothing_to_measure_on_this_rank():
    assert measure_idle(NoneBackend, BackendContext(EnergyConfig(), "h", True), 0.1) is None
    other_rank = BackendContext(EnergyConfig(), "h", False)
    assert measure_idle(CodeCarbonBackend, other_rank, 0.1) is None  # machine-level: local rank 0 only


def test_apply_idle():
    result = EnergyResult(
        "nvml",
        None,
        "counter",
        False,
        0.0,
        10.0,
        [
            EnergyReading("h/gpu/GPU-a", "gpu", 900.0, False),
            EnergyReading("h/gpu/GPU-b", "gpu", 800.0, False),
        ],
    )
    apply_idle(result, IdleBaseline({"h/gpu/GPU-a": 60.0}, 5.0, True))
    assert [r.idle_power_w for r in result.readings] == [60.0, None]
    assert result.idle == {"duration_s": 5.0, "cached": True}
    assert result.to_dict()["readings"][0] == {
        "device_id": "h/gpu/GPU-a",
        "scope": "gpu",
        "energy_j": 900.0,
        "estimated": False,
        "idle_power_w": 60.0,
        "active_s": 0.0,
        "missing_reason": None,
    }
    untouched = EnergyResult("none", None, "none", False, 0.0, 1.0)
    apply_idle(untouched, None)
    assert untouched.idle is None
