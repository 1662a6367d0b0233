"""The load generator: asyncio + aiohttp, one event loop, one connection pool.

Closed loop: ``concurrency`` users, each sending its next request when its last one ends, until
``num_requests`` were sent or ``duration_s`` passed. Open loop: requests sent at their scheduled
offsets (constant, poisson, bursty, trace) whatever the server's state; ``scheduled_s`` keeps the
plan, and each record's ``send_lag_s`` how late its send ran behind it. The client is *behind* when
the p99 of those lags exceeds both ``LAG_FLOOR_S`` (10 ms: an asyncio loop's ordinary jitter stays well
below it) and ``LAG_SHARE`` (a tenth) of the mean time between scheduled sends (below that the arrival
process keeps its shape); a warning is logged then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from joules_worker.engines.server import clock
from joules_worker.engines.server.http_stream import RequestRecord, endpoint, request_body, stream_request
from joules_worker.engines.server.load_patterns import Arrival
from joules_worker.engines.server.request_fields import Prompt, dialect_fields

logger = logging.getLogger(__name__)
LAG_FLOOR_S = 0.010
LAG_SHARE = 0.1

# Requests (prompt, max_tokens) or (prompt, max_tokens, own body fields) by index; the caller cycles its prompts.
RequestFor = Callable[[int, Arrival | None], tuple[str, int] | tuple[str, int, dict[str, Any] | None]]


@dataclass(frozen=True)
class Target:
    base_url: str
    api: str
    model: str  # the "model" field of each request
    extra_body: dict[str, Any]
    request_timeout_s: float
    fields: dict[str, Any] = field(default_factory=dict)  # the dialect's (request_fields.body_fields)
    dialect: str | None = None  # which dialect ``fields`` speak

    @classmethod
    def of(cls, config: Any) -> Target:
        """The experiment's server, its decoding settings in the server's dialect (``auto``: asked)."""
        s = config.server
        dialect, fields = dialect_fields(s, config.decoding, config.min_output_tokens)
        return cls(s.url, s.api, config.model_name, dict(s.extra_body), s.request_timeout_s, fields, dialect)


async def _stamp(_session: Any, ctx: Any, _params: Any) -> None:
    record = ctx.trace_request_ctx
    if isinstance(record, RequestRecord) and not record.sent:
        record.send_unix_s, record.sent = clock.now(), True


def client_session(limit: int) -> Any:
    """The one aiohttp session (keep-alive pool of ``limit`` connections) a load runs on.

    Its trace restamps each request's ``send_unix_s``: when it began to wait for a free connection
    or to open one (a server too busy to accept is part of its latency), else, on a kept-alive
    connection, when the body (which aiohttp writes together with the headers) was handed to the
    socket. aiohttp's own request set-up (~0.25 ms of CPU on a small host) is then not counted in
    TTFT or end-to-end latency: the server never saw it."""
    import aiohttp

    trace = aiohttp.TraceConfig()
    trace.on_connection_queued_start.append(_stamp)
    trace.on_connection_create_start.append(_stamp)
    trace.on_request_chunk_sent.append(_stamp)
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit, force_close=False, ttl_dns_cache=300)
    return aiohttp.ClientSession(connector=connector, trace_configs=[trace])


async def send_request(
    session: Any,
    target: Target,
    index: int,
    prompt: Prompt,
    max_tokens: int,
    scheduled: float | None = None,
    own: dict[str, Any] | None = None,
) -> RequestRecord:
    """One streamed request on ``session`` (``own``: this request's own body fields, request_fields.py);
    failures end in the record, never raise."""
    record = RequestRecord(index=index, scheduled_s=scheduled, send_unix_s=clock.now())
    body = request_body(target.api, target.model, prompt, max_tokens, target.extra_body, target.fields, own)
    return await stream_request(
        session, endpoint(target.base_url, target.api), body, record, target.api, target.request_timeout_s
    )


async def until(loop: asyncio.AbstractEventLoop, due: float) -> None:
    """Wait for ``due`` (the loop's clock): a sleep to just before it, then the last millisecond
    yielding without sleeping (an asyncio sleep alone wakes up to a few ms late)."""
    delay = due - loop.time()
    if delay > 0.002:
        await asyncio.sleep(delay - 0.001)
    while loop.time() < due:
        await asyncio.sleep(0)


async def closed_loop(
    target: Target,
    request_for: RequestFor,
    concurrency: int,
    num_requests: int | None,
    duration_s: float | None,
) -> tuple[float, list[RequestRecord]]:
    """Returns (load start, records in send order)."""
    records: list[RequestRecord] = []
    counter = 0
    start = clock.now()
    deadline = None if duration_s is None else start + duration_s

    def next_index() -> int | None:
        nonlocal counter
        if (num_requests is not None and counter >= num_requests) or (deadline is not None and clock.now() >= deadline):
            return None
        counter += 1
        return counter - 1

    async def user(session: Any) -> None:
        while (i := next_index()) is not None:
            prompt, max_tokens, *own = request_for(i, None)
            records.append(await send_request(session, target, i, prompt, max_tokens, None, *own))

    async with client_session(concurrency) as session:
        await asyncio.gather(*(user(session) for _ in range(concurrency)))
    records.sort(key=lambda r: r.index)
    return start, records


async def open_loop(
    target: Target,
    request_for: RequestFor,
    arrivals: Sequence[Arrival],
    max_connections: int = 10_000,
) -> tuple[float, list[RequestRecord]]:
    """Send each arrival at its offset (a sleep to just before it, then a short spin for precision)."""
    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task[RequestRecord]] = []
    async with client_session(max_connections) as session:
        start_mono = loop.time()
        start = clock.now()
        for i, a in enumerate(arrivals):
            await until(loop, start_mono + a.offset_s)
            prompt, max_tokens, *own = request_for(i, a)
            tasks.append(asyncio.ensure_future(send_request(session, target, i, prompt, max_tokens, a.offset_s, *own)))
        records = list(await asyncio.gather(*tasks))
    for r, a in zip(records, arrivals, strict=False):
        r.send_lag_s = max(r.send_unix_s - (start + a.offset_s), 0.0)
    p99, threshold = client_lag(records)
    if p99 is not None and p99 > threshold:
        logger.warning(
            "the load generator fell behind its schedule: p99 send lag %.1f ms > %.1f ms (the figures hold, "
            "but the server saw a different arrival process than planned)",
            p99 * 1000,
            threshold * 1000,
        )
    return start, records


def _p99(values: list[float]) -> float:
    """numpy's default (linear) percentile, as @joules/metrics computes it."""
    v = sorted(values)
    pos = (len(v) - 1) * 0.99
    lo = int(pos)
    return v[lo] + (v[min(lo + 1, len(v) - 1)] - v[lo]) * (pos - lo)


def client_lag(records: Sequence[RequestRecord]) -> tuple[float | None, float]:
    """(p99 of the send lags or None, the threshold above which the client is behind)."""
    lags = [r.send_lag_s for r in records if r.send_lag_s is not None]
    offsets = sorted(r.scheduled_s for r in records if r.scheduled_s is not None)
    mean_gap = (offsets[-1] - offsets[0]) / (len(offsets) - 1) if len(offsets) > 1 else 0.0
    return (_p99(lags) if lags else None), max(LAG_FLOOR_S, LAG_SHARE * mean_gap)


async def sequential(target: Target, requests: Sequence[tuple[str, int]], pause_s: float = 0.0) -> list[RequestRecord]:
    """Requests one after the other on one connection, ``pause_s`` between the end of one and the next
    (the warm-up; the agreement benchmark paces both clients alike)."""
    out: list[RequestRecord] = []
    async with client_session(1) as session:
        for i, (prompt, max_tokens) in enumerate(requests):
            if i and pause_s > 0:
                await asyncio.sleep(pause_s)
            out.append(await send_request(session, target, i, prompt, max_tokens, None))
    return out
