"""The serving client against scripted fake servers (what the real vLLM here cannot show: reasoning
deltas, several tokens per chunk, rejected fields, failures): where TTFT is stamped, per-token ITL,
the decoding fields each dialect sends, failed requests up to load.max_error_share, the client's lag."""

from __future__ import annotations

import asyncio
import http.server
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _helpers import http_server

from joules_worker.engines.server import clock
from joules_worker.engines.server.http_stream import RequestRecord, stream_request

Script = list[tuple[float, Any]]  # (seconds to wait, then the data: payload: a dict or "[DONE]")


class _Scripted(http.server.BaseHTTPRequestHandler):
    """Answers every POST with ``script`` (one SSE event per step), or ``status`` and ``answer``."""

    script: Script = []
    status = 200
    answer = b""
    bodies: list[dict[str, Any]]

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.bodies.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
        self.send_response(self.status)
        if self.status >= 400:
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(self.answer)
            return
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        for wait, data in self.script:
            time.sleep(wait)
            payload = data if isinstance(data, str) else json.dumps(data)
            self.wfile.write(f"data: {payload}\n\n".encode())
            self.wfile.flush()


@pytest.fixture
def scripted() -> Iterator[tuple[str, type[_Scripted]]]:
    handler = type("H", (_Scripted,), {"bodies": []})
    with http_server(handler) as url:
        yield url, handler


def _stream(url: str, api: str = "completions") -> RequestRecord:
    import aiohttp

    async def go() -> RequestRecord:
        async with aiohttp.ClientSession() as session:
            record = RequestRecord(index=0, scheduled_s=None, send_unix_s=clock.now())
            path = "/v1/chat/completions" if api == "chat" else "/v1/completions"
            return await stream_request(session, url + path, {"model": "m", "stream": True}, record, api, 5.0)

    return asyncio.run(go())


def text(t: str, usage: int | None = None, finish: str | None = None) -> dict[str, Any]:
    chunk: dict[str, Any] = {"choices": [{"index": 0, "text": t, "finish_reason": finish}]}
    if usage is not None:
        chunk["usage"] = {"prompt_tokens": 3, "completion_tokens": usage}
    return chunk


def delta(usage: int | None = None, finish: str | None = None, **d: Any) -> dict[str, Any]:
    chunk: dict[str, Any] = {"choices": [{"index": 0, "delta": d, "finish_reason": finish}]}
    if usage is not None:
        chunk["usage"] = {"prompt_tokens": 3, "completion_tokens": usage}
    return chunk


FINAL = {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}}


def test_ttft_is_stamped_on_the_first_chunk_even_with_empty_text_and_every_chunk_is_a_token(scripted) -> None:
    """vLLM streams a token with no text of its own as an empty-text chunk: it is the first token
    when it comes first, and a gap after it (the client counted only chunks with text: TTFT late)."""
    url, h = scripted
    h.script = [
        (0.0, text("")),
        (0.3, text("a")),
        (0.0, text("")),
        (0.0, text("b", finish="length")),
        (0, FINAL),
        (0, "[DONE]"),
    ]
    r = _stream(url)
    assert r.ok, r.error
    assert r.ttft_s < 0.25  # stamped on the empty first chunk, not 0.3 s later on "a"
    assert len(r.itl_s) == 3 and r.itl_s[0] >= 0.25
    assert (r.chunk_tokens, r.itl_source, r.output_tokens, r.text) == ([1, 1, 1, 1], "chunks", 4, "ab")


def test_reasoning_deltas_are_output_ttft_at_the_first_reasoning_token(scripted) -> None:
    """A reasoning model's chat stream: the role alone is no token (transformers serve sends it before
    any), reasoning (``reasoning_content`` or vLLM's ``reasoning``) and content are; the server's
    count of reasoning tokens is kept."""
    url, h = scripted
    final = {
        "choices": [],
        "usage": {"prompt_tokens": 3, "completion_tokens": 5, "completion_tokens_details": {"reasoning_tokens": 3}},
    }
    h.script = [
        (0.0, delta(role="assistant")),
        (0.3, delta(reasoning_content="think")),
        (0.0, delta(reasoning=" more")),
        (0.0, delta(reasoning_content=" done")),
        (0.3, delta(content="Answer")),
        (0.0, delta(content=".", finish="stop")),
        (0.0, final),
        (0.0, "[DONE]"),
    ]
    r = _stream(url, "chat")
    assert r.ok, r.error
    assert 0.25 < r.ttft_s < 0.55  # the first reasoning chunk, not the role (0 s) nor the answer (0.6 s)
    assert len(r.itl_s) == 4 and sum(r.itl_s) >= 0.25  # the wait before the answer is an inter-token gap
    assert (r.output_tokens, r.reasoning_tokens, r.text) == (5, 3, "think more doneAnswer.")
    assert r.to_dict()["reasoning_tokens"] == 3


