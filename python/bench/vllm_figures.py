"""The six figures of the agreement benchmark, each client's run reduced to them, and the table.

vLLM's definitions (``vllm/benchmarks/serve.py`` ``calculate_metrics`` and
``lib/endpoint_request_func.py`` ``async_request_openai_completions``, vllm 0.32):
- a request starts at ``st = perf_counter()`` just before ``session.post`` (aiohttp's set-up included);
- TTFT: the first SSE message with a non-empty ``choices`` (its text may be empty), minus ``st``;
- ITL: the gaps between successive messages with ``choices`` (one per token where the server streams
  one token per chunk), pooled over all requests, then the mean;
- latency (E2EL): the *last message with choices* minus ``st`` (not the usage chunk, not ``[DONE]``);
- TPOT: per request ``(latency − TTFT) / (output tokens − 1)``, requests of over 1 token, then the mean;
- output tokens/s: the usage's completion tokens summed / the run's duration (the first send to the
  end of the last request); p99: numpy's linear interpolation.

Joules' records are reduced with the same definitions (``vllm_defs``): a request's start is taken
where vLLM takes it (``call_unix_s``, stamped when ``send_request`` is called, before the body is
built), its ITL from its chunk gaps (``chunk_gaps_s``), its end at its last chunk with output. Joules'
own definitions (``joules_defs``, what a row carries: packages/metrics serving-metrics.ts) stamp TTFT
on the same chunk as vLLM and split a chunk of k tokens into k gaps (the same as per chunk where the
server streams one token per chunk), but differ in two places: a request starts when aiohttp writes
it to the socket (``send_unix_s``: aiohttp's own set-up is not the server's time), and it ends after
``[DONE]`` (``end_unix_s``), which moves e2e and TPOT; output tokens/s divides by the whole window,
from the load's start (before the connection pool is made) to the last end.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np

FIGURES = ("output_tok_s", "ttft_mean_ms", "ttft_p99_ms", "tpot_mean_ms", "itl_mean_ms", "e2e_mean_ms")
LABELS = {
    "output_tok_s": "output tok/s",
    "ttft_mean_ms": "mean TTFT",
    "ttft_p99_ms": "p99 TTFT",
    "tpot_mean_ms": "mean TPOT",
    "itl_mean_ms": "mean ITL",
    "e2e_mean_ms": "mean e2e",
}


def _ms(values: Sequence[float]) -> float:
    return float(np.mean(values)) * 1000 if values else float("nan")


def _p99_ms(values: Sequence[float]) -> float:
    return float(np.percentile(values, 99)) * 1000 if values else float("nan")


def chunk_gaps(rec: Any) -> list[float]:
    """The gaps between a record's chunks with output: ``chunk_gaps_s`` where the record keeps them
    apart from its per-token ITL, else ``itl_s`` (one gap per chunk)."""
    gaps = getattr(rec, "chunk_gaps_s", None)
    return list(rec.itl_s if gaps is None else gaps)


def last_chunk(rec: Any) -> float:
    """When a record's last chunk with output came."""
    last = getattr(rec, "last_chunk_unix_s", None)
    return rec.first_token_unix_s + sum(chunk_gaps(rec)) if last is None else last


def _figures(ttft: list[float], itl: list[float], e2e: list[float], tpot: list[float], tokens: int, dur: float):
    return {
        "output_tok_s": tokens / dur if dur > 0 else float("nan"),
        "ttft_mean_ms": _ms(ttft),
        "ttft_p99_ms": _p99_ms(ttft),
        "tpot_mean_ms": _ms(tpot),
        "itl_mean_ms": _ms(itl),
        "e2e_mean_ms": _ms(e2e),
    }


def vllm_defs(records: Sequence[Any], duration_s: float) -> dict[str, float]:
    """Joules' records under vLLM's definitions (``duration_s``: first call to last end)."""
    ok = [r for r in records if r.ok]
    ttft, itl, e2e, tpot = [], [], [], []
    for r in ok:
        gaps = chunk_gaps(r)
        last = last_chunk(r)
        ttft.append(r.first_token_unix_s - r.call_unix_s)
        e2e.append(last - r.call_unix_s)
        itl += gaps
        if (r.output_tokens or 0) > 1:
            tpot.append((last - r.first_token_unix_s) / (r.output_tokens - 1))
    return _figures(ttft, itl, e2e, tpot, sum(r.output_tokens or 0 for r in ok), duration_s)


def joules_defs(records: Sequence[Any], window_s: float) -> dict[str, float]:
    """Joules' records under its own definitions (packages/metrics serving-metrics.ts)."""
    ok = [r for r in records if r.ok]
    tpot = [
        max(r.end_unix_s - r.first_token_unix_s, 0.0) / (r.output_tokens - 1) for r in ok if (r.output_tokens or 0) > 1
    ]
    return _figures(
        [r.ttft_s for r in ok],
        [g for r in ok for g in r.itl_s],
        [r.end_unix_s - r.send_unix_s for r in ok],
        tpot,
        sum(r.output_tokens or 0 for r in ok),
        window_s,
    )


def from_vllm_result(res: dict[str, Any]) -> dict[str, float]:
    """vLLM's own figures, as ``vllm bench serve`` printed them."""
    return {
        "output_tok_s": res["output_throughput"],
        "ttft_mean_ms": res["mean_ttft_ms"],
        "ttft_p99_ms": res["p99_ttft_ms"],
        "tpot_mean_ms": res["mean_tpot_ms"],
        "itl_mean_ms": res["mean_itl_ms"],
        "e2e_mean_ms": res["mean_e2el_ms"],
    }


def medians(runs: Sequence[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in FIGURES}


def paired(runs: Sequence[dict[str, Any]], ours: str) -> dict[str, list[float]]:
    """Per round, Joules' figure ÷ vLLM's of the same round (the two runs next to each other in time)."""
    by_round: dict[int, dict[str, dict[str, float]]] = {}
    for r in runs:
        by_round.setdefault(r["round"], {})[r["client"]] = r[ours] if r["client"] == "joules" else r["vllm"]
    pairs = [p for _, p in sorted(by_round.items()) if len(p) == 2]
    return {k: [p["joules"][k] / p["vllm"][k] for p in pairs] for k in FIGURES}


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def table(settings: Sequence[dict[str, Any]], ours: str, label: str) -> str:
    """Markdown: per setting and figure, the ratio of Joules' median to vLLM's, both medians, and the
    range of the per-round ratios. ``ours``: which of Joules' reductions ("vllm_defs" or "joules_defs")."""
    head = "| load | " + " | ".join(LABELS[k] for k in FIGURES) + " |"
    lines = [
        f"{label}: Joules ÷ `vllm bench serve`, ratio of medians (Joules / vLLM, ms or tok/s) [per-round ratios]",
        "",
        head,
    ]
    lines.append("|---" * (len(FIGURES) + 1) + "|")
    for s in settings:
        a, b, p = s["median"][ours], s["median"]["vllm"], paired(s["runs"], ours)
        cells = [f"{a[k] / b[k]:.3f}× ({_fmt(a[k])} / {_fmt(b[k])}) [{min(p[k]):.2f}–{max(p[k]):.2f}]" for k in FIGURES]
        lines.append(f"| {s['name']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
