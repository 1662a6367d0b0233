"""One streamed request to an OpenAI-compatible server (aiohttp): its timings, tokens and outcome.

Streaming is always on, with ``stream_options.include_usage``: the last ``data:`` chunk carries the
server's token counts (vLLM's dialect asks for them on every chunk too, see request_record.py for
how chunks become per-token timings). A stream is whole when it ends with ``[DONE]`` or after a chunk
with a ``finish_reason`` (transformers serve sends no ``[DONE]``); otherwise it is truncated. Where a
server sends no usage, the caller counts tokens with the model's tokenizer and flags it
(``tokens_counted``). Times are Unix seconds from ``clock.now()`` (monotonic within the process). A
4xx answer that rejects request fields names them (``rejected_fields``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from typing import Any

from joules_worker.engines.server import clock
from joules_worker.engines.server.request_fields import endpoint, rejected_fields, request_body
from joules_worker.engines.server.request_record import RequestRecord

__all__ = ["RequestRecord", "StreamError", "endpoint", "request_body", "stream_request"]


def _choice(chunk: dict[str, Any], api: str) -> tuple[bool, str, str] | None:
    """None for a chunk without choices; else (whether it carries output, its text: reasoning and
    content, its reasoning alone). A completions chunk carries output even with empty text; a chat
    delta with content or reasoning does, one that only announces the role does not."""
    choices = chunk.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    c = choices[0]
    if api != "chat":
        text = c.get("text")
        return (True, text, "") if isinstance(text, str) else (False, "", "")
    delta = c.get("delta")
    if not isinstance(delta, dict):
        return False, "", ""
    reasoning = delta.get("reasoning_content")
    if not isinstance(reasoning, str):
        reasoning = delta.get("reasoning")  # vLLM's name since 0.10
    parts = [p for p in (reasoning, delta.get("content")) if isinstance(p, str)]
    text = "".join(parts)
    carries = bool(text) or (bool(parts) and "role" not in delta) or bool(delta.get("tool_calls"))
    return carries, text, reasoning if isinstance(reasoning, str) else ""


def _read_chunk(record: RequestRecord, chunk: dict[str, Any], api: str, now: float) -> None:
    usage = chunk.get("usage") if isinstance(chunk.get("usage"), dict) else None
    count = usage.get("completion_tokens") if usage is not None else None
    count = count if isinstance(count, int) else None
    out = _choice(chunk, api)
    if out is not None:
        carries, piece, thought = out
        if record.itl_source is None:  # the first chunk tells whether every chunk carries usage
            record.itl_source = "chunks" if count is None else "usage"
        if record.itl_source == "usage" and count is not None:
            tokens = max(count - record.usage_tokens, 0)
            record.usage_tokens = max(count, record.usage_tokens)
        else:
            if record.itl_source == "usage":
                record.itl_source = "chunks"  # a chunk without the running count: counted from here
            closing = any(isinstance(c, dict) and c.get("finish_reason") for c in chunk["choices"])
            if carries and not piece and closing:
                # vLLM's EOS token, or transformers serve's closing chunk (no token): the final usage decides
                record.closing_unix_s, tokens = now, 0
            else:
                tokens = 1 if carries else 0
        record.add_chunk(now, tokens)
        record.add_reasoning(now, tokens, thought, piece)
        record.text += piece
    if usage is not None:
        if isinstance(usage.get("prompt_tokens"), int):
            record.input_tokens = usage["prompt_tokens"]
        if count is not None:
            record.output_tokens = count
        details = usage.get("completion_tokens_details")
        if isinstance(details, dict) and isinstance(details.get("reasoning_tokens"), int):
            record.reasoning_tokens = details["reasoning_tokens"]
            record.reasoning_source = "usage"


DRAIN_S = 0.05  # how long the rest of a finished stream's body may take to arrive


class StreamError(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@functools.lru_cache(maxsize=8)
def _timeout(timeout_s: float) -> Any:
    """aiohttp's own read timeout (sock_read: no byte for timeout_s) detects a stall; one object per value.

    (asyncio.wait_for around each readline did the same at the cost of a task per line.)"""
    import aiohttp

    return aiohttp.ClientTimeout(total=None, sock_connect=timeout_s, sock_read=timeout_s)


_JSON = {"Content-Type": "application/json"}


def _stall(timeout_s: float) -> StreamError:
    return StreamError("stall", f"no data from the server for {timeout_s:g} s (request_timeout_s)")


async def _http_error(resp: Any, url: str, body: dict[str, Any], record: RequestRecord) -> StreamError:
    text = (await resp.text())[:500]
    record.rejected_fields = rejected_fields(text, body) if 400 <= resp.status < 500 else []
    named = (
        f"the server rejected the request field(s) {', '.join(record.rejected_fields)}: "
        if record.rejected_fields
        else ""
    )
    return StreamError("http", f"HTTP {resp.status} from {url}: {named}{text}")


async def stream_request(
    session: Any,
    url: str,
    body: dict[str, Any],
    record: RequestRecord,
    api: str,
    timeout_s: float,
) -> RequestRecord:
    """Send ``body``, read the SSE stream into ``record``; errors end in record.error, never raise."""
    import aiohttp

    payload = json.dumps(body).encode()
    # stamped after the body is encoded, and again when it is written where the session traces it
    # (load_generator.client_session): the client's own preparation is not in TTFT or latency
    record.send_unix_s = clock.now()
    try:
        async with session.post(
            url, data=payload, headers=_JSON, timeout=_timeout(timeout_s), trace_request_ctx=record
        ) as resp:
            record.status = resp.status
            if resp.status >= 400:
                raise await _http_error(resp, url, body, record)
            done = False
            content = resp.content
            while True:
                raw = await content.readline()
                now = clock.now()  # when the line reached the client, before it is parsed
                if not raw:
                    break
                line = raw.decode("utf-8", "replace").strip()
                if not line or line.startswith(":"):
                    continue
                if not line.startswith("data:"):
                    if line.startswith(("event:", "id:", "retry:")):
                        continue
                    raise StreamError("garbage", f"not a server-sent event line: {line[:120]!r}")
                data = line[5:].strip()
                if data == "[DONE]":
                    done = True
                    break
                try:
                    chunk = json.loads(data)
                except json.JSONDecodeError:
                    raise StreamError("garbage", f"a data chunk that is not JSON: {data[:120]!r}") from None
                if not isinstance(chunk, dict):
                    raise StreamError("garbage", f"a data chunk that is not a JSON object: {data[:120]!r}")
                if "error" in chunk:
                    raise StreamError(
                        "http", f"the server reported an error mid-stream: {json.dumps(chunk['error'])[:300]}"
                    )
                if any(isinstance(c, dict) and c.get("finish_reason") for c in chunk.get("choices") or []):
                    done = True  # some servers (transformers serve) send no [DONE] after the last chunk
                _read_chunk(record, chunk, api, now)
            if not done:
                raise StreamError("truncated", "the stream ended before a finish_reason or [DONE] (truncated)")
            record.end_unix_s = clock.now()
            record.close_chunks()
            # the body's end (the chunked encoding's last chunk, after [DONE]): aiohttp returns the
            # connection to its pool only once it is read; left unread, the next request opens a
            # new connection and its handshake lands in that request's TTFT
            with contextlib.suppress(Exception):
                await asyncio.wait_for(content.read(), DRAIN_S)
    except StreamError as e:
        record.error, record.error_kind = str(e), e.kind
    except aiohttp.ConnectionTimeoutError as e:  # sock_connect ran out
        record.error, record.error_kind = f"cannot reach the server at {url}: {e}", "unreachable"
    except (aiohttp.ServerTimeoutError, asyncio.TimeoutError):  # sock_read ran out: a stall
        e = _stall(timeout_s)
        record.error, record.error_kind = str(e), e.kind
    except (aiohttp.ClientConnectorError, ConnectionRefusedError) as e:
        record.error, record.error_kind = f"cannot reach the server at {url}: {e}", "unreachable"
    except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError) as e:
        record.error, record.error_kind = f"the server broke the stream: {type(e).__name__}: {e}", "truncated"
    except aiohttp.ClientError as e:
        record.error, record.error_kind = f"{type(e).__name__}: {e}", "unreachable"
    if record.error is not None and record.end_unix_s is None:
        record.end_unix_s = clock.now()
    return record