def test_a_chunk_of_k_tokens_gives_k_gaps_from_the_servers_running_count(scripted) -> None:
    """vLLM's continuous usage stats give each chunk's token count: 1, then 3 (two more), then 4."""
    url, h = scripted
    h.script = [
        (0.0, text("a", usage=1)),
        (0.2, text("bc", usage=3)),
        (0.1, text("d", usage=4, finish="length")),
        (0, FINAL),
        (0, "[DONE]"),
    ]
    r = _stream(url)
    assert r.ok, r.error
    assert (r.chunk_tokens, r.itl_source, r.output_tokens) == ([1, 2, 1], "usage", 4)
    g1, g2 = r.chunk_gaps_s
    assert r.itl_s == pytest.approx([g1 / 2, g1 / 2, g2]) and g1 >= 0.15
    out = r.to_dict()
    assert out["chunk_gaps_s"] == [g1, g2] and out["chunk_tokens"] == [1, 2, 1] and out["itl_source"] == "usage"


def test_a_closing_chunk_with_empty_text_and_the_final_usage_is_no_token(scripted) -> None:
    """transformers serve closes with ``{"text": "", "finish_reason", "usage"}`` after the tokens."""
    url, h = scripted
    h.script = [(0.0, text("a")), (0.0, text("b")), (0.1, text("", usage=2, finish="length"))]
    r = _stream(url)
    assert r.ok, r.error
    assert (r.chunk_tokens, len(r.itl_s), r.output_tokens) == ([1, 1], 1, 2)


def test_a_closing_chunk_with_empty_text_is_a_token_when_the_final_count_says_so(scripted) -> None:
    """vLLM ends a request stopped by EOS with an empty-text chunk carrying the finish_reason: the
    EOS token (its final usage counts it)."""
    url, h = scripted
    final = {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 3}}
    h.script = [(0.0, text("a")), (0.0, text("b")), (0.1, text("", finish="stop")), (0, final), (0, "[DONE]")]
    r = _stream(url)
    assert r.ok, r.error
    assert (r.chunk_tokens, len(r.itl_s), r.output_tokens) == ([1, 1, 1], 2, 3) and r.itl_s[1] >= 0.08


def test_a_4xx_rejecting_fields_names_them(scripted) -> None:
    url, h = scripted
    h.status, h.answer = 422, b"{\"detail\":\"Unexpected fields in the request: {'min_tokens', 'top_k'}\"}"
    r = _stream(url)
    assert r.error_kind == "http" and r.rejected_fields == []  # neither was in the body sent
    import aiohttp

    async def go() -> RequestRecord:
        async with aiohttp.ClientSession() as session:
            record = RequestRecord(index=0, scheduled_s=None, send_unix_s=clock.now())
            body = {"model": "m", "top_k": 0, "min_tokens": 0}
            return await stream_request(session, url + "/v1/completions", body, record, "completions", 5.0)

    r = asyncio.run(go())
    assert r.rejected_fields == ["min_tokens", "top_k"]
    assert "HTTP 422" in r.error and "the server rejected the request field(s) min_tokens, top_k" in r.error


# ---- the engine against a fake server: decoding fields per dialect, failures, the client's lag ----

OPENAI_FIELDS = {
    "model",
    "prompt",
    "max_tokens",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "frequency_penalty",
}


class _Server(http.server.BaseHTTPRequestHandler):
    """``owner`` None: like transformers serve (GET /v1/models fails, a field outside OpenAI's is
    rejected with its 422); else /v1/models names ``owner`` and every field is taken. Streams two
    tokens; every ``fail_every``-th POST breaks off after the first (truncated)."""

    owner: str | None = None
    fail_every = 0
    posts = 0
    bodies: list[dict[str, Any]]

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, data: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("content-type", kind)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.owner is None:
            self._send(500, b'{"detail": "CacheNotFound"}')
        else:
            self._send(200, json.dumps({"data": [{"id": "m", "owned_by": self.owner}]}).encode())

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.bodies.append(body)
        unexpected = set(body) - OPENAI_FIELDS
        if self.owner is None and unexpected:
            self._send(422, json.dumps({"detail": f"Unexpected fields in the request: {unexpected}"}).encode())
            return
        type(self).posts += 1
        chunks = [text("a"), text("b", finish="length"), FINAL, "[DONE]"]
        if self.fail_every and self.posts % self.fail_every == 0:
            chunks = chunks[:1]
        events = "".join(f"data: {c if isinstance(c, str) else json.dumps(c)}\n\n" for c in chunks)
        self._send(200, events.encode(), "text/event-stream")


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Server]]]:
    handler = type("S", (_Server,), {"bodies": [], "posts": 0})
    with http_server(handler) as url:
        yield url, handler


