"""Helpers for running the worker in-process (most tests) or as a subprocess (CLI tests)."""

from __future__ import annotations

import contextlib
import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from joules_worker.config import parse_experiment
from joules_worker.distributed import DistContext
from joules_worker.events import RecordingEmitter


def single_process_ctx() -> DistContext:
    import torch

    return DistContext(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))


def run_in_process(experiment: dict[str, Any], out_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run the transformers engine in this process; returns (rank-0.json content, events)."""
    from joules_worker.engines.transformers.engine import TransformersEngine

    events = RecordingEmitter()
    path = TransformersEngine().run(parse_experiment(experiment), out_dir, events, ctx=single_process_ctx())
    return json.loads(Path(path).read_text()), events.events


def write_config(experiment: dict[str, Any], folder: Path, name: str = "experiment.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(experiment))
    return path


def start_worker(config_path: Path, out_dir: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "joules_worker", "--config", str(config_path), "--output-dir", str(out_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    stdout, stderr = proc.communicate(timeout=timeout)
    return proc.returncode, stdout, stderr


def event_lines(stdout: str) -> list[dict[str, Any]]:
    """Stdout lines that are events (JSON objects with an "event"); other lines are logs."""
    events = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict) and "event" in data:
                events.append(data)
    return events


def schema_errors(validator: Any, instance: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


@contextlib.contextmanager
def http_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded HTTP server on a free local port for the duration: yields its base URL. (Polls
    for shutdown every 20 ms: the standard 0.5 s would be paid at every test's teardown.)"""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
