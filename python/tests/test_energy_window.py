"""Issue 13, worker side, in one process: the prepare/start split, monotonic durations, host-level
readers that never pause on a shared host, GPUs chosen by UUID for CodeCarbon, what Zeus did,
GPU state at idle and at window start, the idle cache keyed on the power limit, and outputs
decoded outside the energy window. (The 2-rank runs are in test_window_multiprocess.py.)"""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from joules_worker.config import EnergyConfig
from joules_worker.energy import BackendContext, CodeCarbonBackend, GpuRef, NvmlBackend, RaplBackend
from joules_worker.energy.idle import IdleBaseline, apply_idle, measure_idle
from joules_worker.energy.rapl_backend import ROOT_ENV


def nvml_ctx(*gpus, secs=0.02, host_ranks=1):
    return BackendContext(EnergyConfig(measure_power_secs=secs), "node-1", True, tuple(gpus), tuple(gpus), host_ranks)


# --- item 1: slow preparation before the barrier, the span opens in start() --------------------


def test_codecarbon_probes_in_prepare_and_start_only_opens_the_span():
    """CodeCarbon's first task probes the hardware (~1.5 s here): prepare() takes it, start() is quick."""
    backend = CodeCarbonBackend(nvml_ctx(secs=1))
    backend.prepare()
    t0 = time.perf_counter()
    backend.start()
    time.sleep(0.3)
    result = backend.stop()
    elapsed = time.perf_counter() - t0
    # the probe (~1.5 s on a fresh process; CodeCarbon caches what it found) ran in prepare():
    # the reading's span starts inside start(), so it is bounded by what was measured from there
    cpu = next(r for r in result.readings if r.scope == "cpu")
    assert 0.3 <= cpu.active_s <= elapsed + 1e-3  # the probe is not inside the reading's span


def test_nvml_prepare_finds_handles_start_opens_span(fake_nvml):
    fake_nvml.configure(devices=[{"uuid": "GPU-a", "power_w": 100.0}])
    backend = NvmlBackend(nvml_ctx(GpuRef(0)))
    backend.prepare()
    time.sleep(0.3)  # e.g. waiting at the barrier: not in the span
    t0 = time.perf_counter()
    backend.start()
    time.sleep(0.2)
    result = backend.stop()
    elapsed = time.perf_counter() - t0
    (reading,) = result.readings
    assert 0.2 <= reading.active_s <= elapsed + 1e-3
    assert reading.energy_j == pytest.approx(100.0 * reading.active_s, rel=0.02)


def test_durations_are_monotonic_a_wall_clock_step_bends_nothing(fake_nvml, monkeypatch):
    """Power polling (no counter) at a constant 100 W: a +1000 s step of the wall clock mid-window
    changes neither the joules nor active_s (the integral and the spans use perf_counter)."""
    fake_nvml.configure(devices=[{"uuid": "GPU-old", "power_w": 100.0, "energy_counter": False}])
    backend = NvmlBackend(nvml_ctx(GpuRef(0)))
    t0 = time.perf_counter()
    backend.start()
    time.sleep(0.1)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 1000.0)
    p0 = time.perf_counter()
    backend.pause()
    time.sleep(0.05)
    backend.resume()
    paused_bound = time.perf_counter() - p0
    time.sleep(0.1)
    result = backend.stop()
    elapsed = time.perf_counter() - t0
    (reading,) = result.readings
    # bounds from perf_counter, never from the wall clock that jumped by 1000 s
    assert 0.05 <= backend.paused_s <= paused_bound + 1e-3
    assert 0.2 <= reading.active_s <= elapsed - backend.paused_s + 1e-3
    assert reading.energy_j == pytest.approx(100.0 * reading.active_s, rel=0.02)


# --- item 2: host-level readers and traffic waits ----------------------------------------------


@pytest.fixture
def powercap(tmp_path, monkeypatch):
    folder = tmp_path / "powercap" / "intel-rapl:0"
    folder.mkdir(parents=True)
    (folder / "name").write_text("package-0\n")
    (folder / "energy_uj").write_text("1000000\n")
    (folder / "max_energy_range_uj").write_text(f"{2**32 - 1}\n")
    monkeypatch.setenv(ROOT_ENV, str(tmp_path / "powercap"))
    return folder