def _run(model: Any, url: str, tmp_path: Any, top: dict[str, Any] | None = None, **load: Any) -> list[dict[str, Any]]:
    """Run the engine (closed loop, 12 requests, 1 warm-up); the requests file's lines."""
    import copy

    from conftest import base_experiment

    from joules_worker.config import parse_experiment
    from joules_worker.engines import engine_for
    from joules_worker.events import EventEmitter

    data = copy.deepcopy(base_experiment(str(model)))
    data["engine"] = "server"
    data["num_input_prompts"] = 16  # 12 measured + 1 warm-up, each a prompt of its own
    data["server"].update(url=url, devices=[])
    data["load"].update({"pattern": "closed_loop", "concurrency": 2, "num_requests": 12, "warmup_requests": 1, **load})
    for key, value in (top or {}).items():
        section, _, name = key.rpartition(".")
        (data[section] if section else data)[name] = value
    engine_for("server").run(parse_experiment(data), tmp_path, EventEmitter(rank=0))
    return [json.loads(line) for line in (tmp_path / "requests-rank-0.jsonl").read_text().splitlines()]


def test_a_transformers_serve_like_server_gets_openais_decoding_fields(tmp_path, tiny_model_dir, server) -> None:
    """dialect auto, no vLLM at /v1/models: greedy as temperature 0 and the repetition penalty pinned
    through frequency_penalty 0 (transformers serve maps it to repetition_penalty 1.0), nothing it rejects."""
    url, h = server
    _run(tiny_model_dir, url, tmp_path)
    assert len(h.bodies) == 13
    assert all(b["temperature"] == 0.0 and b["frequency_penalty"] == 0.0 for b in h.bodies)
    assert all(set(b) <= OPENAI_FIELDS and b["stream_options"] == {"include_usage": True} for b in h.bodies)


def test_a_vllm_server_gets_the_experiments_sampling_min_tokens_and_the_pinned_penalty(
    tmp_path, tiny_model_dir, server
) -> None:
    url, h = server
    h.owner = "vllm"
    decoding = {"mode": "sampling", "temperature": 0.7, "top_p": 0.9, "top_k": 20}
    _run(tiny_model_dir, url, tmp_path, {"decoding": decoding, "min_output_tokens": 2})
    want = {"temperature": 0.7, "top_p": 0.9, "top_k": 20, "min_p": 0.0, "repetition_penalty": 1.0, "min_tokens": 2}
    assert all({k: b[k] for k in want} == want for b in h.bodies)
    assert all(b["stream_options"] == {"include_usage": True, "continuous_usage_stats": True} for b in h.bodies)
    # one prefix-cache salt for the experiment's requests (warm-up included), another for the next
    salts = {b["cache_salt"] for b in h.bodies}
    assert len(salts) == 1 and salts.pop().startswith("joules-")
    first = len(h.bodies)
    _run(tiny_model_dir, url, tmp_path / "again", {"decoding": decoding, "min_output_tokens": 2})
    assert h.bodies[first]["cache_salt"] != h.bodies[0]["cache_salt"]


def test_a_server_rejecting_a_field_fails_the_warm_up_naming_it_and_the_key_that_sent_it(
    tmp_path, tiny_model_dir, server
) -> None:
    from joules_worker.errors import ServerError

    url, _ = server
    with pytest.raises(
        ServerError, match=r"warm-up request 1 failed: HTTP 422 .*rejected the request field\(s\) "
    ) as e:
        _run(tiny_model_dir, url, tmp_path, {"server.dialect": "vllm", "server.extra_body": {"ignore_eos": True}})
    message = str(e.value)
    assert "min_tokens" in message and "sent for server.dialect vllm (set server.dialect: openai)" in message
    assert "ignore_eos from server.extra_body" in message


