"""The load's schedules and windows (pure), and the streaming client against a small fault server."""

from __future__ import annotations

import asyncio
import http.server
import json
from collections.abc import Iterator

import pytest
from _helpers import http_server

from joules_worker.engines.server import clock
from joules_worker.engines.server.http_stream import RequestRecord, endpoint, request_body, stream_request
from joules_worker.engines.server.load_generator import Target, client_session, send_request
from joules_worker.engines.server.load_patterns import (
    bursty_offsets,
    closed_loop_window,
    constant_offsets,
    open_loop_window,
    poisson_offsets,
    read_trace,
)
from joules_worker.errors import BadConfigError


def test_constant_and_poisson_schedules_are_bounded_and_seeded() -> None:
    assert constant_offsets(4.0, 3, None) == [0.0, 0.25, 0.5]
    assert constant_offsets(2.0, None, 2.0) == [0.0, 0.5, 1.0, 1.5]
    a, b = poisson_offsets(200.0, 2000, None, 7), poisson_offsets(200.0, 2000, None, 7)
    assert a == b and a != poisson_offsets(200.0, 2000, None, 8)
    gaps = [y - x for x, y in zip(a, a[1:], strict=False)]
    assert abs(sum(gaps) / len(gaps) - 1 / 200) < 0.0005  # mean gap 1/rate (2000 samples)


def test_bursty_sends_bursts_together_with_seeded_jitter() -> None:
    offsets = bursty_offsets(3, 1000.0, (0.0, 0.0), 7, None, 0)
    assert offsets == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0]
    jittered = bursty_offsets(2, 1000.0, (10.0, 20.0), 4, None, 1)
    assert jittered[0] == jittered[1] and 0.01 <= jittered[0] <= 0.02 and 1.01 <= jittered[2] <= 1.02


def test_trace_file_sorted_bounded_and_checked(tmp_path) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text('{"offset_s": 0.5, "output_tokens": 4}\n\n{"offset_s": 0.1, "input_tokens": 7}\n{"offset_s": 2}\n')
    rows = read_trace(str(f), None, 1.0)
    assert [(r.offset_s, r.max_tokens, r.input_tokens) for r in rows] == [(0.1, None, 7), (0.5, 4, None)]
    f.write_text('{"offset_s": -1}\n')
    with pytest.raises(BadConfigError, match=r"load.trace_file: .*t.jsonl:1: offset_s must be a number >= 0"):
        read_trace(str(f), None, None)


def test_closed_loop_steady_window_is_ml_energys_b_first_tokens_to_n_minus_b_minus_1_ends() -> None:
    """ML.ENERGY's RequestTracker with B = concurrency 2, N = 6: opens at the 2nd first token, closes
    at the 3rd (N − B − 1) end (the old rule opened when all slots were busy: the 2nd send, about t = 0)."""
    firsts = [0.5, 0.6, 1.1, 1.3, 1.9, 2.2]
    ends = [1.0, 1.2, 1.8, 2.0, 2.6, 2.9]
    assert closed_loop_window(6, firsts, ends, 2) == (0.6, 1.8)
    assert closed_loop_window(3, firsts[:3], ends[:3], 2) is None  # N − B − 1 = 0: no window


def test_open_loop_steady_window_leaves_the_ramp_up_out() -> None:
    """From the first send plus the p90 latency (the in-flight count has reached its level) to the
    last send. The old rule opened at the first completion (0.3 here), inside the ramp-up."""
    sends = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    latencies = [0.3, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
    assert open_loop_window(sends, latencies) == pytest.approx((0.8, 3.0))
    assert open_loop_window([0.0, 0.1], [1.0, 1.1]) is None  # too short


class _Fault(http.server.BaseHTTPRequestHandler):
    mode = "ok"
    received: list[float] = []  # noqa: RUF012 (each fixture's subclass gets its own list)

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.received.append(clock.now())  # the whole request is here
        if self.mode == "http400":
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b'{"detail":"Unexpected fields in the request: ignore_eos"}')
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()

        def chunk(text, **kw):
            return f"data: {json.dumps({'choices': [{'index': 0, 'text': text, **kw}]})}\n\n".encode()

        body = chunk("a") + chunk("b")
        if self.mode == "ok":
            body += chunk(
                "", finish_reason="stop"
            )  # no usage, no [DONE] (like transformers serve without include_usage)
        elif self.mode == "garbage":
            body += b"<html>oops</html>\n"
        self.wfile.write(body)


