"""Do the load generator's TTFT, inter-token gap and output tokens/s agree with an independent
streaming client's? The tiny model behind a real ``transformers serve`` on CPU.

The server's own TTFT depends on how long it sat idle before a request: one sent the instant the last
ended finds it still finishing that one, one sent after a long pause finds it asleep
(``idle_ttft_median_s_by_pause_ms``). Two clients that spend different times between requests (aiohttp
more than ``http.client``) thus see different TTFTs from the same server with no error in either. So
the comparison paces both alike: ``pause_ms`` between the end of one request and the next, requests
interleaved one by one (A B, B A, ...), the same prompt to each in turn. ``back_to_back`` is the same
with no pause, for comparison. The server runs on the last CPU and the clients on the others
(``cpu_split``). Where a raw socket is allowed (root), ``wire`` checks each client's TTFT
and end-to-end time per request against the kernel's packet timestamps of the same request.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from wire_tap import WireTap, available

from joules_worker.engines.server.load_generator import Target, client_session, send_request, sequential

PROMPTS = [f"The history of the number {i} is" for i in range(8)]
MAX_TOKENS = 16


class IndependentClient:
    """The standard library's ``http.client`` (it sets TCP_NODELAY itself, as aiohttp does) on one keep-alive connection,
    the SSE stream read line by line, each content chunk timed when its line is read.
    (``requests``' iter_lines costs enough per chunk to show in millisecond gaps on a busy 2-CPU host.)"""

    def __init__(self, port: int, model: str):
        self.model = model
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, prompt: str) -> dict:
        body = json.dumps(
            {
                "model": self.model,
                "prompt": prompt,
                "max_tokens": MAX_TOKENS,
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        )
        t0 = time.perf_counter()
        first = last = None
        gaps: list[float] = []
        tokens = None
        self.conn.request("POST", "/v1/completions", body, {"content-type": "application/json"})
        r = self.conn.getresponse()
        while line := r.readline():
            now = time.perf_counter()
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                break
            chunk = json.loads(data)
            if chunk.get("choices") and chunk["choices"][0].get("text"):
                if first is None:
                    first = now
                else:
                    gaps.append(now - last)
                last = now
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
        r.read()
        return {"ttft": first - t0, "gaps": gaps, "e2e": time.perf_counter() - t0, "tokens": tokens}

    def close(self) -> None:
        self.conn.close()


def _ours(rec) -> dict:
    return {
        "ttft": rec.ttft_s,
        "gaps": rec.itl_s,
        "e2e": rec.end_unix_s - rec.send_unix_s,
        "tokens": rec.output_tokens,
        "error": rec.error,
    }


def _summary(rs: list[dict]) -> dict:
    # medians over requests: one slow request on a shared host does not move them
    return {
        "ttft_median_s": statistics.median(r["ttft"] for r in rs),
        "itl_median_s": statistics.median(g for r in rs for g in r["gaps"]),
        "output_tokens_per_s_median": statistics.median(r["tokens"] / r["e2e"] for r in rs),
    }


async def _interleaved(target: Target, port: int, model: str, rounds: int, pause_s: float) -> list[tuple[str, dict]]:
    """Requests one at a time, alternating clients, in issue order: [(client, result)]."""
    theirs = IndependentClient(port, model)
    out: list[tuple[str, dict]] = []
    try:
        async with client_session(1) as session:
            for r in range(rounds):
                for i, prompt in enumerate(PROMPTS):
                    order = ("ours", "theirs") if (r + i) % 2 == 0 else ("theirs", "ours")
                    for who in order:
                        await asyncio.sleep(pause_s)
                        if who == "ours":
                            out.append((who, _ours(await send_request(session, target, len(out), prompt, MAX_TOKENS))))
                        else:
                            out.append((who, theirs.request(prompt)))  # blocks the loop: nothing else runs
    finally:
        theirs.close()
    return out


def _wire_check(issued: list[tuple[str, dict]], wire: list[dict]) -> dict:
    """Per request, client minus wire (ms): that client's own error, free of the server's variance."""
    if len(wire) != len(issued):
        return {"skipped": f"the tap saw {len(wire)} requests for {len(issued)} sent"}
    out = {}
    for who in ("ours", "theirs"):
        pairs = [(c, w) for (name, c), w in zip(issued, wire, strict=True) if name == who]
        ttft = [(c["ttft"] - w["ttft"]) * 1000 for c, w in pairs]
        e2e = [(c["e2e"] - w["e2e"]) * 1000 for c, w in pairs]
        rel = [(c["ttft"] - w["ttft"]) / w["ttft"] for c, w in pairs]
        out["load_generator" if who == "ours" else "independent"] = {
            "ttft_minus_wire_ms": {"median": statistics.median(ttft), "max": max(ttft), "min": min(ttft)},
            "ttft_relative_to_wire_median": statistics.median(rel),
            "e2e_minus_wire_ms_median": statistics.median(e2e),
        }
    return out


def compare(
    target: Target, port: int, model: str, rounds: int, pause_s: float, tap: bool, tap_cpus: set[int] | None
) -> dict:
    if tap:
        with WireTap(port, tap_cpus) as t:
            issued = asyncio.run(_interleaved(target, port, model, rounds, pause_s))
        wire = _wire_check(issued, t.requests())
    else:
        issued = asyncio.run(_interleaved(target, port, model, rounds, pause_s))
        wire = None
    errors = [c["error"] for who, c in issued if who == "ours" and c["error"]]
    if errors:
        raise RuntimeError(f"the load generator's requests failed: {errors[:3]}")
    a = _summary([c for who, c in issued if who == "ours"])
    b = _summary([c for who, c in issued if who == "theirs"])
    out = {
        "requests_each": len(issued) // 2,
        "pause_ms": pause_s * 1000,
        "load_generator": a,
        "independent": b,
        "relative_difference": {k: (a[k] - b[k]) / b[k] for k in a},
    }
    if wire is not None:
        out["wire"] = wire
    return out


def _serve(model: str, port: int, cpus: set[int] | None) -> subprocess.Popen:
    bindir = Path(sys.executable).parent
    cmd = [str(bindir / "transformers"), "serve", model, "--device", "cpu", "--port", str(port)]
    cmd += ["--continuous-batching", "--cb-num-blocks", "128", "--cb-block-size", "32", "--cb-max-batch-tokens", "512"]
    return subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=None if cpus is None else lambda: os.sched_setaffinity(0, cpus),
    )


