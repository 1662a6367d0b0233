"""One streamed request to an OpenAI-compatible server (aiohttp): its timings, tokens and outcome.

Streaming is always on, with ``stream_options.include_usage``: the last ``data:`` chunk carries the
server's token counts. A stream is whole when it ends with ``[DONE]`` or after a chunk with a
``finish_reason`` (transformers serve sends no ``[DONE]``); otherwise it is truncated. Where a server sends none, the caller counts tokens with the model's tokenizer
and flags it (``tokens_counted``). Times are Unix seconds from ``clock.now()`` (monotonic within the process); ``itl_s`` are the gaps between
content chunks after the first.
"""

from __future__ import annotations

import asyncio
import functools
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from joules_worker.engines.server import clock


@dataclass
class RequestRecord:
    index: int
    scheduled_s: float | None  # planned send offset from the load start (open loop), else None
    send_unix_s: float
    first_token_unix_s: float | None = None
    end_unix_s: float | None = None
    ttft_s: float | None = None
    itl_s: list[float] = field(default_factory=list)
    input_tokens: int | None = None
    output_tokens: int | None = None
    tokens_counted: bool = False  # True: no usage from the server, counted with the tokenizer
    status: int | None = None  # HTTP status; None when no response came
    error: str | None = None  # why it failed; None = success
    error_kind: str | None = None  # "http" | "garbage" | "truncated" | "stall" | "unreachable"
    text: str = field(default="", repr=False)  # not written; used to count tokens
    sent: bool = field(default=False, repr=False)  # not written; send_unix_s was restamped by the trace

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("text")
        out.pop("sent")
        e2e = None if self.end_unix_s is None else self.end_unix_s - self.send_unix_s
        out["e2e_s"] = e2e
        return out


def request_body(api: str, model: str, prompt: str, max_tokens: int, extra: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if api == "chat":
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    body.update(extra)
    return body


def endpoint(base_url: str, api: str) -> str:
    return base_url.rstrip("/") + ("/v1/chat/completions" if api == "chat" else "/v1/completions")


def _chunk_text(chunk: dict[str, Any], api: str) -> str:
    choices = chunk.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return ""
    c = choices[0]
    if api == "chat":
        delta = c.get("delta") or {}
        return delta.get("content") or "" if isinstance(delta, dict) else ""
    return c.get("text") or ""


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

    last = None
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
                text = (await resp.text())[:500]
                raise StreamError("http", f"HTTP {resp.status} from {url}: {text}")
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
                piece = _chunk_text(chunk, api)
                if piece:
                    if record.first_token_unix_s is None:
                        record.first_token_unix_s = now
                        record.ttft_s = now - record.send_unix_s
                    elif last is not None:
                        record.itl_s.append(now - last)
                    last = now
                    record.text += piece
                usage = chunk.get("usage")
                if isinstance(usage, dict):
                    if isinstance(usage.get("prompt_tokens"), int):
                        record.input_tokens = usage["prompt_tokens"]
                    if isinstance(usage.get("completion_tokens"), int):
                        record.output_tokens = usage["completion_tokens"]
            if not done:
                raise StreamError("truncated", "the stream ended before a finish_reason or [DONE] (truncated)")
            record.end_unix_s = clock.now()
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
