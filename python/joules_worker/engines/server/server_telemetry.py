"""Server telemetry: the inference server's own Prometheus ``/metrics``, read through the load.

A thread reads ``url`` every ``interval_s`` (the energy sampler's cadence, ``energy.measure_power_secs``)
from the load's start to its end, plus once at each edge. Each read keeps the series below, each
summed over its label sets (one engine, or several data-parallel ones), as one line of
``server-metrics-rank-0.jsonl``. A server without ``/metrics`` (or with none of these series) is
not read: ``supported`` is False and ``note`` says why.

Series, by the name each server gives it (vLLM ``vllm:``, SGLang ``sglang:``, TGI ``tgi_``; the
first found counts): running and waiting requests, KV-cache use (a fraction), prefix-cache hits and
queries (tokens), generated tokens, and the server's time-to-first-token histogram (its sum, count
and cumulative buckets).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

TELEMETRY_FILE = "server-metrics-rank-0.jsonl"
TIMEOUT_S = 5.0
SERIES: dict[str, tuple[str, ...]] = {
    "running": ("vllm:num_requests_running", "sglang:num_running_reqs", "tgi_batch_current_size"),
    "waiting": ("vllm:num_requests_waiting", "sglang:num_queue_reqs", "tgi_queue_size"),
    "kv_cache_usage": ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "sglang:token_usage"),
    "prefix_cache_hits": ("vllm:prefix_cache_hits_total", "vllm:gpu_prefix_cache_hits_total"),
    "prefix_cache_queries": ("vllm:prefix_cache_queries_total", "vllm:gpu_prefix_cache_queries_total"),
    "generation_tokens": ("vllm:generation_tokens_total", "sglang:generation_tokens_total"),
    "ttft_sum": ("vllm:time_to_first_token_seconds_sum", "sglang:time_to_first_token_seconds_sum"),
    "ttft_count": ("vllm:time_to_first_token_seconds_count", "sglang:time_to_first_token_seconds_count"),
}
TTFT_BUCKETS = ("vllm:time_to_first_token_seconds_bucket", "sglang:time_to_first_token_seconds_bucket")
_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)")
_LE = re.compile(r'le="([^"]+)"')


def parse_metrics(text: str) -> dict[str, Any]:
    """The known series of one Prometheus text exposition: {key: value summed over label sets},
    ``ttft_buckets`` {le: cumulative count}; keys a server does not have are left out."""
    sums: dict[str, float] = {}
    buckets: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m is None:
            continue
        name, labels, raw = m.groups()
        try:
            value = float(raw)
        except ValueError:
            continue
        if math.isnan(value):
            continue
        if name in TTFT_BUCKETS:
            le = _LE.search(labels or "")
            if le is not None:
                per = buckets.setdefault(name, {})
                per[le.group(1)] = per.get(le.group(1), 0.0) + value
            continue
        sums[name] = sums.get(name, 0.0) + value
    out: dict[str, Any] = {}
    for key, names in SERIES.items():
        found = next((n for n in names if n in sums), None)
        if found is not None:
            out[key] = sums[found]
    ttft = next((buckets[n] for n in TTFT_BUCKETS if n in buckets), None)
    if ttft:
        out["ttft_buckets"] = ttft
    return out


class ServerTelemetry:
    def __init__(self, url: str, interval_s: float, now: Callable[[], float]) -> None:
        self.url = url
        self.interval_s = interval_s
        self.now = now
        self.samples: list[dict[str, Any]] = []
        self.supported = False
        self.note: str | None = None
        self.failed_reads = 0
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def _read(self) -> dict[str, Any] | None:
        before = self.now()
        with urllib.request.urlopen(self.url, timeout=TIMEOUT_S) as response:  # noqa: S310 - the server's own URL
            text = response.read().decode("utf-8", "replace")
        series = parse_metrics(text)
        if not series:
            return None
        return {"t_unix_s": (before + self.now()) / 2, **series}

    def _sample(self) -> None:
        try:
            sample = self._read()
        except (OSError, urllib.error.URLError, ValueError) as e:
            self.failed_reads += 1
            if self.failed_reads == 1:
                logger.warning("server telemetry: a read of %s failed (%s); skipped", self.url, e)
            return
        if sample is not None:
            self.samples.append(sample)

    def _loop(self) -> None:
        while not self._halt.wait(self.interval_s):
            self._sample()

    def start(self) -> bool:
        """The first read (before the load): whether the server has /metrics; then the thread."""
        try:
            first = self._read()
        except (OSError, urllib.error.URLError, ValueError) as e:
            self.note = f"server telemetry: none (no Prometheus metrics at {self.url}: {e})"
            return False
        if first is None:
            self.note = f"server telemetry: none ({self.url} has none of the vLLM, SGLang or TGI series read)"
            return False
        self.supported = True
        self.samples.append(first)
        self._thread = threading.Thread(target=self._loop, name="joules-server-telemetry", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        """After the load: the thread ends, then the last read."""
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT_S + 5)
            self._thread = None
        if self.supported:
            self._sample()


def _mean_in(samples: list[dict[str, Any]], key: str, window: tuple[float, float] | None) -> float | None:
    if window is None:
        return None
    values = [s[key] for s in samples if key in s and window[0] <= s["t_unix_s"] <= window[1]]
    return sum(values) / len(values) if values else None


def _delta(samples: list[dict[str, Any]], key: str) -> float | None:
    values = [s[key] for s in samples if key in s]
    return max(values[-1] - values[0], 0.0) if len(values) >= 2 else None


def telemetry_summary(
    samples: list[dict[str, Any]], steady: tuple[float, float] | None, url: str, note: str | None
) -> dict[str, Any]:
    """The load's figures from the server's own metrics: gauges averaged over the scrapes inside the
    steady window (ML.ENERGY's ``calculate_steady_state_stats``), counters differenced from the
    first scrape (the load's start, after the warm-up) to the last (after its end)."""
    hits, queries = _delta(samples, "prefix_cache_hits"), _delta(samples, "prefix_cache_queries")
    ttft_sum, ttft_count = _delta(samples, "ttft_sum"), _delta(samples, "ttft_count")
    return {
        "url": url,
        "read": bool(samples),
        "note": note,
        "samples": len(samples),
        "running_mean": _mean_in(samples, "running", steady),
        "waiting_mean": _mean_in(samples, "waiting", steady),
        "kv_cache_usage_mean": _mean_in(samples, "kv_cache_usage", steady),
        "prefix_cache_hits": hits,
        "prefix_cache_queries": queries,
        "generation_tokens": _delta(samples, "generation_tokens"),
        "ttft_mean_s": ttft_sum / ttft_count if ttft_sum is not None and ttft_count else None,
        "ttft_requests": ttft_count,
    }