@pytest.fixture
def fault_server() -> Iterator[tuple[str, type[_Fault]]]:
    handler = type("H", (_Fault,), {"received": []})
    with http_server(handler) as url:
        yield url, handler


def _send(url: str, extra: dict | None = None) -> RequestRecord:
    import aiohttp

    async def go() -> RequestRecord:
        async with aiohttp.ClientSession() as s:
            body = request_body("completions", "m", "hi", 4, extra or {})
            return await stream_request(
                s, endpoint(url, "completions"), body, RequestRecord(0, None, 0.0), "completions", 5.0
            )

    return asyncio.run(go())


def test_a_whole_stream_without_usage_leaves_the_tokens_to_count(fault_server) -> None:
    url, handler = fault_server
    r = _send(url)
    assert r.ok and r.text == "ab" and r.input_tokens is None and r.output_tokens is None
    assert r.ttft_s is not None and len(r.itl_s) == 1


@pytest.mark.parametrize(
    ("mode", "kind", "message"),
    [
        ("garbage", "garbage", "not a server-sent event line"),
        ("truncated", "truncated", r"before a finish_reason or \[DONE\]"),
        ("http400", "http", "HTTP 400 .*Unexpected fields in the request: ignore_eos"),
    ],
)
def test_faults_end_in_the_record_with_their_kind(fault_server, mode: str, kind: str, message: str) -> None:
    url, handler = fault_server
    handler.mode = mode
    r = _send(url, {"ignore_eos": True})
    assert not r.ok and r.error_kind == kind
    assert __import__("re").search(message, r.error)


def test_request_body_streams_with_usage_and_sends_extra_body_only_when_configured() -> None:
    plain = request_body("chat", "m", "hi", 8, {})
    assert plain["stream"] is True and plain["stream_options"] == {"include_usage": True}
    assert plain["messages"] == [{"role": "user", "content": "hi"}] and "ignore_eos" not in plain
    assert request_body("completions", "m", "hi", 8, {"ignore_eos": True})["ignore_eos"] is True


def test_the_load_generators_send_time_is_when_the_body_was_written(fault_server) -> None:
    """TTFT and latency start when aiohttp hands the request to the socket (its trace), not before
    its own set-up: after the call began, no later than the server had the whole request."""
    url, handler = fault_server

    async def go() -> tuple[float, RequestRecord]:
        async with client_session(1) as s:
            before = clock.now()
            return before, await send_request(s, Target(url, "completions", "m", {}, 5.0), 0, "hi", 4)

    before, r = asyncio.run(go())
    assert r.ok and r.sent
    assert before < r.send_unix_s <= handler.received[0] < r.first_token_unix_s
    assert "sent" not in r.to_dict() and "text" not in r.to_dict()


def test_without_the_trace_the_send_time_is_stamped_before_the_post(fault_server) -> None:
    url, handler = fault_server
    r = _send(url)
    assert r.ok and not r.sent and 0.0 < r.send_unix_s <= handler.received[0]


def test_a_request_waiting_for_a_connection_counts_the_wait(fault_server) -> None:
    """One connection, two requests at once: the second's send time is when it began to wait (a
    busy server's queue is part of its latency), not when its body went out after the first ended."""
    url, _ = fault_server

    async def go() -> list[RequestRecord]:
        target = Target(url, "completions", "m", {}, 5.0)
        async with client_session(1) as s:
            return list(await asyncio.gather(*(send_request(s, target, i, "hi", 4) for i in range(2))))

    first, second = asyncio.run(go())
    assert first.ok and second.ok and first.sent and second.sent
    assert second.send_unix_s < first.end_unix_s
