"""``python -m gpu_check --out DIR [--cpu]`` (PYTHONPATH=tools/gpu-check/python): the GPU part of
the check (docs/gpu-validation.md). Builds the model, runs every step, measures the references,
writes summary.json, raw-files.jsonl and gpu-check.log into DIR. Exit 0 when every step that ran
succeeded, 1 when one failed (the files are written either way), 2 on bad usage, 3 when this
machine cannot run the check (no CUDA without --cpu)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gpu_check import bundle, reference, serving
from gpu_check import model as model_mod
from gpu_check.steps import (
    ABSENT_ON_GPU_MACHINE,
    CPU_IDLE_S,
    CPU_OUTPUT_TOKENS,
    SITE_DIR,
    STEPS,
    Context,
    experiment_for,
    free_port,
    load_experiments,
    rank_files,
    run_step,
    skipped,
)

REPO = Path(__file__).resolve().parents[4]
SCHEMA = "joules-gpu-check/1"
# Dense bf16 tensor-core peaks (FLOP/s) by device-name substring, first match wins (NVIDIA data sheets).
PEAK_BF16 = (
    ("H200", 989.4e12),
    ("H100 PCIe", 756.0e12),
    ("H100", 989.4e12),
    ("A100", 312.0e12),
    ("L40S", 362.1e12),
)
RESERVE_S = 60.0  # kept back from --budget-s for the references and the bundle
MIN_STEP_S = 20.0  # a step is not started with less than this left
FAKE_DEVICE = {
    "uuid": "GPU-00000000-fake-4c0f-9a3d-gpucheck0001",
    "name": "NVIDIA H200 (fake NVML)",
    "power_w": 300.0,
    "power_limit_w": 700,
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m gpu_check", description=__doc__.splitlines()[0])
    p.add_argument(
        "--out",
        required=True,
        help="folder for summary.json, raw-files.jsonl, gpu-check.log",
    )
    p.add_argument(
        "--cpu",
        action="store_true",
        help="rehearsal: tiny model on CPU, faked NVML (python/tests/fake_pynvml)",
    )
    p.add_argument(
        "--work",
        help="scratch folder (model, configs, caches); default: a temp folder, removed at the end",
    )
    p.add_argument("--step-timeout-s", type=float, default=240.0, help="limit per worker run [240]")
    p.add_argument(
        "--budget-s",
        type=float,
        default=480.0,
        help="the whole run's limit [480]: steps that cannot finish in it are skipped, the files are always written",
    )
    p.add_argument("--only", nargs="*", help="run only these steps (debugging)")
    return p.parse_args(argv)


class Log:
    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.lines: list[str] = []

    def __call__(self, text: str) -> None:
        line = f"[{time.monotonic() - self.t0:7.1f} s] {text}"
        self.lines.append(line)
        print(line, file=sys.stderr, flush=True)


def worker_env(work: Path, cpu: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")}
    paths = [str(REPO / "python")]
    if cpu:
        paths[:0] = [str(SITE_DIR), str(REPO / "python" / "tests" / "fake_pynvml")]
        env["JOULES_GPU_CHECK_ABSENT"] = ",".join(ABSENT_ON_GPU_MACHINE)
        fake = work / "fake-nvml.json"  # indices 0 and 1 are the same device: the two-ranks step shares it
        fake.write_text(json.dumps({"devices": [FAKE_DEVICE, FAKE_DEVICE], "t0": time.time()}))
        env.update(FAKE_PYNVML_CONFIG=str(fake), JOULES_WORKER_CPU_WITH_GPU_IDS="1")
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


def start_server(
    ctx: Context,
    step: Any,
    experiments: dict[str, Any],
    timeout_s: float,
    summary: dict[str, Any],
) -> tuple[serving.Server | None, str | None]:
    """Start `transformers serve` for the serving steps; (server, None) or (None, why not)."""
    ctx.server_port = free_port()
    exp = experiment_for(step, experiments, ctx)
    server = serving.Server(exp["server"]["command"], ctx.env, ctx.raw / step.name / "server.log")
    try:
        ready_s = server.start(exp["server"]["url"], timeout_s)
    except RuntimeError as e:
        server.stop()
        return None, f"the server did not start: {e}"
    summary["server"] = {"argv": server.argv(), "ready_s": round(ready_s, 3)}
    ctx.log(f"transformers serve ready in {ready_s:.1f} s: {' '.join(server.argv())}")
    return server, None


def references(ctx: Context, log: Log, precision: str) -> dict[str, Any]:
    """Memory references for the batch sweep, the FLOPs reference for batch-8."""
    import torch

    device = "cpu" if ctx.cpu else "cuda:0"
    start = time.monotonic()
    model, tokenizer = reference.load(ctx.model_dir, precision, device)
    refs: dict[str, Any] = {
        "memory": {},
        "flops": None,
        "load_s": round(time.monotonic() - start, 3),
    }
    for name in ("batch-1", "batch-8", "batch-32", "batch-64"):
        ranks = rank_files(ctx.raw, name)
        if ranks and ranks[0]["batches"]:
            refs["memory"][name] = reference.peak_memory(model, tokenizer, ranks[0]["batches"])
            log(f"reference memory {name}: {refs['memory'][name]['peak_bytes']}")
    ranks = rank_files(ctx.raw, "batch-8")
    if ranks and ranks[0]["batches"]:
        refs["flops"] = {
            "experiment": "batch-8",
            **reference.flops(model, tokenizer, ranks[0]["batches"]),
        }
        log(f"reference FLOPs batch-8: {refs['flops']['total']:.4g} in {refs['flops']['seconds']:.1f} s")
    refs["seconds"] = round(time.monotonic() - start, 3)
    del model
    if not ctx.cpu:
        torch.cuda.empty_cache()
    return refs


def _terminate(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    for key in (
        "HF_HUB_OFFLINE",
        "TRANSFORMERS_OFFLINE",
        "HF_DATASETS_OFFLINE",
    ):  # no network on the GPU machine
        os.environ.setdefault(key, "1")
    log = Log()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        print(
            f"--out {out}: the folder is not empty (at most 8 files come back: use an empty one)",
            file=sys.stderr,
        )
        return 2
    signal.signal(signal.SIGTERM, _terminate)  # the files are still written, no worker is left
    import torch

    if not args.cpu and not torch.cuda.is_available():
        print(
            "no CUDA GPU on this machine: the GPU check needs one (use --cpu for the rehearsal)",
            file=sys.stderr,
        )
        return 3
    work = Path(args.work).resolve() if args.work else Path(tempfile.mkdtemp(prefix="joules-gpu-check-"))
    work.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {
        "schema": SCHEMA,
        "mode": "cpu" if args.cpu else "gpu",
        "started_unix_s": time.time(),
    }
    code = 1
    try:
        code = _run(args, log, work, summary)
    except Exception:  # noqa: BLE001 - reported in summary.json, the raw files still bundled
        summary["error"] = traceback.format_exc()
        log(f"the kit failed:\n{summary['error']}")
        if (work / "raw").is_dir():
            summary["bundle"] = bundle.write_raw_bundle(work / "raw", out)
    finally:
        summary["wall_s"] = round(time.monotonic() - log.t0, 3)
        log(f"done in {summary['wall_s']:.1f} s")
        bundle.write_summary(out, summary)
        (out / bundle.LOG).write_text("\n".join(log.lines) + "\n")
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return code


def _run(args: argparse.Namespace, log: Log, work: Path, summary: dict[str, Any]) -> int:
    experiments = load_experiments(REPO)
    summary["experiments_generated_by"] = experiments.get("generated_by")
    summary["device"] = device_record(args.cpu)
    summary["cpu_overrides"] = (
        f"{CPU_OUTPUT_TOKENS} generated tokens, two batches per step, idle baseline {CPU_IDLE_S:g} s"
        if args.cpu
        else None
    )
    shape, device = ("tiny", "cpu") if args.cpu else ("1b", "cuda:0")
    precision = experiments["experiments"]["energy"]["precision"]
    start = time.monotonic()
    built = model_mod.build_model(work / "model", shape, device, precision, REPO)
    built["build_s"] = round(time.monotonic() - start, 3)
    summary["model"] = built
    summary["model_1b_parameters"] = model_mod.count_parameters("1b", REPO)
    log(f"model {shape}: {built['num_parameters']} parameters, built in {built['build_s']:.1f} s")
    raw = work / "raw"
    ctx = Context(
        REPO,
        work,
        raw,
        args.cpu,
        built["path"],
        worker_env(work, args.cpu),
        args.step_timeout_s,
        log,
    )
    serving_reason = serving.unavailable_reason(REPO)
    server: serving.Server | None = None
    records = []
    try:
        for step in STEPS:
            if args.only and step.name not in args.only:
                continue
            left = args.budget_s - RESERVE_S - (time.monotonic() - log.t0)
            reason = serving_reason if step.serving else None
            if reason is None and left < MIN_STEP_S:
                reason = f"out of time: {left:.0f} s of the {args.budget_s:.0f} s budget left after the reserve for the references"
            if reason is None and step.serving and server is None:
                server, reason = start_server(ctx, step, experiments["experiments"], min(left, 300.0), summary)
            if reason:
                records.append(skipped(step, reason))
                log(f"step {step.name}: skipped: {reason}")
                continue
            ctx.timeout_s = min(args.step_timeout_s, left)
            records.append(run_step(step, experiments["experiments"], ctx))
    finally:
        if server is not None:
            server.stop()
    summary["steps"] = records
    out = Path(args.out).resolve()
    # Written now and again at the end: if the references overrun the command's limit, the steps' files are back.
    summary["references"] = {
        "memory": {},
        "flops": None,
        "seconds": 0.0,
        "pending": True,
    }
    summary["failed_steps"] = [r["name"] for r in records if r["skipped"] is None and r["exit_code"] != 0]
    summary["bundle"] = bundle.write_raw_bundle(raw, out)
    summary["wall_s"] = round(time.monotonic() - log.t0, 3)
    bundle.write_summary(out, summary)
    summary["references"] = references(ctx, log, precision)
    failed = [r["name"] for r in records if r["skipped"] is None and r["exit_code"] != 0]
    summary["failed_steps"] = failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
