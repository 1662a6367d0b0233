"""The measured window of one rank: barrier, batches (with traffic waits), barrier.

The energy reader starts before the first barrier (CodeCarbon probes hardware for ~1.5 s on local
rank 0, and the window must open at the same moment on every rank); peak memory is reset right
after it and read at the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from joules_worker.config import ExperimentConfig
from joules_worker.distributed import DistContext
from joules_worker.energy.base import EnergyBackend, EnergyResult
from joules_worker.energy.monitor import GpuMonitor
from joules_worker.events import EventEmitter
from joules_worker.generation import BatchRecord, run_batch
from joules_worker.memory import PeakMemory
from joules_worker.traffic import planned_delays_s, wait


@dataclass
class Measured:
    start: float
    end: float
    duration_s: float  # end - start, minus traffic waits kept outside the energy window
    records: list[BatchRecord]
    energy: EnergyResult
    memory: dict[str, Any]
    texts: list[str] = field(default_factory=list)
    token_ids: list[list[int]] = field(default_factory=list)


def measure(
    config: ExperimentConfig, ctx: DistContext, model: Any, tokenizer: Any, groups: list[list[str]],
    gen_kwargs: dict[str, Any], energy: EnergyBackend, monitor: GpuMonitor | None, events: EventEmitter,
) -> Measured:
    delays = planned_delays_s(config.traffic, len(groups), config.seed, ctx.rank)
    inside = config.traffic.inside_energy_window
    memory = PeakMemory(ctx.device)
    records: list[BatchRecord] = []
    texts: list[str] = []
    token_ids: list[list[int]] = []
    energy.start()
    try:
        if monitor is not None:
            monitor.start()
        ctx.barrier()
        memory.reset()
        start = time.time()
        for i, group in enumerate(groups):
            waited = wait(delays[i], energy, inside)
            record, out = run_batch(
                model, tokenizer, group, gen_kwargs, want_texts=config.save_outputs, want_token_ids=config.save_token_ids
            )
            record.delay_before_s = waited
            records.append(record)
            texts.extend(out.texts or [])
            token_ids.extend(out.token_ids or [])
            events.emit("batch", i=i + 1, n=len(groups), size=record.size, latency_s=record.latency_s)
        ctx.barrier()
        end = time.time()
    except BaseException:
        energy.abort()
        if monitor is not None:
            monitor.stop()
        raise
    result = energy.stop()
    if monitor is not None:
        rows, throttling = monitor.stop()
        if rows and not result.timeseries:
            result.timeseries, result.throttling = rows, throttling
    peak = memory.read()
    return Measured(start, end, end - start - energy.paused_s, records, result, peak, texts, token_ids)