@pytest.mark.parametrize("host_ranks, counted_j, pauses", [(1, 2.0, True), (2, 8.0, False)])
def test_host_level_reader_never_pauses_when_ranks_share_the_host(powercap, host_ranks, counted_j, pauses):
    """One rank on the host: a traffic wait pauses RAPL (the 6 J meanwhile are dropped). Two ranks:
    the other rank computes while this one waits, so the host reader keeps counting and says so."""
    backend = RaplBackend(BackendContext(EnergyConfig(measure_power_secs=5), "node-1", True, host_ranks=host_ranks))
    assert backend.pauses is pauses
    backend.start()
    (powercap / "energy_uj").write_text("2000000\n")  # +1 J
    backend.pause()
    (powercap / "energy_uj").write_text("8000000\n")  # +6 J during this rank's wait
    time.sleep(0.05)
    backend.resume()
    (powercap / "energy_uj").write_text("9000000\n")  # +1 J
    result = backend.stop()
    (reading,) = result.readings
    assert reading.energy_j == pytest.approx(counted_j)
    assert (backend.paused_s > 0.04) is pauses
    assert reading.active_s == pytest.approx(backend.span_s - backend.paused_s)
    assert ("never pauses for traffic waits" in (result.note or "")) is not pauses


# --- item 4: CodeCarbon gets the GPUs by UUID, a MIG slice or an unknown GPU is not 0 J ----------


def test_codecarbon_gets_the_nvml_index_of_each_uuid(fake_nvml):
    """gpu_ids [0, 1] as seen by CUDA / Slurm are NOT this process's NVML indices: the UUIDs decide."""
    from joules_worker.energy.codecarbon_backend import codecarbon_gpu_ids

    fake_nvml.configure(devices=[{"uuid": "GPU-x"}, {"uuid": "GPU-y"}, {"uuid": "GPU-z"}])
    gpus = (GpuRef(0, uuid="GPU-z", cuda_index=0), GpuRef(1, uuid="GPU-x", cuda_index=1))
    assert codecarbon_gpu_ids(gpus, "h") == ([2, 0], [])


def test_codecarbon_cannot_read_a_mig_slice_or_a_missing_gpu(fake_nvml):
    from joules_worker.energy.codecarbon_backend import codecarbon_gpu_ids

    fake_nvml.configure(devices=[{"uuid": "GPU-x"}, {"uuid": "MIG-m1"}])
    ids, missing = codecarbon_gpu_ids(
        (GpuRef(0, uuid="GPU-x"), GpuRef(1, uuid="GPU-m1"), GpuRef(2, uuid="GPU-gone")), "h"
    )
    assert ids == [0]
    assert any("MIG-m1 is a MIG slice: CodeCarbon reads whole GPUs only" in m for m in missing)
    assert any("GPU GPU-gone not found by NVML" in m for m in missing)


def test_codecarbon_gpu_reading_is_null_with_the_reason_never_zero(fake_nvml):
    """Real CodeCarbon on this host: given a MIG slice, its GPU reading is null and the rank incomplete."""
    fake_nvml.configure(devices=[{"uuid": "MIG-m1", "energy_counter": False, "power": False}])
    gpus = (GpuRef(0, uuid="MIG-m1"),)
    backend = CodeCarbonBackend(BackendContext(EnergyConfig(measure_power_secs=1), "h", True, gpus, gpus))
    backend.start()
    time.sleep(0.2)
    result = backend.stop()
    gpu = next(r for r in result.readings if r.scope == "gpu")
    assert gpu.device_id == "h/gpu/MIG-m1" and gpu.energy_j is None and "MIG slice" in gpu.missing_reason
    assert result.to_dict()["complete"] is False
    assert all(r.energy_j is not None for r in result.readings if r.scope != "gpu")


# --- item 11: Zeus says what it did ---------------------------------------------------------------


def _zeus_monitor(support):
    """Stands in for zeus.monitor.ZeusMonitor (Zeus is not installed here): only its GPU objects'
    ``supportsGetTotalEnergyConsumption`` answer, which is all the method is read from."""
    return SimpleNamespace(gpus=SimpleNamespace(supportsGetTotalEnergyConsumption=lambda i: support[i]))


