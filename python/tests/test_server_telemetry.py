"""Server telemetry (issue 22): the server's Prometheus /metrics read through the load, kept in
server-metrics-rank-0.jsonl and summed up in the summary; a server without it leaves the figures
empty and says so. And the steady window's check (``steady_ok``): ML.ENERGY's 20 s and 0.85 × the
batch, too few requests, a queue that grew."""

from __future__ import annotations

import json

import pytest
from _fake_openai import FakeOpenAI, serving_config
from _fake_openai import run_serving as run
from _helpers import http_server

from joules_worker.engines.server.server_telemetry import parse_metrics, telemetry_summary
from joules_worker.engines.server.steady_check import steady_check

VLLM_TEXT = """# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 3.0
vllm:num_requests_running{engine="1",model_name="m"} 2.0
vllm:num_requests_waiting{engine="0",model_name="m"} 1.0
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.5
vllm:prefix_cache_hits_total{engine="0",model_name="m"} 256.0
vllm:prefix_cache_queries_total{engine="0",model_name="m"} 1024.0
vllm:generation_tokens_total{engine="0",model_name="m"} 99.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.001",model_name="m"} 0.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="m"} 4.0
vllm:time_to_first_token_seconds_sum{engine="0",model_name="m"} 0.2
vllm:time_to_first_token_seconds_count{engine="0",model_name="m"} 4.0
python_gc_objects_collected_total{generation="0"} 123.0
"""


def test_parse_metrics_sums_label_sets_and_keeps_the_ttft_histogram() -> None:
    m = parse_metrics(VLLM_TEXT)
    assert m["running"] == 5.0 and m["waiting"] == 1.0 and m["kv_cache_usage"] == 0.5
    assert m["prefix_cache_hits"] == 256.0 and m["prefix_cache_queries"] == 1024.0
    assert m["ttft_sum"] == 0.2 and m["ttft_count"] == 4.0 and m["ttft_buckets"] == {"0.001": 0.0, "+Inf": 4.0}
    sglang = parse_metrics('sglang:num_running_reqs{model_name="m"} 7\nsglang:num_queue_reqs{model_name="m"} 0\n')
    assert sglang == {"running": 7.0, "waiting": 0.0}
    assert parse_metrics("# nothing known\nother_total 3\n") == {}


def test_the_summary_averages_gauges_in_the_steady_window_and_differences_counters() -> None:
    samples = [
        {"t_unix_s": 0.0, "running": 0.0, "prefix_cache_hits": 10.0, "prefix_cache_queries": 100.0},
        {"t_unix_s": 1.0, "running": 4.0, "kv_cache_usage": 0.2},
        {"t_unix_s": 2.0, "running": 2.0, "kv_cache_usage": 0.4, "ttft_sum": 0.0, "ttft_count": 0.0},
        {"t_unix_s": 3.0, "running": 0.0, "prefix_cache_hits": 10.0, "prefix_cache_queries": 300.0},
        {"t_unix_s": 3.1, "ttft_sum": 0.5, "ttft_count": 10.0},
    ]
    s = telemetry_summary(samples, (0.5, 2.5), "http://x/metrics", None)
    assert s["read"] is True and s["running_mean"] == 3.0 and s["kv_cache_usage_mean"] == pytest.approx(0.3)
    assert s["prefix_cache_hits"] == 0.0 and s["prefix_cache_queries"] == 200.0
    assert s["ttft_mean_s"] == pytest.approx(0.05)
    empty = telemetry_summary([], None, "http://x/metrics", "server telemetry: none (…)")
    assert empty["read"] is False and empty["running_mean"] is None and empty["prefix_cache_hits"] is None