def cpu_split() -> tuple[set[int], set[int]] | None:
    """(server's CPUs, clients' CPUs): the last CPU for the server, the rest for the clients. Sharing
    CPUs, a client waits up to several ms for the server's busy threads to give it one, and that wait,
    not its own error, lands in its TTFT (the wire check shows it)."""
    cpus = sorted(os.sched_getaffinity(0))
    return None if len(cpus) < 2 else ({cpus[-1]}, set(cpus[:-1]))


def agreement(model: str, port: int, rounds: int, pause_ms: float, wait_health) -> dict:
    split = cpu_split()
    mine = os.sched_getaffinity(0)
    proc = _serve(model, port, None if split is None else split[0])
    if split is not None:
        os.sched_setaffinity(0, split[1])
    try:
        url = f"http://127.0.0.1:{port}"
        wait_health(url, 180)
        target = Target(url, "completions", model, {}, 120.0)
        # warm-up of the server and of both clients (the first request is slow)
        asyncio.run(sequential(target, [(p, MAX_TOKENS) for p in PROMPTS[:2]]))
        warm = IndependentClient(port, model)
        for p in PROMPTS[:2]:
            warm.request(p)
        idle = {}
        for ms in (0, 2, 10, 50, 100):  # the independent client alone
            ttfts = []
            for p in PROMPTS * 2:
                time.sleep(ms / 1000)
                ttfts.append(warm.request(p)["ttft"])
            idle[f"{ms:g}"] = statistics.median(ttfts)
        warm.close()
        no_tap = available()
        server_cpus = None if split is None else split[0]  # the tap beside the server, off the clients' CPUs
        out = {
            "paced": compare(target, port, model, rounds, pause_ms / 1000, no_tap is None, server_cpus),
            "back_to_back": compare(target, port, model, rounds, 0.0, no_tap is None, server_cpus),
            "idle_ttft_median_s_by_pause_ms": idle,
        }
        if no_tap is not None:
            out["wire"] = {"skipped": no_tap}
        out["cpus"] = None if split is None else {"server": sorted(split[0]), "clients": sorted(split[1])}
        return out
    finally:
        os.sched_setaffinity(0, mine)
        os.killpg(proc.pid, 15)
        proc.wait(20)
