"""stream_request against small raw-socket servers: a stall (headers or data, then silence) fails as
``stall`` after request_timeout_s; a whole stream still succeeds with the read timeout armed."""

from __future__ import annotations

import asyncio
import json
import time

from joules_worker.engines.server import clock
from joules_worker.engines.server.http_stream import RequestRecord, stream_request

CHUNK = "data: " + json.dumps({"choices": [{"index": 0, "text": "a"}]}) + "\n\n"
LAST = "data: " + json.dumps(
    {
        "choices": [{"index": 0, "text": "", "finish_reason": "length"}],
        "usage": {"prompt_tokens": 2, "completion_tokens": 1},
    }
)
HEAD = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def _chunked(text: str) -> bytes:
    data = text.encode()
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def _run(mode: str, timeout_s: float, on_headers=None) -> tuple[RequestRecord, float]:
    import aiohttp

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if on_headers is not None:
            on_headers()
        if mode != "no-headers":
            writer.write(HEAD.encode() + _chunked(CHUNK))
        if mode == "whole":
            writer.write(_chunked(LAST + "\n\n") + b"0\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(30)  # then silence, the connection held open

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as session:
            record = RequestRecord(index=0, scheduled_s=None, send_unix_s=clock.now())
            t0 = time.monotonic()
            body = {"model": "m", "prompt": "hi", "max_tokens": 1, "stream": True}
            await stream_request(
                session, f"http://127.0.0.1:{port}/v1/completions", body, record, "completions", timeout_s
            )
            return record, time.monotonic() - t0
    finally:
        server.close()


def test_a_stream_that_goes_silent_fails_as_stall_after_the_timeout() -> None:
    record, elapsed = asyncio.run(_run("stall", 0.5))
    assert record.error_kind == "stall"
    assert "no data from the server for 0.5 s" in record.error
    assert record.ttft_s is not None  # the first chunk was read before the silence
    assert 0.4 < elapsed < 5


def test_a_server_that_never_answers_fails_as_stall_too() -> None:
    record, elapsed = asyncio.run(_run("no-headers", 0.5))
    assert record.error_kind == "stall" and record.status is None
    assert 0.4 < elapsed < 5


def test_a_whole_stream_succeeds_with_the_read_timeout_armed() -> None:
    record, _ = asyncio.run(_run("whole", 0.5))
    assert record.ok, record.error
    assert (record.output_tokens, record.input_tokens, record.text) == (1, 2, "a")


def test_a_wall_clock_step_mid_request_bends_no_duration(monkeypatch) -> None:
    """TTFT and end-to-end latency come from the monotonic clock: the wall clock jumping 1000 s
    forward while the request is in flight changes neither (it did when they were time.time())."""
    real = time.time
    record, elapsed = asyncio.run(
        _run("whole", 5.0, on_headers=lambda: monkeypatch.setattr(time, "time", lambda: real() + 1000.0))
    )
    assert record.ok, record.error
    assert 0 <= record.ttft_s <= elapsed
    assert 0 <= record.to_dict()["e2e_s"] <= elapsed
