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


def cpu_busy_s(cpus: set[int] | None) -> float:
    """Seconds the given CPUs (all, for None) spent busy since boot, from /proc/stat."""
    total = 0.0
    with open("/proc/stat") as f:
        for line in f:
            name, *vals = line.split()
            if name.startswith("cpu") and name != "cpu" and (cpus is None or int(name[3:]) in cpus):
                user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, vals[:8])
                total += user + nice + system + irq + softirq + steal
    return total / os.sysconf("SC_CLK_TCK")


def group_cpu_s(pgid: int) -> float:
    """CPU seconds of the live processes of process group ``pgid`` and their waited-for children."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # pgrp
            total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


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

    def cpu_s(self) -> float | None:
        """The CPU seconds the server's tree has used."""
        return None if self.proc is None else group_cpu_s(self.proc.pid)

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

    def cpu_s(self) -> float | None:
        return None


class VllmClient:
    """One ``vllm_bench_client.py --serve`` process (vLLM imported once): ``bench(argv, out)`` runs
    ``vllm bench serve`` with ``argv`` and writes its result to ``out``. Its output goes to ``log``."""

    def __init__(self, log: Path):
        self.log = open(log, "w")  # noqa: SIM115 (closed in close())
        script = Path(__file__).resolve().parent / "vllm_bench_client.py"
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        self.proc = subprocess.Popen(
            [str(VLLM_PYTHON), str(script), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
            text=True,
        )
        self._answer()

    def _answer(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the vLLM client exited {self.proc.wait()}; see {self.log.name}")
        return json.loads(line)

    def bench(self, argv: list[str], out: Path) -> None:
        self.proc.stdin.write(json.dumps({"argv": argv, "result_json": str(out)}) + "\n")
        self.proc.stdin.flush()
        answer = self._answer()
        if answer["rc"] != 0:
            raise RuntimeError(f"vllm bench serve failed: {answer.get('error')}; see {self.log.name}")

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(30)
        self.log.close()
