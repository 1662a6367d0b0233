"""The bare-start relaunch under accelerate: when, with which flags, and which exit code."""

import json
import sys

from conftest import base_experiment

from joules_worker.config import parse_experiment
from joules_worker.engines.transformers.relaunch import accelerate_command, failure_code, needs_relaunch


def config(**changes):
    data = base_experiment("/models/m")
    data.update(changes)
    return parse_experiment(data)


def test_only_bare_multi_process_starts_relaunch():
    assert needs_relaunch(config(num_processes=2), {})
    assert not needs_relaunch(config(num_processes=2), {"RANK": "0", "WORLD_SIZE": "2"})
    assert not needs_relaunch(config(num_processes=2), {"WORLD_SIZE": "2"})
    assert not needs_relaunch(config(num_processes=1), {})


def test_cpu_flags_match_the_ts_launcher():
    args, env = accelerate_command(config(num_processes=2), "/c.json", "/out", 29555)
    assert args == [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        "29555",
        "-m",
        "joules_worker",
        "--config",
        "/c.json",
        "--output-dir",
        "/out",
    ]
    assert env == {"ACCELERATE_USE_CPU": "true", "CUDA_DEVICE_ORDER": "PCI_BUS_ID"}


def test_gpu_flags_match_the_ts_launcher():
    args, env = accelerate_command(
        config(num_processes=2, gpu_ids=[3, 1, 0], precision="bf16"), "/c.json", "/out", 1234
    )
    assert args[3:16] == [
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--gpu_ids",
        "3,1",
        "--mixed_precision",
        "bf16",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        "1234",
    ]
    assert env == {"CUDA_DEVICE_ORDER": "PCI_BUS_ID"}  # gpu_ids are NVML (PCI bus) indices, not CUDA's fastest-first


def test_failure_code_comes_from_the_lowest_rank_error_file(tmp_path):
    assert failure_code(tmp_path, 1) == 1  # no error file: accelerate's own code
    (tmp_path / "error-rank-10.json").write_text(json.dumps({"kind": "other"}))
    (tmp_path / "error-rank-2.json").write_text(json.dumps({"kind": "transient"}))
    assert failure_code(tmp_path, 1) == 7
    (tmp_path / "error-rank-0.json").write_text("{broken")
    assert failure_code(tmp_path, 1) == 7  # an unreadable file is skipped
