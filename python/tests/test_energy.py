"""Backend registry, ``auto`` selection, and the backends that run here for real (none, CodeCarbon)."""

import math
import time

import pytest

from joules_worker.config import EnergyConfig
from joules_worker.energy import (
    AUTO_ORDER,
    BACKENDS,
    BackendContext,
    CodeCarbonBackend,
    GpuRef,
    NoneBackend,
    NvmlBackend,
    RaplBackend,
    ZeusBackend,
    choose_backend,
    get_backend,
)
from joules_worker.errors import UnsupportedError


def ctx(gpus=(), local_main=True, **energy):
    return BackendContext(EnergyConfig(**energy), "node-1", local_main, tuple(gpus))


def busy(seconds):
    t = time.time()
    while time.time() - t < seconds:
        pass


def test_registry_is_explicit():
    assert list(BACKENDS) == ["nvml", "zeus", "codecarbon", "rapl", "none"]
    assert AUTO_ORDER == ("nvml", "rapl", "codecarbon", "none")
    assert get_backend("rapl") is RaplBackend
    with pytest.raises(ValueError, match="unknown energy backend 'joulemeter'"):
        get_backend("joulemeter")


def test_none_backend():
    backend = NoneBackend(ctx())
    backend.start()
    result = backend.stop()
    assert (result.backend, result.method, result.estimated, result.readings) == ("none", "none", False, [])
    assert result.end_unix_s >= result.start_unix_s and result.samples is None


def test_carbon_intensity_override():
    backend = NoneBackend(ctx(carbon_intensity_g_per_kwh=123.0))
    backend.start()
    assert backend.stop().carbon_intensity_g_per_kwh == 123.0


def test_real_probes_never_raise():
    """On this (GPU-less, RAPL-less) machine the real pynvml and sysfs say why; elsewhere they may work."""
    nvml_reason = NvmlBackend.unavailable_reason()
    assert nvml_reason is None or "NVML" in nvml_reason or "pynvml" in nvml_reason
    rapl_reason = RaplBackend.unavailable_reason()
    assert rapl_reason is None or "RAPL" in rapl_reason


def test_zeus_is_unavailable_cleanly():
    reason = ZeusBackend.unavailable_reason()
    assert reason == "zeus is not installed (pip install zeus)"
    with pytest.raises(UnsupportedError, match="energy.backend 'zeus' cannot run on this host: zeus is not installed"):
        choose_backend("zeus", ctx(gpus=[GpuRef(0)]))


def test_auto_moves_on_to_codecarbon(fake_nvml, tmp_path, monkeypatch):
    fake_nvml.configure(devices=[], init_error=fake_nvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    monkeypatch.setenv("JOULES_POWERCAP_ROOT", str(tmp_path))  # an empty powercap tree
    cls, note = choose_backend("auto", ctx(gpus=[GpuRef(0)]))
    assert cls is CodeCarbonBackend
    assert note.startswith("auto chose codecarbon (nvml skipped: NVML cannot start")
    assert "rapl skipped: no RAPL zones" in note
    cls, note = choose_backend("auto", ctx())
    assert cls is CodeCarbonBackend and "nvml skipped: no gpu_ids" in note


def test_auto_prefers_nvml_when_it_runs(fake_nvml, tmp_path, monkeypatch):
    monkeypatch.setenv("JOULES_POWERCAP_ROOT", str(tmp_path))
    fake_nvml.configure(devices=[{"uuid": "GPU-a"}])
    cls, note = choose_backend("auto", ctx(gpus=[GpuRef(0)]))
    assert cls is NvmlBackend and note == "auto chose nvml"
    assert choose_backend("auto", ctx())[0] is CodeCarbonBackend  # no gpu_ids: nvml is not considered


def test_explicit_backend_that_cannot_run_is_unsupported(tmp_path, monkeypatch):
    monkeypatch.setenv("JOULES_POWERCAP_ROOT", str(tmp_path))
    with pytest.raises(UnsupportedError, match="energy.backend 'rapl' cannot run on this host: no RAPL zones"):
        choose_backend("rapl", ctx())
    assert choose_backend("codecarbon", ctx()) == (CodeCarbonBackend, None)


def test_codecarbon_reports_nothing_on_other_local_ranks():
    backend = CodeCarbonBackend(ctx(local_main=False))
    assert backend.expected_device_ids() == []
    backend.start()
    result = backend.stop()
    assert result.backend == "codecarbon" and result.readings == [] and result.method == "none"
    assert "local rank 0" in result.note


def test_codecarbon_on_local_rank_0_with_a_pause():
    """Two CodeCarbon tasks (the pause ends one, the resume starts the next), summed."""
    backend = CodeCarbonBackend(ctx(measure_power_secs=1))
    backend.start()
    busy(0.2)
    backend.pause()
    time.sleep(0.3)
    backend.resume()
    busy(0.2)
    result = backend.stop()
    assert 0.25 < backend.paused_s < 1.0
    scopes = {r.scope: r for r in result.readings}
    assert {"cpu", "ram"} <= set(scopes)
    assert scopes["cpu"].device_id == "node-1/cpu" and scopes["ram"].device_id == "node-1/ram"
    assert all(math.isfinite(r.energy_j) and r.energy_j > 0 for r in result.readings)
    assert scopes["ram"].estimated and scopes["ram"].idle_power_w is None
    assert result.carbon_intensity_g_per_kwh is not None and result.carbon_intensity_g_per_kwh > 0
    assert result.backend_version and "2 CodeCarbon tasks" in result.note
    if scopes["cpu"].estimated:
        assert result.method == "estimate" and "CPU power modelled by CodeCarbon" in result.note
    # RAM power is modelled as constant: its energy covers the active time only, not the pause
    ram_w = scopes["ram"].energy_j / (result.end_unix_s - result.start_unix_s - backend.paused_s)
    whole_w = scopes["ram"].energy_j / (result.end_unix_s - result.start_unix_s)
    assert ram_w > whole_w * 1.2