def test_zeus_method_is_counter_only_when_every_gpu_has_the_counter():
    from joules_worker.energy.zeus_backend import zeus_gpu_method

    assert zeus_gpu_method(_zeus_monitor({0: True, 1: True}), [0, 1])[0] == "counter"
    method, note = zeus_gpu_method(_zeus_monitor({0: True, 1: False}), [0, 1])
    assert method == "polling" and "power polling for CUDA GPU(s) [1]" in note
    method, note = zeus_gpu_method(SimpleNamespace(), [0])
    assert method == "polling" and "does not say" in note


# --- item 6: GPU state at idle and window start, power limit in the idle cache key ---------------


def test_idle_cache_is_keyed_on_the_power_limit(fake_nvml, tmp_path, monkeypatch):
    monkeypatch.setenv("JOULES_CACHE_DIR", str(tmp_path / "cache"))
    device = {"uuid": "GPU-a", "power_w": 60.0, "power_limit_w": 700, "temp": 35, "pstate": 8}
    fake_nvml.configure(devices=[dict(device)])
    first = measure_idle(NvmlBackend, nvml_ctx(GpuRef(0)), 0.1)
    assert first.cached is False
    assert first.gpu_state == [{"device_id": "node-1/gpu/GPU-a", "temp_c": 35.0, "pstate": 8, "power_limit_w": 700.0}]
    assert measure_idle(NvmlBackend, nvml_ctx(GpuRef(0)), 0.1).cached is True
    fake_nvml.configure(devices=[{**device, "power_limit_w": 450}])  # nvidia-smi -pl 450: idle power changes
    again = measure_idle(NvmlBackend, nvml_ctx(GpuRef(0)), 0.1)
    assert again.cached is False and again.gpu_state[0]["power_limit_w"] == 450.0


def test_a_gpu_much_warmer_at_window_start_than_at_idle_is_warned(fake_nvml, caplog):
    from joules_worker.energy.base import EnergyReading, EnergyResult

    idle_state = [{"device_id": "h/gpu/GPU-a", "temp_c": 38.0, "pstate": 8, "power_limit_w": 700.0}]
    result = EnergyResult(
        "nvml", None, "counter", False, 0.0, 10.0, [EnergyReading("h/gpu/GPU-a", "gpu", 900.0, False, active_s=10.0)]
    )
    result.gpu_state = {"idle": None, "window_start": [{**idle_state[0], "temp_c": 61.0, "pstate": 0}]}
    apply_idle(result, IdleBaseline({"h/gpu/GPU-a": 60.0}, 5.0, False, idle_state))
    assert result.gpu_state["idle"] == idle_state
    assert "61 °C at window start vs 38 °C at idle (+23 °C, P0 vs P8)" in result.note
    assert any("at window start vs" in r.getMessage() for r in caplog.records)
    calm = EnergyResult("nvml", None, "counter", False, 0.0, 10.0, [EnergyReading("h/gpu/GPU-a", "gpu", 900.0, False)])
    calm.gpu_state = {"idle": None, "window_start": [{**idle_state[0], "temp_c": 45.0}]}
    apply_idle(calm, IdleBaseline({"h/gpu/GPU-a": 60.0}, 5.0, False, idle_state))
    assert calm.note is None  # 7 °C: no warning


# --- item 10: outputs are decoded outside the energy window ------------------------------------


@pytest.mark.parametrize("save_outputs", [True, False])
def test_outputs_are_decoded_after_the_energy_span_closes(tiny_model_dir, tmp_path, monkeypatch, save_outputs):
    """save_outputs on or off measures the same work: no decoding between energy start and stop."""
    from _helpers import run_in_process
    from conftest import base_experiment
    from transformers import PreTrainedTokenizerBase

    decoded_at: list[float] = []
    original = PreTrainedTokenizerBase.batch_decode

    def recording(self, *args, **kwargs):
        decoded_at.append(time.time())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PreTrainedTokenizerBase, "batch_decode", recording)
    exp = base_experiment(str(tiny_model_dir))
    exp.update(num_input_prompts=6, save_outputs=save_outputs, warmup_iterations=0)
    data, _ = run_in_process(exp, tmp_path)
    energy, window = data["energy"], data["window"]
    inside = [t for t in decoded_at if energy["start_unix_s"] <= t <= energy["end_unix_s"]]
    assert inside == []
    if save_outputs:
        assert len(data["outputs"]["texts"]) == 6 and decoded_at and min(decoded_at) >= window["end_unix_s"]
    else:
        assert data["outputs"] is None and decoded_at == []
