"""One run of each client of the agreement benchmark (``vllm_agreement.py``) against a vLLM, reduced
to its figures (``vllm_figures.py``): Joules' load generator in this process, `vllm bench serve` in a
``VllmClient`` process. Both send the same requests: the body the engine sends a vLLM for a greedy
experiment (``server.dialect: vllm``) plus ``ignore_eos``, to vLLM's client as ``--extra-body``.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from types import SimpleNamespace

import vllm_figures as figs
from vllm_server import MODEL, Attached, VllmClient, VllmServer

from joules_worker.engines.server import load_generator as lg
from joules_worker.engines.server.http_stream import RequestRecord
from joules_worker.engines.server.load_patterns import Arrival
from joules_worker.engines.server.request_fields import body_fields

OUTPUT_TOKENS = 32
# What the engine sends a vLLM for a greedy experiment (server.dialect vllm), plus ignore_eos; vLLM's
# client gets the same fields (--extra-body), so that both send the same requests.
FIELDS = body_fields("vllm", SimpleNamespace(mode="greedy", temperature=None, top_p=None, top_k=None), 0)
EXTRA = {"ignore_eos": True}


class CallStamped(RequestRecord):
    """A record that keeps the ``send_unix_s`` it is built with (when ``send_request`` is called, before
    the body is built) as ``call_unix_s``: where vLLM's client starts a request's clock. The load
    generator later restamps ``send_unix_s`` at the socket write (its own definition)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.call_unix_s = self.send_unix_s


lg.RequestRecord = CallStamped  # send_request builds its records from this name


def select_prompts(path: Path, n: int, max_tokens: int) -> list[str]:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(MODEL))
    out = []
    with open(path) as f:
        for line in f:
            p = json.loads(line).get("prompt")
            if p and len(tok(p)["input_ids"]) <= max_tokens:
                out.append(p)
                if len(out) == n:
                    return out
    raise SystemExit(f"{path}: only {len(out)} prompts of at most {max_tokens} tokens, {n} wanted")


def vllm_schedule(rate: float, n: int, seed: int) -> list[float]:
    """vLLM's Poisson send offsets for ``--request-rate rate --seed seed`` (serve.py get_request)."""
    import numpy as np

    np.random.seed(seed)
    delays = np.cumsum([np.random.gamma(shape=1.0, scale=1.0 / rate) for _ in range(n)])
    return [float(d) for d in delays * (n / rate / delays[-1])]


def run_joules(setting: dict, prompts: list[str], server: VllmServer | Attached) -> dict:
    target = lg.Target(server.url, "completions", server.model, EXTRA, 120.0, fields=FIELDS, dialect="vllm")

    def request_for(i: int, _a: Arrival | None) -> tuple[str, int]:
        return prompts[i], OUTPUT_TOKENS

    c0 = time.process_time()
    if setting["rate"] is None:
        start, recs = asyncio.run(lg.closed_loop(target, request_for, setting["concurrency"], len(prompts), None))
    else:
        offsets = vllm_schedule(setting["rate"], len(prompts), setting["seed"])
        start, recs = asyncio.run(lg.open_loop(target, request_for, [Arrival(t) for t in offsets]))
    cpu = time.process_time() - c0
    errors = [r.error for r in recs if not r.ok]
    if errors:
        raise RuntimeError(f"{len(errors)} of Joules' requests failed: {errors[:2]}")
    window = max(r.end_unix_s for r in recs) - start
    return {
        "ttfts_s": [r.first_token_unix_s - r.call_unix_s for r in recs],  # for the wire check; not kept
        "vllm_defs": figs.vllm_defs(recs, window),
        "joules_defs": figs.joules_defs(recs, window),
        "client_cpu_s": cpu,
        "send_stamp_after_call_ms_mean": 1000 * sum(r.send_unix_s - r.call_unix_s for r in recs) / len(recs),
        "end_after_last_chunk_ms_mean": 1000 * sum(r.end_unix_s - figs.last_chunk(r) for r in recs) / len(recs),
        "chunks_per_request_mean": sum(len(figs.chunk_gaps(r)) + 1 for r in recs) / len(recs),
        "itl_per_request_mean": sum(len(r.itl_s) for r in recs) / len(recs),
        "itl_source": sorted({str(getattr(r, "itl_source", None)) for r in recs}),
    }


def run_vllm(
    setting: dict, dataset: Path, n: int, server: VllmServer | Attached, client: VllmClient, tmp: Path
) -> dict:
    out = tmp / "vllm-result.json"
    cmd = ["--backend", "openai", "--base-url", server.url, "--model", str(MODEL), "--served-model-name", server.model]
    cmd += ["--dataset-name", "custom", "--extra-body", json.dumps(FIELDS | EXTRA)]
    cmd += ["--dataset-path", str(dataset), "--num-prompts", str(n), "--custom-output-len", str(OUTPUT_TOKENS)]
    cmd += ["--skip-chat-template", "--ignore-eos", "--disable-shuffle", "--disable-tqdm", "--save-detailed"]
    cmd += ["--percentile-metrics", "ttft,tpot,itl,e2el", "--metric-percentiles", "99"]
    if setting["rate"] is None:
        cmd += ["--max-concurrency", str(setting["concurrency"]), "--request-rate", "inf"]
    else:
        cmd += ["--request-rate", str(setting["rate"]), "--seed", str(setting["seed"])]
    client.bench(cmd, out)
    res = json.loads(out.read_text())
    if res["failed"]:
        raise RuntimeError(f"vllm bench serve: {res['failed']} requests failed: {res['errors'][:2]}")
    chunks = [len(g) + 1 for g in res["itls"]]
    return {
        "ttfts_s": res["ttfts"],
        "vllm": figs.from_vllm_result(res),
        "chunks_per_request_mean": sum(chunks) / len(chunks),
    }
