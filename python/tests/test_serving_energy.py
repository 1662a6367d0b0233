"""The serving engine's energy (issue 22, defect 7): Zeus gets CUDA-visible indices of the server's
GPUs, ``energy.idle_baseline_s`` measures the server's devices before the load, prorated steady
energy is kept apart from measured, the client's CPU time and the energy's scope are reported."""

from __future__ import annotations

import importlib.machinery
import json
import os
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _fake_openai import FakeOpenAI, serving_config
from _helpers import http_server

from joules_worker.energy import BACKENDS
from joules_worker.engines import engine_for
from joules_worker.engines.server.server_energy import energy_scope, server_gpu_refs
from joules_worker.events import EventEmitter


@pytest.fixture
def fake() -> Iterator[str]:
    with http_server(FakeOpenAI.fresh()) as url:
        yield url


def run(config: Any, out: Path) -> tuple[dict, dict]:
    engine_for("server").run(config, out, EventEmitter(rank=0))
    return json.loads((out / "serving-rank-0.json").read_text()), json.loads((out / "rank-0.json").read_text())


@pytest.fixture
def fake_zeus(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A stand-in for zeus.monitor.ZeusMonitor: records the GPU indices it was given and
    CUDA_VISIBLE_DEVICES at that moment (Zeus reads it to map CUDA indices to GPUs)."""
    seen: dict[str, Any] = {}

    class Measurement:
        gpu_energy = {0: 10.0, 1: 20.0}
        cpu_energy: dict[int, float] = {}  # noqa: RUF012
        dram_energy: dict[int, float] = {}  # noqa: RUF012

    class ZeusMonitor:
        def __init__(self, gpu_indices: list[int], cpu_indices: Any, approx_instant_energy: bool) -> None:
            seen["gpu_indices"] = gpu_indices
            seen["visible"] = os.environ.get("CUDA_VISIBLE_DEVICES")

        def begin_window(self, name: str) -> None:
            pass

        def end_window(self, name: str, cancel: bool = False) -> Measurement:
            return Measurement()

    zeus = types.ModuleType("zeus")
    zeus.__spec__ = importlib.machinery.ModuleSpec("zeus", None)
    monitor = types.ModuleType("zeus.monitor")
    monitor.__spec__ = importlib.machinery.ModuleSpec("zeus.monitor", None)
    monitor.ZeusMonitor = ZeusMonitor
    zeus.monitor = monitor
    monkeypatch.setitem(sys.modules, "zeus", zeus)
    monkeypatch.setitem(sys.modules, "zeus.monitor", monitor)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2")  # what the launcher gives the worker: gpu_ids[0]
    return seen


def test_zeus_gets_cuda_visible_indices_of_the_servers_gpus(tmp_path, tiny_model_dir, fake, fake_zeus) -> None:
    """The server runs on NVML GPUs 2 and 3. Zeus counts CUDA indices among the visible GPUs: it must
    get [0, 1] with GPUs 2 and 3 visible; the old code handed it the NVML indices [2, 3]."""
    summary, raw = run(serving_config(tiny_model_dir, fake, [2, 3], "zeus"), tmp_path)
    assert fake_zeus == {"gpu_indices": [0, 1], "visible": "2,3"}
    assert sorted(r["energy_j"] for r in raw["energy"]["readings"]) == [10.0, 20.0]
    assert summary["energy_scope"] == "host"  # Zeus reads the host's CPU too (HOST_SCOPED)


def test_server_gpu_refs_keep_nvml_and_cuda_indices() -> None:
    environ: dict[str, str] = {"CUDA_VISIBLE_DEVICES": "5"}
    refs = server_gpu_refs([3, 1], environ)
    assert [(g.index, g.cuda_index) for g in refs] == [(3, 0), (1, 1)]
    assert environ["CUDA_VISIBLE_DEVICES"] == "3,1"
    assert server_gpu_refs([], environ) == () and server_gpu_refs(None, environ) == ()


def test_energy_scope_says_whether_the_client_is_in_the_joules() -> None:
    assert energy_scope(BACKENDS["nvml"], [0]) == "server_devices"
    assert energy_scope(BACKENDS["zeus"], [0]) == "host"
    assert energy_scope(BACKENDS["rapl"], []) == "host"  # a CPU server: the host's packages
    assert energy_scope(BACKENDS["none"], [0]) is None and energy_scope(BACKENDS["nvml"], None) is None


def test_idle_baseline_measures_the_servers_devices_before_the_load(tmp_path, tiny_model_dir, fake, fake_nvml) -> None:
    """The old engine ignored energy.idle_baseline_s: no reading had an idle power."""
    fake_nvml.configure(devices=[{"uuid": "GPU-a", "power_w": 40.0}])
    config = serving_config(tiny_model_dir, fake, [0], "nvml", energy__idle_baseline_s=0.3)
    _, raw = run(config, tmp_path)
    (reading,) = raw["energy"]["readings"]
    assert reading["idle_power_w"] == pytest.approx(40.0, rel=0.05)
    assert raw["energy"]["idle"]["cached"] is False


def test_prorated_steady_energy_is_kept_apart_from_measured(tmp_path, tiny_model_dir, fake, fake_nvml) -> None:
    """A GPU without the energy counter (NVML polls power: no mid-span totals): the steady window's
    joules are an estimate, in energy_steady_prorated_j; energy_steady_j holds measured joules only."""
    fake_nvml.configure(devices=[{"uuid": "GPU-a", "power_w": 100.0, "energy_counter": False}])
    config = serving_config(tiny_model_dir, fake, [0], "nvml", num_requests=30)
    summary, _ = run(config, tmp_path)
    assert summary["steady_window"] is not None
    assert summary["energy_steady_j"] is None
    assert summary["energy_steady_prorated_j"] > 0 and summary["steady_energy_method"] == "prorated_by_time"
    assert summary["energy_scope"] == "server_devices"


def test_the_clients_cpu_time_over_the_window_is_reported(tmp_path, tiny_model_dir, fake) -> None:
    summary, _ = run(serving_config(tiny_model_dir, fake, num_requests=20), tmp_path)
    window = summary["whole_window"]["duration_s"]
    assert 0 < summary["client_cpu_s"] < window * (os.cpu_count() or 1) + 0.5
