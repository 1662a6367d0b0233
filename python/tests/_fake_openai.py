"""A small OpenAI-compatible streaming server for the serving engine's tests: it keeps the prompts it
was sent, streams three short chunks without usage (the engine then counts tokens itself), and
answers ``GET /metrics`` with vLLM's series (running requests = requests in flight, prefix-cache
hits = tokens of prompts it has seen before, a TTFT histogram of 0.01 s per request) when
``metrics`` is on."""

from __future__ import annotations

import copy
import http.server
import json
import threading
import time
from pathlib import Path
from typing import Any

from conftest import base_experiment

from joules_worker.config import ExperimentConfig, parse_experiment


class FakeOpenAI(http.server.BaseHTTPRequestHandler):
    metrics = True
    chunk_pause_s = 0.002
    # a reasoning model's chat stream (the tiny model cannot reason): after the role, these reasoning
    # deltas (alternately ``reasoning_content`` and vLLM's ``reasoning``), then the answer's chunks
    reasoning: tuple[str, ...] = ()
    # each answer's last chunk " #k", k its request's arrival order (1-based): a session's history
    # then shows which answer it carries
    numbered = False
    prompts: list[str]
    bodies: list[dict[str, Any]]  # every request body, in arrival order
    state: dict[str, float]
    lock: threading.Lock

    @classmethod
    def fresh(cls, **attrs: Any) -> type[FakeOpenAI]:
        return type("Fake", (cls,), {"prompts": [], "bodies": [], "state": {}, "lock": threading.Lock(), **attrs})

    def log_message(self, *args: Any) -> None:
        pass

    def _add(self, key: str, value: float) -> None:
        with self.lock:
            self.state[key] = self.state.get(key, 0.0) + value

    def do_GET(self) -> None:
        if self.path != "/metrics" or not self.metrics:
            self.send_response(404)
            self.end_headers()
            return
        s = dict(self.state)
        lines = [
            "# HELP vllm:num_requests_running Number of requests in model execution batches.",
            "# TYPE vllm:num_requests_running gauge",
            f'vllm:num_requests_running{{engine="0",model_name="m"}} {s.get("running", 0.0)}',
            f'vllm:num_requests_waiting{{engine="0",model_name="m"}} {s.get("waiting", 0.0)}',
            f'vllm:kv_cache_usage_perc{{engine="0",model_name="m"}} {0.25 * s.get("running", 0.0)}',
            f'vllm:prefix_cache_queries_total{{engine="0",model_name="m"}} {s.get("queries", 0.0)}',
            f'vllm:prefix_cache_hits_total{{engine="0",model_name="m"}} {s.get("hits", 0.0)}',
            f'vllm:generation_tokens_total{{engine="0",model_name="m"}} {s.get("tokens", 0.0)}',
            f'vllm:time_to_first_token_seconds_bucket{{engine="0",le="0.02",model_name="m"}} {s.get("n", 0.0)}',
            f'vllm:time_to_first_token_seconds_bucket{{engine="0",le="+Inf",model_name="m"}} {s.get("n", 0.0)}',
            f'vllm:time_to_first_token_seconds_sum{{engine="0",model_name="m"}} {0.01 * s.get("n", 0.0)}',
            f'vllm:time_to_first_token_seconds_count{{engine="0",model_name="m"}} {s.get("n", 0.0)}',
        ]
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("content-type", "text/plain; version=0.0.4")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        chat = "messages" in body
        prompt = body["messages"][-1]["content"] if chat else body["prompt"]
        with self.lock:
            seen = prompt in self.prompts
            self.prompts.append(prompt)
            self.bodies.append(body)
            k = len(self.bodies)
        self._add("running", 1)
        self._add("queries", len(prompt))
        self._add("hits", len(prompt) if seen else 0)
        try:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            if chat and self.reasoning:
                role = {"index": 0, "delta": {"role": "assistant", "content": ""}}
                self.wfile.write(f"data: {json.dumps({'choices': [role]})}\n\n".encode())
            for i, thought in enumerate(self.reasoning if chat else ()):
                time.sleep(self.chunk_pause_s)
                delta = {"reasoning_content" if i % 2 == 0 else "reasoning": thought}
                self.wfile.write(f"data: {json.dumps({'choices': [{'index': 0, 'delta': delta}]})}\n\n".encode())
                self._add("tokens", 1)
                if i == 0:
                    self._add("n", 1)
            for text in (" hello", " world", f" #{k}" if self.numbered else " again"):
                time.sleep(self.chunk_pause_s)
                choice = {"index": 0, "delta": {"content": text}} if chat else {"index": 0, "text": text}
                self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
                self._add("tokens", 1)
                if text == " hello" and not (chat and self.reasoning):
                    self._add("n", 1)
            last = {"index": 0, "delta": {}, "finish_reason": "length"} if chat else {"index": 0, "text": ""}
            last["finish_reason"] = "length"
            self.wfile.write(f"data: {json.dumps({'choices': [last]})}\n\ndata: [DONE]\n\n".encode())
        finally:
            self._add("running", -1)


def serving_config(
    model: Path, url: str, devices: list[int] | None = None, backend: str = "none", **load: Any
) -> ExperimentConfig:
    """An experiment of engine "server" attached to ``url``; ``load`` overrides the load section
    (keys of other sections as ``section__key``: ``server__api``, ``energy__idle_baseline_s``, …)."""
    data = copy.deepcopy(base_experiment(str(model)))
    data["engine"] = "server"
    data["energy"]["backend"] = backend
    data["num_input_prompts"] = 64
    data["server"].update(url=url, devices=devices if devices is not None else [])
    if devices:
        data["gpu_ids"] = devices
    data["load"].update({"pattern": "closed_loop", "concurrency": 2, "num_requests": 10, "warmup_requests": 2})
    for key, value in load.items():
        if "__" in key:
            section, name = key.split("__")
            if section == "top":
                data[name] = value
            else:
                data[section][name] = value
        else:
            data["load"][key] = value
    return parse_experiment(data)


def run_serving(config: ExperimentConfig, out: Path) -> dict[str, Any]:
    """Run the server engine on ``config`` into ``out``; its load summary (serving-rank-0.json)."""
    from joules_worker.engines import engine_for
    from joules_worker.events import EventEmitter

    engine_for("server").run(config, out, EventEmitter(rank=0))
    return json.loads((out / "serving-rank-0.json").read_text())
