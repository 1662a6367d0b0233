"""``python -m gpu_check --out DIR [--cpu]`` (PYTHONPATH=tools/gpu-check/python): the GPU part of
the check (docs/gpu-validation.md). Builds the model, runs every step, measures the references,
writes summary.json, raw-files.jsonl and gpu-check.log into DIR. Exit 0 when every step that ran
succeeded, 1 when one failed (the files are written either way), 2 on bad usage, 3 when this
machine cannot run the check (no CUDA without --cpu)."""

from __future__ import annotations

import argparse
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

from gpu_check import bundle
from gpu_check.log import Log
from gpu_check.run import run_check

SCHEMA = "joules-gpu-check/1"


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
    p.add_argument(
        "--gpu-control",
        action="store_true",
        help="also run the GPU guard step: it sets GPU 0's power limit for a moment, then restores it (always on with --cpu)",
    )
    return p.parse_args(argv)


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
        code = run_check(args, log, work, summary)
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


if __name__ == "__main__":
    sys.exit(main())