def test_openai_dialect_refuses_a_setting_it_cannot_send(tmp_path, tiny_model_dir, server) -> None:
    from joules_worker.errors import BadConfigError

    url, _ = server
    with pytest.raises(BadConfigError, match=r"min_output_tokens: 3 cannot be sent with server.dialect openai"):
        _run(tiny_model_dir, url, tmp_path, {"server.dialect": "openai", "min_output_tokens": 3})


def test_failed_requests_are_kept_and_counted_up_to_load_max_error_share(tmp_path, tiny_model_dir, server) -> None:
    """2 of 12 requests truncated: kept in the requests file under a bound of 0.2; past the default
    0.05 the experiment fails saying so (it failed on the first truncated stream)."""
    from joules_worker.errors import ServerError

    url, h = server
    h.fail_every = 6  # POSTs 6 and 12 of 13 (the first is the warm-up)
    lines = _run(tiny_model_dir, url, tmp_path, max_error_share=0.2)
    assert len(lines) == 12 and [r["error_kind"] for r in lines].count("truncated") == 2
    h.posts = 0
    with pytest.raises(ServerError, match=r"2 of 12 requests failed \(17%\), more than load.max_error_share 0.05"):
        _run(tiny_model_dir, url, tmp_path / "again")


def test_a_server_dead_for_every_request_fails_whatever_the_bound(tmp_path, tiny_model_dir) -> None:
    import socket

    from joules_worker.errors import ServerError

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ServerError, match=r"all 12 requests failed"):
        _run(tiny_model_dir, f"http://127.0.0.1:{port}", tmp_path, warmup_requests=0, max_error_share=1.0)


def test_the_open_loop_records_each_sends_lag_and_warns_when_the_client_fell_behind(server, caplog) -> None:
    """10 sends 10 ms apart; preparing the third blocks the loop 80 ms: the later ones go out late."""
    from joules_worker.engines.server.load_generator import Target, open_loop
    from joules_worker.engines.server.load_patterns import Arrival

    url, _ = server

    def request_for(i: int, a: Any) -> tuple[str, int]:
        if i == 2:
            time.sleep(0.08)
        return "hi", 2

    target = Target(url, "completions", "m", {}, 5.0)
    with caplog.at_level(logging.WARNING):
        _, records = asyncio.run(open_loop(target, request_for, [Arrival(i * 0.01) for i in range(10)]))
    assert all(r.ok and r.send_lag_s is not None and r.send_lag_s >= 0 for r in records)
    assert records[3].send_lag_s > 0.05 and records[3].to_dict()["send_lag_s"] == records[3].send_lag_s
    assert "the load generator fell behind its schedule: p99 send lag" in caplog.text


def test_rejected_fields_are_read_from_the_usual_4xx_answers_and_kept_to_what_was_sent() -> None:
    from joules_worker.engines.server.request_fields import rejected_fields

    body = {"model": "m", "top_k": 0, "min_tokens": 0, "stream_options": {}}
    transformers = "{\"detail\":\"Unexpected fields in the request: {'top_k', 'min_tokens'}\"}"
    pydantic = '{"detail":[{"type":"extra_forbidden","loc":["body","top_k"]},{"loc":["body","stream_options","x"]}]}'
    openai = '{"error":{"message":"Unrecognized request argument supplied: min_tokens","param":null}}'
    assert sorted(rejected_fields(transformers, body)) == ["min_tokens", "top_k"]
    assert rejected_fields(pydantic, body) == ["top_k", "stream_options.x"]
    assert rejected_fields(openai, body) == ["min_tokens"]
    assert rejected_fields("Bad Gateway", body) == [] and rejected_fields('{"detail": "model not found"}', body) == []


def test_greedy_is_temperature_0_in_both_dialects_and_only_vllm_gets_its_extensions() -> None:
    from types import SimpleNamespace

    from joules_worker.engines.server.request_fields import body_fields

    greedy = SimpleNamespace(mode="greedy", temperature=None, top_p=None, top_k=None)
    assert body_fields("openai", greedy, 0) == {"temperature": 0.0, "frequency_penalty": 0.0}
    vllm = body_fields("vllm", greedy, 4)
    assert vllm["temperature"] == 0.0 and vllm["repetition_penalty"] == 1.0 and vllm["min_tokens"] == 4
    sampling = SimpleNamespace(mode="sampling", temperature=None, top_p=None, top_k=None)
    assert body_fields("openai", sampling, 0) == {"temperature": 1.0, "top_p": 1.0, "frequency_penalty": 0.0}
