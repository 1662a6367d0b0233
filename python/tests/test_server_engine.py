"""The serving engine in-process against a small local server (the success path against a real
`transformers serve` is the CLI's e2e test): open-loop patterns, token counting when the server sends
no usage, and what it writes (rank-0.json valid against the contract, requests and summary files)."""

from __future__ import annotations

import copy
import http.server
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _helpers import http_server
from conftest import base_experiment

from joules_worker.config import ExperimentConfig, parse_experiment
from joules_worker.engines import engine_for
from joules_worker.errors import ServerError
from joules_worker.events import EventEmitter


class _NoUsage(http.server.BaseHTTPRequestHandler):
    """Streams three text chunks and a finish_reason; no usage, no [DONE]."""

    fail = False

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        if self.fail:
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b'{"detail":"Unexpected fields in the request: ignore_eos"}')
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        for text in (" hello", " world", " again"):
            self.wfile.write(f"data: {json.dumps({'choices': [{'index': 0, 'text': text}]})}\n\n".encode())
        done = {"choices": [{"index": 0, "text": "", "finish_reason": "length"}], "max_tokens": body["max_tokens"]}
        self.wfile.write(f"data: {json.dumps(done)}\n\n".encode())


@pytest.fixture
def server() -> Iterator[tuple[str, type[_NoUsage]]]:
    handler = type("H", (_NoUsage,), {})
    with http_server(handler) as url:
        yield url, handler


def serving(
    model: Path, url: str, devices: list[int] | None = None, backend: str = "none", **load: Any
) -> ExperimentConfig:
    data = copy.deepcopy(base_experiment(str(model)))
    data["engine"] = "server"
    data["energy"]["backend"] = backend
    data["server"].update(url=url, devices=devices if devices is not None else [])
    if devices:
        data["gpu_ids"] = devices  # the server's GPUs
    data["num_input_prompts"] = 64  # every request a prompt of its own (load.prompt_reuse: false)
    data["load"].update({"pattern": "poisson", "rate": 50.0, "num_requests": 12, "warmup_requests": 1, **load})
    return parse_experiment(data)


def test_poisson_load_counts_tokens_without_usage_and_writes_valid_files(
    tmp_path, tiny_model_dir, server, raw_validator
) -> None:
    url, _ = server
    path = engine_for("server").run(serving(tiny_model_dir, url), tmp_path, EventEmitter(rank=0))
    raw = json.loads(path.read_text())
    raw_validator.validate(raw)
    lines = [json.loads(line) for line in (tmp_path / "requests-rank-0.jsonl").read_text().splitlines()]
    assert len(lines) == 12 and all(r["error"] is None for r in lines)
    assert all(r["tokens_counted"] and r["output_tokens"] > 0 and r["input_tokens"] > 0 for r in lines)
    scheduled = [r["scheduled_s"] for r in lines]
    assert scheduled == sorted(scheduled) and scheduled[0] == 0.0
    summary = json.loads((tmp_path / "serving-rank-0.json").read_text())
    assert summary["tokens_counted_requests"] == 12 and summary["pattern"] == "poisson"
    whole, steady = summary["whole_window"], summary["steady_window"]
    assert (
        steady is None or whole["start_unix_s"] <= steady["start_unix_s"] <= steady["end_unix_s"] <= whole["end_unix_s"]
    )
    assert raw["tokens"]["num_prompts"] == 12 and len(raw["batches"]) == 12


def test_a_server_rejecting_extra_body_fails_the_warm_up_with_its_answer(tmp_path, tiny_model_dir, server) -> None:
    url, handler = server
    handler.fail = True
    with pytest.raises(
        ServerError, match=r"warm-up request 1 failed: HTTP 400 .*Unexpected fields in the request: ignore_eos"
    ):
        engine_for("server").run(serving(tiny_model_dir, url), tmp_path, EventEmitter(rank=0))
    assert not (tmp_path / "rank-0.json").exists() and not (tmp_path / "requests-rank-0.jsonl").exists()


@pytest.mark.parametrize(
    "pattern",
    [
        {"pattern": "constant", "rate": 40.0},
        {"pattern": "bursty", "rate": None, "burst_size": 4, "burst_interval_ms": 50.0},
    ],
)
def test_other_open_loop_patterns_send_every_request(tmp_path, tiny_model_dir, server, pattern) -> None:
    url, _ = server
    engine_for("server").run(
        serving(tiny_model_dir, url, num_requests=8, warmup_requests=0, **pattern), tmp_path, EventEmitter(rank=0)
    )
    lines = (tmp_path / "requests-rank-0.jsonl").read_text().splitlines()
    assert len(lines) == 8


def test_the_steady_windows_energy_is_read_from_the_servers_gpu_counters(
    tmp_path, tiny_model_dir, server, fake_nvml
) -> None:
    """Closed loop, the server's GPU on the fake NVML with a power ramp: the steady window's joules
    are the counter's over that window (sampled through the load), not the whole's prorated."""
    a, b = 50.0, 200.0
    fake_nvml.configure(devices=[{"uuid": "GPU-a", "power_ramp": [a, b]}])
    t0 = fake_nvml._state["t0"]
    url, _ = server
    config = serving(tiny_model_dir, url, [0], "nvml", pattern="closed_loop", rate=None, concurrency=2, num_requests=40)
    engine_for("server").run(config, tmp_path, EventEmitter(rank=0))
    summary = json.loads((tmp_path / "serving-rank-0.json").read_text())
    steady = summary["steady_window"]
    assert summary["steady_energy_method"] == "counters_sampled"

    def truth(t: float) -> float:
        return a * (t - t0) + b * (t - t0) ** 2 / 2

    expected = truth(steady["end_unix_s"]) - truth(steady["start_unix_s"])
    # linear interpolation between counter reads misses the ramp's curvature by b·h²/8 at each edge
    # (h: the time between reads, 0.1 s, longer when a loaded host delays the sampler): 5 %
    assert summary["energy_steady_j"] == pytest.approx(expected, rel=0.05)
    assert fake_nvml._state["inits"] == 0