def test_a_vllm_like_servers_metrics_are_read_through_the_load(tmp_path, tiny_model_dir, fake) -> None:
    url, _ = fake
    config = serving_config(tiny_model_dir, url, num_requests=40, energy__measure_power_secs=0.02)
    summary = run(config, tmp_path)
    server = summary["server_metrics"]
    assert server["read"] is True and server["url"] == f"{url}/metrics" and server["note"] is None
    assert server["ttft_mean_s"] == pytest.approx(0.01)  # the fake's histogram: 0.01 s each
    assert server["ttft_requests"] == 40  # the warm-up's are before the first read
    assert server["prefix_cache_hits"] == 0.0 and server["prefix_cache_queries"] > 0  # distinct prompts
    assert server["samples"] >= 3
    lines = [json.loads(x) for x in (tmp_path / "server-metrics-rank-0.jsonl").read_text().splitlines()]
    assert len(lines) == server["samples"] and all("t_unix_s" in x and "running" in x for x in lines)
    assert lines[0]["t_unix_s"] <= summary["whole_window"]["start_unix_s"] + 0.01


def test_a_server_without_metrics_leaves_them_empty_and_says_so(tmp_path, tiny_model_dir) -> None:
    handler = FakeOpenAI.fresh(metrics=False)
    with http_server(handler) as url:
        summary = run(serving_config(tiny_model_dir, url), tmp_path)
    server = summary["server_metrics"]
    assert server["read"] is False and server["running_mean"] is None and server["ttft_mean_s"] is None
    assert "no Prometheus metrics" in server["note"]
    assert not (tmp_path / "server-metrics-rank-0.jsonl").exists()
    raw = json.loads((tmp_path / "rank-0.json").read_text())
    assert "no Prometheus metrics" in raw["energy"]["note"]


def test_a_short_load_is_not_steady_and_the_reason_says_why(tmp_path, tiny_model_dir, fake) -> None:
    url, _ = fake
    summary = run(serving_config(tiny_model_dir, url, num_requests=10), tmp_path)
    assert summary["steady_ok"] is False
    assert "< 20 s (ML.ENERGY's minimum)" in summary["steady_ok_reason"]


def _spans(n: int, every: float, latency: float, growth: float = 0.0) -> list[tuple[float, float]]:
    return [(i * every, i * every + latency + growth * i) for i in range(n)]


def test_steady_check_passes_a_long_full_window() -> None:
    spans = _spans(400, 0.1, 0.4)
    samples = [{"t_unix_s": t / 2, "running": 4.0, "waiting": 0.0} for t in range(90)]
    ok = steady_check(
        (1.0, 39.0), closed_loop=True, concurrency=4, spans=spans, server={"running_mean": 4.0}, samples=samples
    )
    assert ok == (True, None)


def test_steady_check_flags_a_batch_under_085_of_the_concurrency() -> None:
    ok, why = steady_check(
        (1.0, 39.0),
        closed_loop=True,
        concurrency=8,
        spans=_spans(400, 0.1, 0.4),
        server={"running_mean": 6.0},
        samples=[],
    )
    assert not ok and "mean running batch 6.00 < 0.85 × concurrency 8" in why


def test_steady_check_flags_a_growing_queue() -> None:
    samples = [{"t_unix_s": float(t), "waiting": float(t)} for t in range(41)]
    ok, why = steady_check(
        (0.0, 40.0),
        closed_loop=True,
        concurrency=4,
        spans=_spans(400, 0.1, 0.4),
        server={"waiting_mean": 20.0},
        samples=samples,
    )
    assert not ok and "waiting requests rose" in why
    # open loop: the client's own in-flight count rises when the server falls behind the arrivals
    ok, why = steady_check(
        (5.0, 40.0), closed_loop=False, concurrency=None, spans=_spans(400, 0.1, 0.4, 0.01), server=None, samples=[]
    )
    assert not ok and "requests in flight rose" in why
    assert steady_check(
        (5.0, 40.0), closed_loop=False, concurrency=None, spans=_spans(400, 0.1, 0.4), server=None, samples=[]
    ) == (True, None)


def test_steady_check_without_a_window_or_with_few_requests() -> None:
    ok, why = steady_check(None, closed_loop=True, concurrency=2, spans=[], server=None, samples=[])
    assert not ok and why.startswith("no steady window")
    ok, why = steady_check(
        (0.0, 30.0), closed_loop=True, concurrency=2, spans=_spans(5, 5.0, 1.0), server=None, samples=[]
    )
    assert not ok and "5 requests completed in the steady window (< 10)" in why
