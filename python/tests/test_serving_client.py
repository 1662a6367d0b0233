"""The serving client against scripted fake servers (what the real vLLM here cannot show: reasoning
deltas, several tokens per chunk, rejected fields, failures): where TTFT is stamped, per-token ITL,
the decoding fields each dialect sends, failed requests up to load.max_error_share, the client's lag."""

from __future__ import annotations

import asyncio
import http.server
import json
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
