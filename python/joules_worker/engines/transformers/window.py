"""The measured window of one rank: prepare, barrier, batches (with traffic waits), barrier.

Energy and time cover the same span. The slow part of the energy reader (CodeCarbon's ~1.5 s
hardware probe, NVML handles, ZeusMonitor) is done first, by ``energy.prepare()``; then the
GPUs' state (temperature, P-state, power limit) is recorded; then every rank meets at the
barrier; only then are the energy span and the clock opened together. So a rank that reaches the
barrier early does not count its wait for the slowest rank in its energy. The window ends with a
second barrier, the clock is read, and the energy span is closed right after.

Every duration is taken with the monotonic clock (``time.perf_counter``); ``time.time()`` only
stamps ``start``/``end``. ``duration_s`` is the monotonic span minus this rank's traffic waits
when they are kept outside the energy window. Peak memory is reset right after the barrier and
read at the end. Generated ids are kept during the window and decoded to text only after the
energy span is closed, so ``save_outputs`` on or off measures the same work.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from joules_worker.config import ExperimentConfig
from joules_worker.distributed import DistContext
from joules_worker.energy import _nvml
from joules_worker.energy.base import EnergyBackend, EnergyResult
from joules_worker.energy.monitor import GpuMonitor
from joules_worker.engines.transformers.generation import run_batch
from joules_worker.engines.transformers.traffic import planned_delays_s, wait
from joules_worker.events import EventEmitter
from joules_worker.memory import PeakMemory
from joules_worker.raw_measurement import BatchRecord

logger = logging.getLogger(__name__)

# Test-only: "<rank>:<seconds>" makes that rank reach the first barrier late (read in this one place).
LATE_RANK_ENV = "JOULES_WORKER_TEST_LATE_RANK"


@dataclass
class Measured:
    start: float
    end: float
    duration_s: float  # monotonic end - start, minus traffic waits kept outside the energy window
    records: list[BatchRecord]
    energy: EnergyResult
    memory: dict[str, Any]
    texts: list[str] = field(default_factory=list)
    token_ids: list[list[int]] = field(default_factory=list)


def late_start_s(rank: int) -> float:
    """The test hook's delay for this rank (0 without the hook)."""
    value = os.environ.get(LATE_RANK_ENV, "")
    if not value:
        return 0.0
    who, _, seconds = value.partition(":")
    return float(seconds) if who.strip() == str(rank) else 0.0


def measure(
    config: ExperimentConfig,
    ctx: DistContext,
    model: Any,
    tokenizer: Any,
    groups: list[list[str]],
    gen_kwargs: dict[str, Any],
    energy: EnergyBackend,
    monitor: GpuMonitor | None,
    events: EventEmitter,
    own: Sequence[dict[str, Any]] | None = None,
) -> Measured:
    """The measured batches (``own``: each batch's own generate arguments over ``gen_kwargs``, such
    as a drawn answer length's max_new_tokens)."""
    delays = planned_delays_s(config.traffic, len(groups), config.seed, ctx.rank)
    inside = config.traffic.inside_energy_window
    memory = PeakMemory(ctx.device)
    records: list[BatchRecord] = []
    ids: list[list[int]] = []
    want_ids = config.save_outputs or config.save_token_ids
    excluded_s = 0.0
    try:
        energy.prepare()  # slow probing first, outside the span
        if monitor is not None:
            monitor.prepare()
        gpu_state = _nvml.gpu_states(energy.ctx.gpus, energy.ctx.host)
        late = late_start_s(ctx.rank)
        if late > 0:
            time.sleep(late)
        ctx.barrier()
        memory.reset()
        if monitor is not None:
            monitor.start()
        energy.start()  # the energy span and the clock open together
        t0, start = time.perf_counter(), time.time()
        for i, group in enumerate(groups):
            waited = wait(delays[i], energy, inside)
            if not inside:
                excluded_s += waited
            kwargs = gen_kwargs if own is None else {**gen_kwargs, **own[i]}
            record, out = run_batch(model, tokenizer, group, kwargs, want_texts=False, want_token_ids=want_ids)
            record.delay_before_s = waited
            records.append(record)
            ids.extend(out.token_ids or [])
            events.emit("batch", i=i + 1, n=len(groups), size=record.size, latency_s=record.latency_s)
        ctx.barrier()
        t1, end = time.perf_counter(), time.time()
        result = energy.stop()
    except BaseException:
        energy.abort()
        if monitor is not None:
            monitor.stop()
        raise
    if gpu_state is not None:
        result.gpu_state = {"idle": None, "window_start": gpu_state}
    if monitor is not None:
        rows, throttling = monitor.stop()
        if rows and not result.timeseries:
            result.timeseries, result.throttling = rows, throttling
    peak = memory.read()
    texts = tokenizer.batch_decode(ids, skip_special_tokens=True) if config.save_outputs else []  # after the window
    return Measured(
        start, end, (t1 - t0) - excluded_s, records, result, peak, texts, ids if config.save_token_ids else []
    )
