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
and others' share of the server's CPU in each run (the host is shared: say it beside the figures).
``--wire`` (root) times the requests from the kernel's packet timestamps too (``wire_tap.py``): a
client's mean TTFT minus the wire's is that client's own share of it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import vllm_figures as figs  # noqa: E402
from agreement import cpu_split  # noqa: E402
from load_generator import free_port, wait_health  # noqa: E402
from vllm_runs import run_joules, run_vllm, select_prompts  # noqa: E402
from vllm_server import Attached, VllmClient, VllmServer, cpu_busy_s  # noqa: E402
from wire_tap import WireTap, available  # noqa: E402

VLLM_CHUNK = '"text":"'  # a completions chunk with a token (its text may be empty); not the usage chunk
PROMPTS_FILE = HERE.parent.parent.parent / "shared/data/aienergyscore_text_generation.jsonl"


def wire_check(ttfts: list[float], wire: list[dict]) -> dict | str:
    """The client's mean TTFT (from its call) minus the wire's (from the POST's first packet to the
    first packet with a chunk of output), ms: the client's own share of its TTFT."""
    w = [x["ttft"] for x in wire if x["ttft"] is not None]
    if len(w) != len(ttfts):
        return f"the tap saw {len(w)} whole requests for {len(ttfts)} sent"
    client, on_wire = sum(ttfts) / len(ttfts) * 1000, sum(w) / len(w) * 1000
    return {"client_ms": client, "wire_ms": on_wire, "minus_wire_ms": client - on_wire}


def measure(s: dict, runs: int, prompts: list[str], dataset: Path, server, client, server_cpus, out: Path, wire: bool):
    """``runs`` rounds of setting ``s``, each a run of both clients (A B, then B A); adds ``runs`` and
    ``median`` to ``s``. With ``wire``, each run's mean TTFT is checked against a tap on the loopback."""
    tap = wire and isinstance(server, VllmServer)
    s["runs"] = []
    for k in range(runs):
        for who in ("joules", "vllm") if k % 2 == 0 else ("vllm", "joules"):
            time.sleep(1.0)
            load0, t0 = os.getloadavg()[0], time.time()
            busy0, own0 = cpu_busy_s(server_cpus), server.cpu_s()
            with WireTap(server.port, server_cpus, VLLM_CHUNK) if tap else contextlib.nullcontext() as t:
                if who == "joules":
                    r = run_joules(s, prompts, server)
                else:
                    r = run_vllm(s, dataset, len(prompts), server, client, out)
            ttfts = r.pop("ttfts_s")
            if t is not None:
                r["ttft_wire"] = wire_check(ttfts, t.requests_by_connection())
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


def conditions(todo: list[dict], runs: int, n: int, server_cpus, client_cpus) -> str:
    """The run count, the host's load and, where checked, each client's TTFT minus the wire's."""
    all_runs = [r for s in todo for r in s["runs"]]
    loads = [r[k] for r in all_runs for k in ("load_before", "load_after")]
    others = sorted(r["others_on_server_cpu_share"] for r in all_runs if "others_on_server_cpu_share" in r)
    text = (
        f"{runs} runs of each client per setting, {n} requests each, alternating; host 1-minute load "
        f"{min(loads):.2f}–{max(loads):.2f}; server CPUs {server_cpus}, clients {client_cpus}; niceness {os.nice(0)}"
    )
    if others:
        text += f"; others' share of the server's CPU {others[0]:.0%}–{others[-1]:.0%} (median {others[len(others) // 2]:.0%})"
    return text + "."


def wire_table(todo: list[dict]) -> str:
    """Per setting and client, the median over runs of its mean TTFT minus the wire's mean TTFT."""
    lines = ["Mean TTFT minus the wire's (ms, median over runs [range])", "", "| load | Joules | vllm bench serve |"]
    lines.append("|---|---|---|")
    for s in todo:
        cells = []
        for who in ("joules", "vllm"):
            d = sorted(
                r["ttft_wire"]["minus_wire_ms"]
                for r in s["runs"]
                if r["client"] == who and isinstance(r.get("ttft_wire"), dict)
            )
            cells.append(f"{statistics.median(d):.2f} [{d[0]:.2f}–{d[-1]:.2f}]" if d else "—")
        lines.append(f"| {s['name']} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


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
    ap.add_argument("--wire", action="store_true", help="check both clients' mean TTFT against the wire (root)")
    ap.add_argument("--nice", type=int, default=0, help="niceness of this process, the server and vLLM's client")
    args = ap.parse_args()
    if args.wire and (why := available()) is not None:
        raise SystemExit(f"--wire: {why}")
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
                measure(s, args.runs, prompts, dataset, server, client, server_cpus, args.out, args.wire)
        finally:
            client.close()
    md = "\n\n".join(
        [
            figs.table(todo, "vllm_defs", "Same definitions (vLLM's)"),
            figs.table(todo, "joules_defs", "Joules' own definitions (what a row carries)"),
            conditions(todo, args.runs, len(prompts), server_cpus, client_cpus),
        ]
        + ([wire_table(todo)] if args.wire else [])
    )
    (args.out / "agreement.json").write_text(
        json.dumps({"settings": todo, "cpus": [server_cpus, client_cpus]}, default=sorted, indent=1)
    )
    (args.out / "agreement.md").write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
