#!/usr/bin/env python3
"""Do Joules' serving figures agree with `vllm bench serve` on the same vLLM server? (issue 22)

    python/.venv/bin/python python/bench/vllm_agreement.py [--runs 3] [--requests 200] [--out DIR]

One vLLM (``.joules/vllm-venv``, the tiny-llama-wide model, prefix caching off) on the last CPU; the
clients on the others. Per load setting (closed loop at concurrency 1, 4, 16 and Poisson at two rates),
Joules' load generator (``joules_worker.engines.server.load_generator``, the engine's code) and
`vllm bench serve` (``vllm_bench_client.py`` in the vLLM venv) take turns, A B then B A, ``--runs``
times each, with the same prompts (``{"prompt": ...}`` JSONL, ``--skip-chat-template``), 32 output
tokens with ``ignore_eos`` and ``repetition_penalty`` 1.0 (as vLLM's client pins it), and for Poisson
the same arrival times (vLLM's own schedule: numpy's seeded gamma draws, rescaled to N/rate). Each run
is reduced to six figures (``vllm_figures.py``); the medians over runs and their ratios go to
``agreement.md`` and all runs to ``agreement.json`` under ``--out``, with the 1-minute load of the host
before and after each run (the host is shared: say it beside the figures).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import vllm_figures as figs  # noqa: E402
from agreement import cpu_split  # noqa: E402
from load_generator import free_port, wait_health  # noqa: E402
from vllm_server import MODEL, Attached, VllmClient, VllmServer, cpu_busy_s  # noqa: E402

from joules_worker.engines.server import load_generator as lg  # noqa: E402
from joules_worker.engines.server.http_stream import RequestRecord  # noqa: E402
from joules_worker.engines.server.load_patterns import Arrival  # noqa: E402
from joules_worker.engines.server.request_fields import body_fields  # noqa: E402

OUTPUT_TOKENS = 32
# What the engine sends a vLLM for a greedy experiment (server.dialect vllm), plus ignore_eos; vLLM's
# client gets the same fields (--extra-body), so that both send the same requests.
FIELDS = body_fields("vllm", SimpleNamespace(mode="greedy", temperature=None, top_p=None, top_k=None), 0)
EXTRA = {"ignore_eos": True}
PROMPTS_FILE = HERE.parent.parent.parent / "shared/data/aienergyscore_text_generation.jsonl"


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
    return {"vllm": figs.from_vllm_result(res), "chunks_per_request_mean": sum(chunks) / len(chunks)}


def measure(s: dict, runs: int, prompts: list[str], dataset: Path, server, client, server_cpus, out: Path) -> None:
    """``runs`` rounds of setting ``s``, each a run of both clients (A B, then B A); adds ``runs`` and
    ``median`` to ``s``."""
    s["runs"] = []
    for k in range(runs):
        for who in ("joules", "vllm") if k % 2 == 0 else ("vllm", "joules"):
            time.sleep(1.0)
            load0, t0 = os.getloadavg()[0], time.time()
            busy0, own0 = cpu_busy_s(server_cpus), server.cpu_s()
            if who == "joules":
                r = run_joules(s, prompts, server)
            else:
                r = run_vllm(s, dataset, len(prompts), server, client, out)
            wall = time.time() - t0
            r.update(client=who, round=k, load_before=load0, load_after=os.getloadavg()[0], wall_s=wall)
            if own0 is not None and server_cpus is not None:  # others' use of the server's CPU
                others = cpu_busy_s(server_cpus) - busy0 - (server.cpu_s() - own0)
                r["others_on_server_cpu_share"] = max(others, 0.0) / wall / len(server_cpus)
            s["runs"].append(r)
            print(f"[agreement] {s['name']} round {k} {who}: load {load0:.2f}", file=sys.stderr)
    s["median"] = {
        key: figs.medians([r[key] for r in s["runs"] if key in r]) for key in ("vllm_defs", "joules_defs", "vllm")
    }


def settings(concurrency: list[int], rates: list[float]) -> list[dict]:
    out = [{"name": f"closed loop, concurrency {c}", "concurrency": c, "rate": None} for c in concurrency]
    out += [{"name": f"Poisson {r:g} req/s", "concurrency": None, "rate": r, "seed": 0} for r in rates]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="runs of each client per setting (alternating)")
    ap.add_argument("--requests", type=int, default=200, help="requests per run (distinct prompts)")
    ap.add_argument("--concurrency", default="1,4,16")
    ap.add_argument("--rates", default="10,20", help="Poisson rates, requests/s")
    ap.add_argument("--max-input-tokens", type=int, default=256)
    ap.add_argument("--prompts-file", type=Path, default=PROMPTS_FILE)
    ap.add_argument("--out", type=Path, default=Path("/tmp/joules-vllm-agreement"))
    ap.add_argument("--url", help="attach to a running vLLM (prefix caching off) instead of starting one")
    ap.add_argument("--nice", type=int, default=0, help="niceness of this process, the server and vLLM's client")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.nice:
        os.nice(args.nice)  # inherited by the server and the clients this process starts
    prompts = select_prompts(args.prompts_file, args.requests, args.max_input_tokens)
    dataset = args.out / "prompts.jsonl"
    dataset.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in prompts))
    todo = settings([int(c) for c in args.concurrency.split(",") if c], [float(r) for r in args.rates.split(",") if r])
    split = cpu_split()
    server_cpus, client_cpus = (None, None) if split is None else split
    server = (
        Attached(args.url)
        if args.url
        else VllmServer(free_port(), server_cpus, args.out / "vllm-server.log", wait_health)
    )
    with server:
        if client_cpus is not None:
            os.sched_setaffinity(0, client_cpus)  # the vLLM client's process inherits it
        client = VllmClient(args.out / "vllm-bench.log")
        try:
            warm = {"name": "warm-up", "concurrency": 4, "rate": None}
            run_joules(warm, prompts[:16], server)
            run_vllm(warm, dataset, 16, server, client, args.out)
            for s in todo:
                measure(s, args.runs, prompts, dataset, server, client, server_cpus, args.out)
        finally:
            client.close()
    loads = [r[k] for s in todo for r in s["runs"] for k in ("load_before", "load_after")]
    others = sorted(
        r["others_on_server_cpu_share"] for s in todo for r in s["runs"] if "others_on_server_cpu_share" in r
    )
    shared = (
        f"; others' share of the server's CPU {others[0]:.0%}–{others[-1]:.0%} (median {others[len(others) // 2]:.0%})"
        if others
        else ""
    )
    md = "\n\n".join(
        [
            figs.table(todo, "vllm_defs", "Same definitions (vLLM's)"),
            figs.table(todo, "joules_defs", "Joules' own definitions (what a row carries)"),
            f"{args.runs} runs of each client per setting, {len(prompts)} requests each, alternating; "
            f"host 1-minute load {min(loads):.2f}–{max(loads):.2f}; server CPUs {server_cpus}, clients {client_cpus}; "
            f"niceness {os.nice(0)}{shared}.",
        ]
    )
    (args.out / "agreement.json").write_text(
        json.dumps({"settings": todo, "cpus": [server_cpus, client_cpus]}, default=sorted, indent=1)
    )
    (args.out / "agreement.md").write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
