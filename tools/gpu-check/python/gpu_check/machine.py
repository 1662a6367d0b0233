"""The machine the check runs on: the repository it runs from, the workers' environment (offline,
the worker on PYTHONPATH; for the CPU rehearsal the faked NVML and the packages the GPU machine
lacks hidden) and the device record of summary.json (name, count, bf16 peak)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from gpu_check.steps import ABSENT_ON_GPU_MACHINE, SITE_DIR

REPO = Path(__file__).resolve().parents[4]
# Dense bf16 tensor-core peaks (FLOP/s) by device-name substring, first match wins (NVIDIA data sheets).
PEAK_BF16 = (
    ("H200", 989.4e12),
    ("H100 PCIe", 756.0e12),
    ("H100", 989.4e12),
    ("A100", 312.0e12),
    ("L40S", 362.1e12),
)
FAKE_DEVICE = {
    "uuid": "GPU-00000000-fake-4c0f-9a3d-gpucheck0001",
    "name": "NVIDIA H200 (fake NVML)",
    "power_w": 300.0,
    "power_limit_w": 700,
}


def worker_env(work: Path, cpu: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")}
    paths = [str(REPO / "python")]
    if cpu:
        paths[:0] = [str(SITE_DIR), str(REPO / "python" / "tests" / "fake_pynvml")]
        env["JOULES_GPU_CHECK_ABSENT"] = ",".join(ABSENT_ON_GPU_MACHINE)
        fake = work / "fake-nvml.json"  # indices 0 and 1 are the same device: the two-ranks step shares it
        fake.write_text(json.dumps({"devices": [FAKE_DEVICE, FAKE_DEVICE], "t0": time.time()}))
        # The power limit the GPU guard step sets is kept here, across its processes.
        state = str(work / "fake-nvml-state.json")
        env.update(FAKE_PYNVML_CONFIG=str(fake), FAKE_PYNVML_STATE=state, JOULES_WORKER_CPU_WITH_GPU_IDS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [*paths, env.get("PYTHONPATH")]))
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        JOULES_CACHE_DIR=str(work / "cache"),
    )
    return env


def device_record(cpu: bool) -> dict[str, Any]:
    import torch

    if cpu:
        return {
            "type": "cpu",
            "name": FAKE_DEVICE["name"],
            "peak_bf16_flops": None,
            "peak_reason": "CPU rehearsal: the model runs on the CPU, no GPU peak applies",
        }
    name = torch.cuda.get_device_name(0)
    peak = next((v for key, v in PEAK_BF16 if key in name), None)
    return {
        "type": "cuda",
        "name": name,
        "count": torch.cuda.device_count(),
        "peak_bf16_flops": peak,
        "peak_reason": None if peak else f"no bf16 peak known for {name!r}",
        "memory_total_bytes": torch.cuda.get_device_properties(0).total_memory,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
    }
