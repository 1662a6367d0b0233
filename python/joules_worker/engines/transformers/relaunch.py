"""Run a multi-process experiment started bare: re-execute under ``accelerate launch``.

``python -m joules_worker`` without RANK/WORLD_SIZE in its environment, for an experiment with
``num_processes > 1``, starts ``accelerate launch`` with the flags the TypeScript launcher uses
(``packages/launcher/src/command-lines.ts``), waits, and exits with its exit code. accelerate
turns every child's failure into 1, so when it fails the code of the lowest rank's
``error-rank-<r>.json`` kind is returned instead (the launcher classifies from those files too).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from joules_worker.config import ExperimentConfig
from joules_worker.errors import ERRORS_BY_KIND

logger = logging.getLogger(__name__)

MIXED_PRECISION = {"fp32": "no", "fp16": "fp16", "bf16": "bf16"}


def needs_relaunch(config: ExperimentConfig, environ: dict[str, str] | os._Environ = os.environ) -> bool:
    return config.num_processes > 1 and "RANK" not in environ and "WORLD_SIZE" not in environ


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def accelerate_command(
    config: ExperimentConfig, config_path: str, output_dir: str, port: int
) -> tuple[list[str], dict[str, str]]:
    """(argv, extra environment) of ``accelerate launch`` for this experiment."""
    n = config.num_processes
    on_gpu = bool(config.gpu_ids)
    args = [sys.executable, "-m", "accelerate.commands.launch"]
    if n > 1:
        args.append("--multi_gpu")
    elif not on_gpu:
        args.append("--cpu")
    args += ["--num_processes", str(n), "--num_machines", "1"]
    if on_gpu:
        args += ["--gpu_ids", ",".join(str(i) for i in config.gpu_ids[:n])]
    args += ["--mixed_precision", MIXED_PRECISION[config.precision] if on_gpu else "no", "--dynamo_backend", "no"]
    args += ["--main_process_port", str(port)]
    args += ["-m", "joules_worker", "--config", config_path, "--output-dir", output_dir]
    # CUDA numbers GPUs fastest-first by default; gpu_ids are NVML / nvidia-smi (PCI bus) indices.
    extra = {"CUDA_DEVICE_ORDER": "PCI_BUS_ID"}
    if not on_gpu:
        extra["ACCELERATE_USE_CPU"] = "true"
    return args, extra


def relaunch(config: ExperimentConfig, config_path: str, output_dir: str) -> int:
    args, extra_env = accelerate_command(
        config, str(Path(config_path).resolve()), str(Path(output_dir).resolve()), free_port()
    )
    logger.info("num_processes=%d: relaunching under accelerate: %s", config.num_processes, " ".join(args))
    proc = subprocess.Popen(args, env={**os.environ, **extra_env}, start_new_session=True)

    def forward(signum: int, _frame: Any) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = proc.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return code if code == 0 else failure_code(Path(output_dir), code)


def failure_code(output_dir: Path, fallback: int) -> int:
    """The exit code of the lowest rank's error file, or ``fallback`` when there is none."""
    files = sorted(output_dir.glob("error-rank-*.json"), key=lambda p: _rank_of(p))
    for path in files:
        try:
            kind = json.loads(path.read_text()).get("kind")
        except (OSError, ValueError):
            continue
        if kind in ERRORS_BY_KIND:
            return ERRORS_BY_KIND[kind].exit_code
    return fallback


def _rank_of(path: Path) -> int:
    try:
        return int(path.stem.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 1 << 30
