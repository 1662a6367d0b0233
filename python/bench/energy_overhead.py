#!/usr/bin/env python3
"""What energy tracking costs in tokens/s, on the tiny model (prints one JSON object).

    python/.venv/bin/python python/bench/energy_overhead.py [--runs 5] [--model DIR]

The same generate workload runs under each condition, alternating, ``--runs`` rounds (the order
rotates each round): ``off`` (no backend), ``none`` (the empty backend), ``codecarbon`` (CodeCarbon
on this host: its scheduler thread samples every measure_power_secs), ``nvml-fake`` (the nvml
backend on the test suite's fake pynvml: the sampler thread and counter reads, with NVML's own
cost left out) at 1 s and at 0.1 s sampling. Tokens/s is output tokens over the batch loop, with
the backend started before and stopped after it (as in the worker's window; CodeCarbon's hardware
probing at start is outside). ``cost_pct`` compares each run with the ``off`` run of its round.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON_DIR = HERE.parent
REPO = PYTHON_DIR.parent
sys.path.insert(0, str(PYTHON_DIR))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def fake_pynvml():
    spec = importlib.util.spec_from_file_location(
        "pynvml", PYTHON_DIR / "tests" / "fake_pynvml" / "pynvml" / "__init__.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.configure(devices=[{"uuid": "GPU-bench", "power_w": 300.0}])
    return module


def model_dir(given: str | None) -> Path:
    if given:
        return Path(given)
    default = REPO / ".joules" / "models" / "tiny-llama"
    if default.is_dir():
        return default
    spec = importlib.util.spec_from_file_location("build_tiny_model", REPO / "tools" / "build_tiny_model.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    return builder.build_tiny_model(Path(tempfile.mkdtemp(prefix="joules-bench-")) / "tiny-llama")[0]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--model")
    p.add_argument("--prompts", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--new-tokens", type=int, default=64)
    a = p.parse_args()

    import torch

    torch.set_num_threads(1)  # steadier figures on a shared machine
    from joules_worker.config import DecodingConfig, EnergyConfig, ModelConfig
    from joules_worker.energy import BackendContext, CodeCarbonBackend, GpuRef, NoneBackend, NvmlBackend
    from joules_worker.engines.transformers.generate_arguments import generate_kwargs
    from joules_worker.engines.transformers.generation import run_batch
    from joules_worker.engines.transformers.model_loading import load_model_and_tokenizer
    from joules_worker.prompts import DatasetConfig, load_prompts

    model, tok = load_model_and_tokenizer(str(model_dir(a.model)), ModelConfig(), "fp32", torch.device("cpu"))
    prompts = [q for q in load_prompts(DatasetConfig()) if len(tok(q)["input_ids"]) <= 64][: a.prompts]
    groups = [prompts[i : i + a.batch_size] for i in range(0, len(prompts), a.batch_size)]
    kwargs = generate_kwargs(DecodingConfig(), a.new_tokens, a.new_tokens, tok.pad_token_id)  # fixed work
    sys.modules["pynvml"] = fake_pynvml()

    def ctx(secs: float, gpus=()):
        return BackendContext(EnergyConfig(measure_power_secs=secs), "bench", True, tuple(gpus))

    conditions = {
        "off": None,
        "none": lambda: NoneBackend(ctx(1)),
        "codecarbon": lambda: CodeCarbonBackend(ctx(1)),
        "nvml-fake-1s": lambda: NvmlBackend(ctx(1, [GpuRef(0)])),
        "nvml-fake-0.1s": lambda: NvmlBackend(ctx(0.1, [GpuRef(0)])),
    }
    run_batch(model, tok, groups[0], kwargs)  # warm-up
    names = list(conditions)
    tps: dict[str, list[float]] = {n: [] for n in names}
    cost: dict[str, list[float]] = {n: [] for n in names if n != "off"}
    for r in range(a.runs):
        order = names[r % len(names) :] + names[: r % len(names)]
        this_round: dict[str, float] = {}
        for name in order:
            backend = conditions[name]() if conditions[name] else None
            if backend:
                backend.start()
            t0 = time.perf_counter()
            tokens = sum(run_batch(model, tok, g, kwargs)[0].output_tokens for g in groups)
            elapsed = time.perf_counter() - t0
            if backend:
                backend.stop()
            this_round[name] = tokens / elapsed
            tps[name].append(this_round[name])
        for name in cost:
            cost[name].append((this_round["off"] - this_round[name]) / this_round["off"] * 100)
    print(
        json.dumps(
            {
                "runs": a.runs,
                "workload": {
                    "prompts": len(prompts),
                    "batch_size": a.batch_size,
                    "new_tokens": a.new_tokens,
                    "torch_threads": 1,
                },
                "tokens_per_s": tps,
                "cost_pct": cost,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
