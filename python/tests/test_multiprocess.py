"""Two real ranks on CPU (gloo), started three ways at once:

- ``cpu``: a bare ``python -m joules_worker`` with num_processes 2, which relaunches itself under
  ``accelerate launch`` (contract v2), CodeCarbon on local rank 0, an idle baseline;
- ``fake_gpu``: ``accelerate launch`` as the TS launcher starts it, the nvml backend reading a faked
  NVML (tests/fake_pynvml on PYTHONPATH) in which both ranks' GPU indices are the same physical
  device, so both ranks report it and the metrics package must count it once;
- ``oom``: the relaunch with an injected OOM on both ranks: accelerate exits 1, the worker exits 5.

``JOULES_CAPTURE_FIXTURES=1`` copies the first two runs' files into contract/fixtures.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from _helpers import event_lines, schema_errors, write_config
from conftest import FAKE_PYNVML_DIR, FIXTURES, base_experiment

pytestmark = pytest.mark.slow
CAPTURE_ENV = "JOULES_CAPTURE_FIXTURES"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accelerate_cmd(config: Path, out_dir: Path, processes: int = 2) -> list[str]:
    accelerate = Path(sys.executable).parent / "accelerate"
    return [
        str(accelerate),
        "launch",
        "--multi_gpu",
        "--num_processes",
        str(processes),
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        str(free_port()),
        "-m",
        "joules_worker",
        "--config",
        str(config),
        "--output-dir",
        str(out_dir),
    ]


def bare_cmd(config: Path, out_dir: Path) -> list[str]:
    return [sys.executable, "-m", "joules_worker", "--config", str(config), "--output-dir", str(out_dir)]


@pytest.fixture(scope="module")
def runs(tiny_model_dir, tmp_path_factory, worker_env):
    root = tmp_path_factory.mktemp("multiprocess")
    base = base_experiment(str(tiny_model_dir))

    cpu = json.loads(json.dumps(base))
    cpu.update(config_name="two-ranks-cpu", num_input_prompts=8, num_processes=2, save_outputs=True)
    cpu["energy"].update(backend="codecarbon", idle_baseline_s=1)

    gpu = json.loads(json.dumps(base))
    gpu.update(config_name="two-ranks-fake-gpu", num_input_prompts=8, num_processes=2, gpu_ids=[0, 1])
    gpu["energy"].update(backend="nvml", idle_baseline_s=0.5, measure_power_secs=0.2)
    shared = {
        "uuid": "GPU-8c2f7a50-fake-4e1b-9a3d-0123456789ab",
        "name": "NVIDIA H200",
        "power_w": 180.0,
        "power_limit_w": 700,
    }
    fake_config = root / "fake-nvml.json"
    fake_config.write_text(json.dumps({"devices": [shared, shared], "t0": 0}))  # indices 0 and 1: one device
    gpu_env = {
        **worker_env,
        "PYTHONPATH": f"{FAKE_PYNVML_DIR}:{worker_env['PYTHONPATH']}",
        "FAKE_PYNVML_CONFIG": str(fake_config),
        "JOULES_WORKER_CPU_WITH_GPU_IDS": "1",
        "ACCELERATE_USE_CPU": "true",
    }

    oom = json.loads(json.dumps(base))
    oom.update(config_name="two-ranks-oom", num_processes=2)

    plans = {
        "cpu": (bare_cmd, cpu, worker_env),
        "fake_gpu": (accelerate_cmd, gpu, gpu_env),
        "oom": (bare_cmd, oom, {**worker_env, "JOULES_WORKER_FAULT": "oom"}),
    }
    procs = {}
    for name, (cmd, exp, env) in plans.items():
        out = root / name / "out"
        argv = cmd(write_config(exp, root / name), out)
        procs[name] = (subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env), out)
    results = {}
    for name, (proc, out) in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        results[name] = {"code": proc.returncode, "stdout": stdout, "stderr": stderr, "out": out}
    for run in results.values():
        if run["code"] == 0:
            run["ranks"] = [json.loads((run["out"] / f"rank-{r}.json").read_text()) for r in (0, 1)]
    if _capture():
        for name, folder in (("cpu", "raw-2rank-cpu"), ("fake_gpu", "raw-2rank-fake-gpu")):
            target = FIXTURES / folder
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            for f in sorted(results[name]["out"].iterdir()):
                shutil.copy(f, target / f.name)
    return results


def _capture() -> bool:
    import os

    return os.environ.get(CAPTURE_ENV) == "1"


def ok(run):
    assert run["code"] == 0, run["stderr"][-4000:]
    return run["ranks"]


def test_bare_worker_relaunches_under_accelerate(runs, raw_validator):
    run = runs["cpu"]
    ranks = ok(run)
    assert "relaunching under accelerate" in run["stderr"]
    assert sorted(p.name for p in run["out"].iterdir()) == ["rank-0.json", "rank-1.json"]
    for r, data in enumerate(ranks):
        assert schema_errors(raw_validator, data) == []
        assert (data["rank"], data["local_rank"], data["world_size"]) == (r, r, 2)
    assert ranks[0]["pid"] != ranks[1]["pid"]


def test_only_local_rank_0_reads_machine_energy(runs):
    ranks = ok(runs["cpu"])
    e0, e1 = ranks[0]["energy"], ranks[1]["energy"]
    assert {r["scope"] for r in e0["readings"]} >= {"cpu", "ram"}
    assert all(r["idle_power_w"] is not None and r["idle_power_w"] > 0 for r in e0["readings"])
    assert e0["idle"]["cached"] is False and e0["idle"]["duration_s"] >= 1
    assert e1["readings"] == [] and e1["backend"] == "codecarbon" and e1["idle"] is None


def test_each_rank_measures_its_own_prompts(runs):
    ranks = ok(runs["cpu"])
    assert [r["tokens"]["num_prompts"] for r in ranks] == [4, 4]
    prompts = ranks[0]["outputs"]["prompts"] + ranks[1]["outputs"]["prompts"]
    assert len(set(prompts)) == 8
    for data in ranks:
        assert data["tokens"]["input_tokens"] == sum(b["input_tokens"] for b in data["batches"])


def test_windows_overlap_after_the_barrier(runs):
    ranks = ok(runs["cpu"])
    w0, w1 = ranks[0]["window"], ranks[1]["window"]
    assert abs(w0["start_unix_s"] - w1["start_unix_s"]) < 1.0
    assert abs(w0["end_unix_s"] - w1["end_unix_s"]) < 1.0
    energy = ranks[0]["energy"]  # the reader's span covers the measured window
    assert energy["start_unix_s"] <= w0["start_unix_s"] and energy["end_unix_s"] >= w0["end_unix_s"]


def test_both_ranks_emit_events(runs, event_validator):
    events = event_lines(runs["cpu"]["stdout"])
    for event in events:
        assert schema_errors(event_validator, event) == []
    assert {e["rank"] for e in events if e["event"] == "result"} == {0, 1}


def test_same_fake_gpu_is_reported_by_both_ranks(runs, raw_validator):
    run = runs["fake_gpu"]
    ranks = ok(run)
    readings = []
    for r, data in enumerate(ranks):
        assert schema_errors(raw_validator, data) == []
        energy = data["energy"]
        assert energy["backend"] == "nvml" and energy["method"] == "counter" and data["world_size"] == 2
        (reading,) = energy["readings"]
        readings.append(reading)
        assert reading["idle_power_w"] == pytest.approx(180.0, rel=0.05)
        assert (
            energy["timeseries_file"] == f"timeseries-rank-{r}.jsonl"
            and (run["out"] / energy["timeseries_file"]).is_file()
        )
        duration = energy["end_unix_s"] - energy["start_unix_s"]
        assert reading["energy_j"] == pytest.approx(180.0 * duration, rel=0.1)  # loose: 2 cores, 6 processes
    assert (
        readings[0]["device_id"]
        == readings[1]["device_id"]
        == f"{ranks[0]['host']}/gpu/GPU-8c2f7a50-fake-4e1b-9a3d-0123456789ab"
    )


def test_relaunched_failure_keeps_its_exit_code(runs):
    run = runs["oom"]
    assert run["code"] == 5, run["stderr"][-3000:]  # accelerate itself exits 1
    kinds = {json.loads((run["out"] / f"error-rank-{r}.json").read_text())["kind"] for r in (0, 1)}
    assert kinds == {"oom"}
