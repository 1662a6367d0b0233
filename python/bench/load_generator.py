#!/usr/bin/env python3
"""Is the serving engine's load generator ever the bottleneck? (prints one JSON object)

    python/.venv/bin/python python/bench/load_generator.py [--requests 6000] [--skip-real]

1. ``capacity``: closed loop, 128 users, against an instant-reply local server (Node's http module,
   its own process: one SSE chunk, a finish_reason chunk, usage): requests/s sustained, and requests
   per second of the load generator's own CPU time (what it would sustain on a free core: on a small
   busy host the server and other processes take the rest).
2. ``poisson_200``: 200 requests/s Poisson (seeded) against the same server: send time minus
   scheduled time, p50/p99/max in ms; ``host_floor_ms``: the same schedule kept by a bare asyncio
   loop that sends nothing (the host's own wake-up jitter, for comparison).
3. ``agreement`` (unless --skip-real): the tiny model behind a real ``transformers serve`` on CPU,
   the load generator against an independent ``http.client`` client, paced alike and interleaved
   request by request, with a per-request check of both against the kernel's packet times where
   allowed (root); see ``agreement.py``. ``load_average`` / ``load_average_after``: the host's
   1-minute load around the run (2 CPUs shared: figures from a busy host are noisy).
4. ``streams``: 64 and 256 concurrent streams (closed loop) against a streaming instant server (32
   one-token chunks per request, then usage), instant and paced at 10 ms per token: the client's CPU
   per request, requests/s, and each side's share of its CPU (``client_streams.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON_DIR = HERE.parent
REPO = PYTHON_DIR.parent
sys.path.insert(0, str(PYTHON_DIR))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from agreement import agreement  # noqa: E402
from client_streams import streams  # noqa: E402

from joules_worker.engines.server.load_generator import Target, closed_loop, open_loop  # noqa: E402
from joules_worker.engines.server.load_patterns import Arrival, percentile, poisson_offsets  # noqa: E402

# Node's http module: a reply costs the server a fraction of what aiohttp's costs, so that on a small
# host the server takes less of the CPU the load generator is measured on.
INSTANT_SERVER = r"""
const http = require('node:http');
const body = Buffer.from('data: ' + JSON.stringify({choices: [{index: 0, text: 'x'}]}) + '\n\n'
  + 'data: ' + JSON.stringify({choices: [{index: 0, text: '', finish_reason: 'length'}],
                               usage: {prompt_tokens: 3, completion_tokens: 1}}) + '\n\ndata: [DONE]\n\n');
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') { res.writeHead(200); res.end('{"status":"ok"}'); return; }
  req.resume();
  req.on('end', () => {
    res.writeHead(200, {'content-type': 'text/event-stream', 'content-length': body.length});
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[1]), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_health(url: str, timeout_s: float) -> None:
    import urllib.request

    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"no health at {url} within {timeout_s} s")


def instant(n: int) -> dict:
    port = free_port()
    proc = subprocess.Popen(["node", "-e", INSTANT_SERVER, str(port)])
    try:
        url = f"http://127.0.0.1:{port}"
        wait_health(url, 30)
        target = Target(url, "completions", "m", {}, 30.0)
        rf = lambda i, a: ("hi", 1)  # noqa: E731
        asyncio.run(closed_loop(target, rf, 32, 500, None))  # warm the server's and client's paths
        t0, c0 = time.perf_counter(), time.process_time()
        _, recs = asyncio.run(closed_loop(target, rf, 128, n, None))
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        errors = sum(1 for r in recs if not r.ok)
        offsets = poisson_offsets(200.0, 2000, None, 0)
        start, precs = asyncio.run(open_loop(target, rf, [Arrival(t) for t in offsets]))
        lag_ms = [(r.send_unix_s - (start + r.scheduled_s)) * 1000 for r in precs]
        floor_ms = asyncio.run(schedule_only(offsets))
        return {
            # requests_per_client_cpu_s: what one free core would sustain (the load generator's own CPU cost)
            "capacity": {
                "requests": n,
                "users": 128,
                "seconds": elapsed,
                "requests_per_s": n / elapsed,
                "errors": errors,
                "client_cpu_s": cpu,
                "requests_per_client_cpu_s": n / cpu,
            },
            "poisson_200": {
                "requests": len(precs),
                "errors": sum(1 for r in precs if not r.ok),
                "send_error_ms": {
                    "p50": percentile(lag_ms, 50),
                    "p99": percentile(lag_ms, 99),
                    "max": max(lag_ms),
                    "min": min(lag_ms),
                },
                # the same schedule kept by a bare asyncio loop that sends nothing: the host's own wake-up
                # jitter (on a busy host most of the error above is this, not the load generator)
                "host_floor_ms": {
                    "p50": percentile(floor_ms, 50),
                    "p99": percentile(floor_ms, 99),
                    "max": max(floor_ms),
                },
            },
        }
    finally:
        proc.terminate()
        proc.wait(10)


async def schedule_only(offsets: list[float]) -> list[float]:
    """Wake-up error (ms) of sleeping to each offset exactly as open_loop does, sending nothing."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    out = []
    for off in offsets:
        due = start + off
        delay = due - loop.time()
        if delay > 0.002:
            await asyncio.sleep(delay - 0.001)
        while loop.time() < due:
            await asyncio.sleep(0)
        out.append((loop.time() - due) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=6000)
    ap.add_argument("--rounds", type=int, default=25)
    ap.add_argument("--pause-ms", type=float, default=10.0, help="pause between requests in `agreement.paced`")
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--only-real", action="store_true", help="only the agreement with an independent client")
    ap.add_argument("--only-streams", action="store_true", help="only the 64- and 256-stream runs")
    args = ap.parse_args()
    out = {"host_cpus": os.cpu_count(), "load_average": os.getloadavg()[0]}
    if not args.only_real and not args.only_streams:
        out.update(instant(args.requests))
    if not args.only_real:
        plan = [(64, 0.0), (256, 0.0), (64, 10.0), (256, 10.0)]
        out["streams"] = streams(args.requests, plan, 32, free_port(), wait_health)
    if args.only_streams:
        args.skip_real = True
    if not args.skip_real:
        out["agreement"] = agreement(
            str(REPO / ".joules/models/tiny-llama"), free_port(), args.rounds, args.pause_ms, wait_health
        )
    out["load_average_after"] = os.getloadavg()[0]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
