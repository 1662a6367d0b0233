"""A public trace replayed against the real vLLM (the session's server): a Mooncake JSONL and an Azure
CSV made here, each arrival sent at its offset with a prompt of exactly its input length as vLLM
counts it (trace_prompts.py: synthetic, cut from the dataset's text; one clipped to
max_input_tokens) and held to its output length (min_tokens, lengths.enforce auto). The requests make
EOS the likeliest token (logit_bias), so only a held answer reaches its length."""

from __future__ import annotations

import json
from pathlib import Path

from _fake_openai import serving_config
from _vllm import MODEL, VLLM_MARKS

from joules_worker.engines import engine_for
from joules_worker.events import EventEmitter

pytestmark = VLLM_MARKS
EOS_FIRST = {"logit_bias": {"2": 100}}
# (offset ms, input tokens, output tokens); the last asks for more than max_input_tokens (256)
ARRIVALS = [(0, 40, 8), (50, 130, 4), (50, 17, 12), (120, 250, 6), (200, 64, 9), (260, 900, 5)]


def replay(url: str, out: Path, trace: Path, fmt: str) -> tuple[dict, list[dict]]:
    config = serving_config(
        MODEL,
        url,
        pattern="trace",
        concurrency=None,
        num_requests=None,
        trace_file=str(trace),
        trace_format=fmt,
        warmup_requests=1,
        server__extra_body=EOS_FIRST,
        top__max_input_tokens=256,
        top__max_output_tokens=16,
        energy__measure_power_secs=0.05,
    )
    engine_for("server").run(config, out, EventEmitter(rank=0))
    requests = [json.loads(x) for x in (out / "requests-rank-0.jsonl").read_text().splitlines()]
    return json.loads((out / "serving-rank-0.json").read_text()), requests


def test_mooncake_and_azure_traces_replay_their_lengths_and_offsets(tmp_path, vllm_url) -> None:
    mooncake = tmp_path / "mooncake.jsonl"
    mooncake.write_text(
        "".join(
            json.dumps({"timestamp": 5000 + t, "input_length": i, "output_length": o, "hash_ids": [k]}) + "\n"
            for k, (t, i, o) in enumerate(ARRIVALS)
        )
    )
    azure = tmp_path / "azure.csv"
    azure.write_text(
        "TIMESTAMP,ContextTokens,GeneratedTokens\n"
        + "".join(f"2023-11-16 18:15:{46 + t / 1000:09.6f}0,{i},{o}\n" for t, i, o in ARRIVALS)
    )
    for name, trace, fmt in (("mooncake", mooncake, "auto"), ("azure", azure, "azure")):
        summary, requests = replay(vllm_url, tmp_path / name, trace, fmt)
        assert summary["num_errors"] == 0 and len(requests) == len(ARRIVALS), name
        got = [(r["scheduled_s"], r["input_tokens"], r["output_tokens"]) for r in requests]
        want = [(t / 1000, min(i, 256), o) for t, i, o in ARRIVALS]
        assert [(round(s, 6), i, o) for s, i, o in got] == [(round(s, 6), i, o) for s, i, o in want], name
        assert summary["lengths"]["output_length_enforced"] == "min_tokens", name
