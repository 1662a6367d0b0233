"""A vLLM OpenAI server for the benchmarks: the vLLM venv's, on CPU, pinned, stopped with its whole tree."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
VLLM_PYTHON = REPO / ".joules/vllm-venv/bin/python"
MODEL = REPO / ".joules/models/tiny-llama-wide"  # tiny-llama's head size 16 is refused by vLLM's CPU attention


class VllmServer:
    """``with VllmServer(port, cpus, log, wait_health) as s: s.url``. Prefix caching off, 1 GiB KV cache.
    ``cpus``: the server's CPUs (its OpenMP threads are bound to them too), None = all."""

    def __init__(self, port: int, cpus: set[int] | None, log: Path, wait_health: Callable[[str, float], None]):
        if not VLLM_PYTHON.exists():
            raise SystemExit(f"no vLLM venv at {VLLM_PYTHON.parent.parent} (npm run bootstrap -- --with vllm)")
        self.url = f"http://127.0.0.1:{port}"
        self.model = str(MODEL)
        self.port, self.cpus, self.log, self.wait_health = port, cpus, log, wait_health
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> VllmServer:
        env = {**os.environ, "VLLM_TARGET_DEVICE": "cpu", "VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1"}
        if self.cpus is not None:
            env |= {
                "VLLM_CPU_OMP_THREADS_BIND": ",".join(map(str, sorted(self.cpus))),
                "VLLM_CPU_NUM_OF_RESERVED_CPU": "0",
            }
        cmd = [str(VLLM_PYTHON), "-m", "vllm.entrypoints.openai.api_server", "--model", str(MODEL)]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--dtype", "bfloat16", "--max-model-len", "1024"]
        cmd += ["--no-enable-prefix-caching", "--disable-uvicorn-access-log"]
        cpus = self.cpus
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: the engine-core child goes down with it
                preexec_fn=None if cpus is None else lambda: os.sched_setaffinity(0, cpus),
            )
        try:
            self.wait_health(self.url, 300)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL to whatever is left of it after 15 s."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        for sig, wait_s in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            deadline = time.time() + wait_s
            while time.time() < deadline and self._alive(pgid):
                time.sleep(0.2)
            if not self._alive(pgid):
                break
        self.proc.wait(5)
        self.proc = None

    def _alive(self, pgid: int) -> bool:
        """Whether any process of the group is left (the leader reaped first: a zombie would count)."""
        self.proc.poll()
        try:
            os.killpg(pgid, 0)
            return True
        except ProcessLookupError:
            return False


class Attached:
    """A running vLLM (``--url``); its served model name read from /v1/models."""

    def __init__(self, url: str):
        import urllib.request

        self.url = url.rstrip("/")
        with urllib.request.urlopen(self.url + "/v1/models", timeout=10) as r:
            self.model = json.load(r)["data"][0]["id"]

    def __enter__(self) -> Attached:
        return self

    def __exit__(self, *exc: object) -> None:
        pass
