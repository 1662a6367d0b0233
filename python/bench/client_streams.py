"""The load generator at high concurrency: is the client the bottleneck with 256 concurrent streams?

A streaming instant server (Node's http module, its own process, on its own CPU where there are two):
every request gets ``tokens`` SSE chunks of one token each, each written in its own turn of Node's
event loop, then a finish_reason chunk with usage and ``[DONE]``; no model, no wait. The load
generator runs closed loops of ``users`` streams against it (the clients on the other CPUs). Per run:
requests/s, the client's CPU per request (its own process time), the share of one CPU the client
and the server each used (the server's from /proc), and TTFT/e2e medians. The side at ~100 % of its
CPU is the bottleneck; ``client_capacity_requests_per_s`` is what the client would sustain on a free
CPU (1 / its CPU per request).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import time

from agreement import cpu_split

from joules_worker.engines.server.load_generator import Target, closed_loop

STREAMING_SERVER = r"""
const http = require('node:http');
const tokens = Number(process.argv[2]);
const delayMs = Number(process.argv[3]);  // between a request's chunks; 0: the next turn of the event loop
const sse = (o) => 'data: ' + JSON.stringify(o) + '\n\n';
const piece = Buffer.from(sse({choices: [{index: 0, text: 'x'}]}));
const tail = Buffer.from(sse({choices: [{index: 0, text: '', finish_reason: 'length'}]})
  + sse({choices: [], usage: {prompt_tokens: 3, completion_tokens: tokens}}) + 'data: [DONE]\n\n');
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') { res.writeHead(200); res.end('{"status":"ok"}'); return; }
  req.resume();
  req.on('end', () => {
    res.writeHead(200, {'content-type': 'text/event-stream'});
    let i = 0;
    const next = () => {
      if (i++ < tokens) { res.write(piece); delayMs > 0 ? setTimeout(next, delayMs) : setImmediate(next); }
      else res.end(tail);
    };
    next();
  });
});
server.keepAliveTimeout = 60000;
server.maxConnections = 100000;
server.listen(Number(process.argv[1]), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
"""


def _proc_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _run(target: Target, users: int, n: int, server_pid: int, delay_ms: float) -> dict:
    rf = lambda i, a: ("hi", 32)  # noqa: E731
    t0, c0, s0 = time.perf_counter(), time.process_time(), _proc_cpu_s(server_pid)
    _, recs = asyncio.run(closed_loop(target, rf, users, n, None))
    wall, cpu, server_cpu = time.perf_counter() - t0, time.process_time() - c0, _proc_cpu_s(server_pid) - s0
    ok = [r for r in recs if r.ok]
    itl = sorted(g for r in ok for g in r.itl_s)
    return {
        "users": users,
        "token_delay_ms": delay_ms,
        "requests": n,
        "errors": n - len(ok),
        "seconds": wall,
        "requests_per_s": n / wall,
        "client_cpu_ms_per_request": 1000 * cpu / n,
        "client_capacity_requests_per_s": n / cpu,
        "client_cpu_share": cpu / wall,
        "server_cpu_share": server_cpu / wall,
        "chunks_per_request": statistics.mean(len(r.itl_s) + 1 for r in ok),
        "ttft_p50_ms": 1000 * statistics.median(r.ttft_s for r in ok),
        "itl_p50_ms": 1000 * itl[len(itl) // 2],
        "itl_p99_ms": 1000 * itl[int(len(itl) * 0.99)],
        "e2e_p50_ms": 1000 * statistics.median(r.end_unix_s - r.send_unix_s for r in ok),
    }


def _median_run(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def streams(n: int, plan: list[tuple[int, float]], tokens: int, port: int, wait_health, rounds: int = 3) -> dict:
    """``rounds`` closed loops of ``users`` streams per (users, token delay in ms) of ``plan``, ``n``
    requests each (a paced run: n/4, at least 4 per stream), the plan's order reversed every other
    round; the medians per entry and every run."""
    split = cpu_split()
    mine = os.sched_getaffinity(0)
    server_cpus = None if split is None else split[0]
    runs: dict[tuple[int, float], list[dict]] = {p: [] for p in plan}
    try:
        if split is not None:
            os.sched_setaffinity(0, split[1])
        for k in range(rounds):
            for users, delay_ms in plan if k % 2 == 0 else plan[::-1]:
                proc = subprocess.Popen(
                    ["node", "-e", STREAMING_SERVER, str(port), str(tokens), str(delay_ms)],
                    preexec_fn=None if server_cpus is None else lambda: os.sched_setaffinity(0, server_cpus),
                )
                try:
                    url = f"http://127.0.0.1:{port}"
                    wait_health(url, 30)
                    target = Target(url, "completions", "m", {}, 60.0)
                    reqs = n if delay_ms == 0 else max(users * 4, n // 4)
                    _run(target, users, users * 2, proc.pid, delay_ms)  # warm both sides' paths
                    runs[(users, delay_ms)].append(_run(target, users, reqs, proc.pid, delay_ms))
                finally:
                    proc.terminate()
                    proc.wait(10)
    finally:
        os.sched_setaffinity(0, mine)
    return {
        "tokens_per_request": tokens,
        "rounds": rounds,
        "cpus": None if split is None else {"server": sorted(split[0]), "clients": sorted(split[1])},
        "medians": [_median_run(runs[p]) for p in plan],
        "runs": [r for p in plan for r in runs[p]],
    }
