"""Each step runs ``python -m joules_worker`` (or ``accelerate launch`` of it, for two ranks) on one
experiment of tools/gpu-check/experiments.json, the effective experiments @joules/config produced.
The only field filled in here is ``model_name`` (the model is built on the machine that runs)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpu_check import serving

MODEL_PLACEHOLDER = "@GPU_CHECK_MODEL@"
SITE_DIR = Path(__file__).resolve().parent.parent / "site"  # sitecustomize.py: the gloo shim, absent modules
# Not on the GPU machine, and no wheel of theirs travels: the CPU rehearsal hides them from the workers.
ABSENT_ON_GPU_MACHINE = ("datasets", "codecarbon", "jsonschema", "zeus")
BATCH_SIZES = (1, 8, 32, 64)
CPU_OUTPUT_TOKENS = 16
CPU_IDLE_S = 1.0


@dataclass
class Step:
    name: str  # the experiment's key in experiments.json; the folder of its raw files
    check: str  # which check it feeds
    ranks: int = 1
    serving: bool = False


STEPS = (
    Step("energy", "counter-vs-polling+idle"),
    *(Step(f"batch-{b}", "batch-sweep") for b in BATCH_SIZES),
    Step("two-ranks", "counted-once", ranks=2),
    Step("serving-c1", "serving", serving=True),
    Step("serving-c16", "serving", serving=True),
)


@dataclass
class Context:
    repo: Path
    work: Path  # scratch: model, configs, caches (not returned)
    raw: Path  # raw files, bundled at the end
    cpu: bool
    model_dir: str
    env: dict[str, str]
    timeout_s: float
    log: Any
    server_port: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)


def load_experiments(repo: Path) -> dict[str, Any]:
    path = repo / "tools" / "gpu-check" / "experiments.json"
    data = json.loads(path.read_text())
    if not isinstance(data.get("experiments"), dict):
        raise ValueError(f"{path}: no 'experiments' object (regenerate: npm run gpu-check -- --write-experiments)")
    return data


def cpu_overrides(exp: dict[str, Any]) -> dict[str, Any]:
    """The CPU rehearsal's smaller runs (same experiments otherwise): two batches (or four requests
    per user: ML.ENERGY's steady window opens at the concurrency-th first token and closes at the
    (N - concurrency - 1)-th end, so two per user leave it empty) per step, 16 generated tokens, 1 s of idle; a 2-core machine runs it in minutes."""
    out: dict[str, Any] = {
        "num_input_prompts": min(exp["num_input_prompts"], 2 * exp["batch_size"] * exp["num_processes"]),
        "max_output_tokens": CPU_OUTPUT_TOKENS,
        "min_output_tokens": CPU_OUTPUT_TOKENS if exp["min_output_tokens"] > 0 else 0,
        "energy": {
            **exp["energy"],
            "idle_baseline_s": min(exp["energy"]["idle_baseline_s"], CPU_IDLE_S),
        },
    }
    load = exp.get("load")
    if exp.get("engine") == "server" and load and load.get("num_requests") and load.get("concurrency"):
        out["load"] = {
            **load,
            "num_requests": min(load["num_requests"], 4 * load["concurrency"]),
        }
        # each request and warm-up request sends a prompt of its own
        out["num_input_prompts"] = out["load"]["num_requests"] + load.get("warmup_requests", 0)
    return out


def experiment_for(step: Step, experiments: dict[str, Any], ctx: Context) -> dict[str, Any]:
    try:
        exp = json.loads(json.dumps(experiments[step.name]))
    except KeyError:
        raise ValueError(f"experiments.json has no experiment {step.name!r}") from None
    if exp.get("model_name") != MODEL_PLACEHOLDER:
        raise ValueError(f"experiments.json: {step.name}.model_name must be {MODEL_PLACEHOLDER!r}")
    exp["model_name"] = ctx.model_dir
    if ctx.cpu:
        exp.update(cpu_overrides(exp))
    if step.serving:
        exp = serving.fill(exp, ctx.model_dir, ctx.server_port, ctx.cpu)
    return exp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def command(step: Step, ctx: Context, config: Path, out: Path) -> tuple[list[str], dict[str, str]]:
    worker = ["-m", "joules_worker", "--config", str(config), "--output-dir", str(out)]
    if step.ranks == 1:
        return [sys.executable, *worker], {}
    # Two ranks on ONE GPU: accelerate puts local rank r on cuda:(r % device_count) = cuda:0 for both.
    # No --gpu_ids (it would set CUDA_VISIBLE_DEVICES=0,1 on a one-GPU host). NCCL refuses two ranks
    # on one device, so the gloo shim (site/sitecustomize.py) starts the process group first.
    argv = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        str(step.ranks),
        "--num_machines",
        "1",
        "--mixed_precision",
        "no" if ctx.cpu else "bf16",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        str(free_port()),
        *worker,
    ]
    shim = str(SITE_DIR)
    paths = ctx.env["PYTHONPATH"].split(os.pathsep)
    extra = {
        "PYTHONPATH": os.pathsep.join([shim, *(p for p in paths if p != shim)]),
        "JOULES_GPU_CHECK_GLOO": "1",
    }
    if ctx.cpu:
        extra["ACCELERATE_USE_CPU"] = "true"
    return argv, extra


def run_step(step: Step, experiments: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Run one step; its raw files, stdout (NDJSON events) and stderr land in raw/<name>/."""
    out = ctx.raw / step.name
    out.mkdir(parents=True, exist_ok=True)
    exp = experiment_for(step, experiments, ctx)
    config = ctx.work / "configs" / f"{step.name}.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps(exp, indent=2))
    argv, extra = command(step, ctx, config, out)
    env = {**ctx.env, **extra}
    ctx.log(f"step {step.name}: {' '.join(argv)}")
    start = time.monotonic()
    with (
        (out / "worker-stdout.ndjson").open("w") as so,
        (out / "worker-stderr.log").open("w") as se,
    ):
        proc = subprocess.Popen(argv, stdout=so, stderr=se, env=env, cwd=ctx.repo, start_new_session=True)
        try:
            code = proc.wait(timeout=ctx.timeout_s)
        except subprocess.TimeoutExpired:
            code = None
        except BaseException:  # SIGTERM/SIGINT of the kit: no worker is left behind
            _kill(proc)
            raise
        if code is None:
            _kill(proc)
    wall = time.monotonic() - start
    record = {
        "name": step.name,
        "check": step.check,
        "ranks": step.ranks,
        "exit_code": code,
        "timed_out": code is None,
        "wall_s": round(wall, 3),
        "argv": argv,
        "experiment": exp,
        "skipped": None,
        "files": sorted(p.name for p in out.iterdir()),
    }
    ctx.log(f"step {step.name}: exit {code} in {wall:.1f} s; files {record['files']}")
    return record


def _kill(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def skipped(step: Step, reason: str) -> dict[str, Any]:
    return {
        "name": step.name,
        "check": step.check,
        "ranks": step.ranks,
        "exit_code": None,
        "timed_out": False,
        "wall_s": 0.0,
        "argv": None,
        "experiment": None,
        "skipped": reason,
        "files": [],
    }


def rank_files(raw: Path, name: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((raw / name).glob("rank-*.json"))]
