"""The serving engine's measured load: the server's telemetry and the energy window open (with the
backend's counters sampled for the steady window), the requests sent (closed or open loop), both
closed; and the client's own CPU time over the window (the load generator's share of a host-scoped
reading)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from joules_worker.config import ExperimentConfig
from joules_worker.energy.result import EnergyResult
from joules_worker.engines.server import clock
from joules_worker.engines.server.energy_timeline import EnergyTimeline
from joules_worker.engines.server.http_stream import RequestRecord
from joules_worker.engines.server.load_generator import Target, closed_loop, open_loop
from joules_worker.engines.server.load_patterns import (
    Arrival,
    bursty_offsets,
    constant_offsets,
    poisson_offsets,
    read_trace,
)
from joules_worker.engines.server.prompt_plan import PromptPlan
from joules_worker.engines.server.server_energy import ServerEnergy
from joules_worker.engines.server.server_telemetry import ServerTelemetry
from joules_worker.engines.server.session_load import SessionLoad, run_sessions
from joules_worker.engines.server.session_plan import SessionPlan

logger = logging.getLogger(__name__)
TIMELINE_S = 0.1  # the steady window's energy: counters sampled at least this often


def arrivals(config: ExperimentConfig) -> list[Arrival]:
    load = config.load
    n = load.num_requests if load.sessions is None else load.sessions.count  # sessions: session starts
    d = load.duration_s
    if load.pattern == "constant":
        offsets = constant_offsets(load.rate, n, d)
    elif load.pattern == "poisson":
        offsets = poisson_offsets(load.rate, n, d, config.seed)
    elif load.pattern == "bursty":
        jitter = (config.traffic.delay_min_ms, config.traffic.delay_max_ms)
        offsets = bursty_offsets(load.burst_size, load.burst_interval_ms, jitter, n, d, config.seed)
    else:
        return read_trace(load.trace_file, n, d, load.trace_format)
    return [Arrival(t) for t in offsets]


@dataclass
class Measured:
    start: float
    records: list[RequestRecord]
    energy: EnergyResult
    timeline: EnergyTimeline
    telemetry: ServerTelemetry
    client_cpu_s: float
    sessions: SessionLoad | None = None  # the multi-turn load, where load.sessions is set


def schedule_for(
    config: ExperimentConfig, plan: PromptPlan, sessions: SessionPlan | None = None
) -> list[Arrival] | None:
    """The open loop's arrivals (None for the closed loop), checked against the prompts there are
    (``sessions``: the session starts; session_plan.py checked the count)."""
    load = config.load
    if sessions is not None:
        return None if load.pattern == "closed_loop" else arrivals(config)
    if load.pattern == "closed_loop":
        plan.check(load.num_requests, "load.num_requests")
        return None
    schedule = arrivals(config)
    plan.check(len(schedule), "load.trace_file" if load.pattern == "trace" else "load.num_requests / load.duration_s")
    return schedule


def run_load(
    config: ExperimentConfig,
    target: Target,
    plan: PromptPlan,
    schedule: list[Arrival] | None,
    energy: ServerEnergy,
    sessions: SessionPlan | None = None,
) -> Measured:
    """The measured load: the server's telemetry and the energy window open, the load, both closed.
    ``client_cpu_s``: this process's CPU time (every thread) over the energy window."""
    load = config.load
    max_tokens = load.max_tokens or config.max_output_tokens

    def request_for(i: int, a: Arrival | None) -> tuple[str, int, dict[str, Any] | None]:
        prompt = plan.prompt_for(i, a.input_tokens if a is not None else None)
        # a trace's output length, capped by max_output_tokens (it caps every request)
        tokens = (
            min(a.max_tokens, config.max_output_tokens)
            if a is not None and a.max_tokens
            else plan.max_tokens_of(i, max_tokens)
        )
        return prompt, tokens, plan.own_fields(tokens)  # own: lengths.output's min_tokens / ignore_eos

    metrics_url = config.server.metrics_url or config.server.url.rstrip("/") + "/metrics"
    telemetry = ServerTelemetry(metrics_url, config.energy.measure_power_secs, clock.now)
    capacity = plan.capacity()
    count = load.num_requests if capacity is None else min(load.num_requests or capacity, capacity)
    backend = energy.backend()
    backend.prepare()
    telemetry.start()
    cpu0 = time.process_time()
    backend.start()
    timeline = EnergyTimeline(backend, min(config.energy.measure_power_secs, TIMELINE_S), clock.now)
    multi: SessionLoad | None = None
    try:
        timeline.start()
        if sessions is not None:
            multi = run_sessions(
                target,
                sessions,
                schedule,
                concurrency=load.concurrency,
                count=load.sessions.count,
                duration_s=load.duration_s,
                max_tokens=max_tokens,
            )
            start, records = multi.start, multi.records
        elif schedule is None:
            start, records = asyncio.run(closed_loop(target, request_for, load.concurrency, count, load.duration_s))
        else:
            start, records = asyncio.run(open_loop(target, request_for, schedule))
    except BaseException:
        timeline.stop()
        backend.abort()
        telemetry.stop()
        raise
    timeline.stop()
    result = backend.stop()
    cpu_s = time.process_time() - cpu0
    telemetry.stop()
    if (
        sessions is None
        and schedule is None
        and load.num_requests is None
        and capacity is not None
        and len(records) >= capacity
    ):
        plan.ran_out = True
        logger.warning(
            "the load stopped after %d requests before load.duration_s: every prompt was sent once "
            "(raise num_input_prompts, or set load.prompt_reuse: true)",
            len(records),
        )
    if sessions is not None and sessions.ran_out:
        plan.ran_out = True
        logger.warning(
            "the load stopped after %d sessions before load.duration_s: the dataset's sessions were each sent once "
            "(raise num_input_prompts, or set load.prompt_reuse: true)",
            multi.started if multi is not None else 0,
        )
    return Measured(start, records, result, timeline, telemetry, cpu_s, multi)
