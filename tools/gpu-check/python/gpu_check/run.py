"""The run itself: build the model, run every step inside the budget (the serving steps behind one
`transformers serve`), bundle the raw files, then measure the references. summary.json is written
once before the references, so the steps' files come back even if the references overrun."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from gpu_check import bundle, serving
from gpu_check import model as model_mod
from gpu_check.gpu_control import check_gpu_control
from gpu_check.log import Log
from gpu_check.machine import REPO, device_record, worker_env
from gpu_check.reference import measure_references
from gpu_check.steps import (
    CPU_IDLE_S,
    CPU_OUTPUT_TOKENS,
    STEPS,
    Context,
    experiment_for,
    free_port,
    load_experiments,
    run_step,
    skipped,
)

RESERVE_S = 60.0  # kept back from --budget-s for the references and the bundle
MIN_STEP_S = 20.0  # a step is not started with less than this left


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


def run_check(args: argparse.Namespace, log: Log, work: Path, summary: dict[str, Any]) -> int:
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
    if args.cpu or args.gpu_control:
        summary["gpu_control"] = check_gpu_control(ctx)
    else:  # it changes the lent GPU's power limit (for a second, restored): only when asked
        why = "not asked: it sets the GPU's power limit for a moment (restored); run with --gpu-control where allowed"
        summary["gpu_control"] = {
            "status": "skipped",
            "message": why,
            "requested_w": None,
            "read_back_w": None,
            "seconds": 0.0,
        }
    g = summary["gpu_control"]
    log(f"gpu control: {g['status']} ({g['message'] or 'set, read back, restored'})")
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
    summary["references"] = measure_references(ctx, log, precision)
    failed = [r["name"] for r in records if r["skipped"] is None and r["exit_code"] != 0]
    summary["failed_steps"] = failed
    return 1 if failed else 0
