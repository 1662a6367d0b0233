"""Step 6 (optional): ``transformers serve`` at concurrency 1 and 16, through the worker's serving
engine (``engine: server``). Without Node there is no Joules launcher to start the server, so the
kit does what packages/launcher/src/server does: fills the command's {model} {host} {port}, starts
it, waits for /health, hands the worker ``server.url`` and ``server.devices`` (= gpu_ids), and stops
it after both steps. Skipped, with the reason, when the worker has no serving engine or the server's
packages are not importable (the GPU machine lacks them unless wheels travel: wheels.txt)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

# What `transformers serve` imports at start (transformers[serving] + requests), and aiohttp (the engine's client).
SERVER_MODULES = ("fastapi", "uvicorn", "pydantic", "openai", "requests", "aiohttp")
ENGINE_FILE = Path("python") / "joules_worker" / "engines" / "server" / "engine.py"
HOST = "127.0.0.1"
# On CPU, continuous batching sizes its KV cache from free memory (~21 GB here) unless bounded.
CPU_SERVER_FLAGS = [
    "--cb-num-blocks",
    "128",
    "--cb-block-size",
    "32",
    "--cb-max-batch-tokens",
    "512",
]


def unavailable_reason(repo: Path) -> str | None:
    """None when the serving steps can run here; else why not."""
    if not (repo / ENGINE_FILE).is_file():
        return f"the worker has no serving engine yet ({ENGINE_FILE} is missing)"
    missing = [m for m in SERVER_MODULES if not _importable(m)]
    if missing:
        return f"transformers serve needs {', '.join(missing)}: not importable here (carry the wheels in tools/gpu-check/wheels.txt)"
    return None


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def fill(exp: dict[str, Any], model_dir: str, port: int, cpu: bool) -> dict[str, Any]:
    """The experiment as the TS launcher hands it to the worker: command filled, url and devices set."""
    server = dict(exp["server"])
    values = {"{model}": model_dir, "{host}": HOST, "{port}": str(port)}
    command = [values.get(part, part) for part in server["command"]]
    if cpu:
        command = [
            "cpu" if prev == "--device" else part for prev, part in zip(["", *command], command, strict=False)
        ] + CPU_SERVER_FLAGS
    server.update(command=command, url=f"http://{HOST}:{port}", devices=list(exp["gpu_ids"]))
    return {**exp, "server": server}


class Server:
    """One ``transformers serve`` for both serving steps; its log lands in ``log_path``."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.command = command
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def argv(self) -> list[str]:
        first, *rest = self.command
        if first == "transformers":  # the console script of this Python's transformers
            return [sys.executable, "-m", "transformers.cli.transformers", *rest]
        return self.command

    def start(self, url: str, timeout_s: float) -> float:
        """Start and wait for /health; returns the seconds it took."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        start = time.monotonic()
        self.proc = subprocess.Popen(
            self.argv(),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
        )
        log.close()
        while time.monotonic() - start < timeout_s:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"transformers serve exited {self.proc.returncode} before it was ready (see {self.log_path.name})"
                )
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{url}/health", timeout=2) as r,
            ):
                if r.status == 200:
                    return time.monotonic() - start
            time.sleep(0.5)
        raise RuntimeError(f"transformers serve not ready after {timeout_s:.0f} s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
