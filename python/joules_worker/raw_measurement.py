"""One rank's raw measurement (``rank-<r>.json``, ``schema_version: 3``): the record of each measured
batch (``BatchRecord``; a served request is a batch of one) and the assembly of the whole file.

Version 3 (over v2): each energy reading has ``active_s`` (the seconds it covered) and
``missing_reason``, and ``energy_j`` may be null (a device that could not be read, never 0 J);
the energy block has ``complete`` (false when a reading is null) and ``gpu_state`` (GPU
temperature, P-state and power limit at the idle baseline and at window start). The number moves
because a v2 reader would take a null ``energy_j`` or a missing ``active_s`` for a broken file, or
worse, subtract idle power over the wrong span: a mismatched worker and reader must fail loudly.
Error files (``error-rank-<r>.json``) keep ``CONTRACT_VERSION``."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

from joules_worker import RAW_MEASUREMENT_VERSION


@dataclass
class BatchRecord:
    """What one measured batch executed. Token counts are exact; times in seconds."""

    size: int
    input_tokens: int  # real prompt tokens (attention mask), never padding
    output_tokens: int  # generated tokens up to and including each sequence's first EOS
    padded_input_length: int  # prompt width after left padding (what prefill computed)
    generated_steps: int  # generated positions (output width), padding after EOS included
    latency_s: float
    ttft_s: float | None = None  # time to the first generated token of this batch
    delay_before_s: float = 0.0  # simulated traffic wait before this batch

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def tokens_block(batches: list[BatchRecord]) -> dict[str, int]:
    return {
        "num_prompts": sum(b.size for b in batches),
        "input_tokens": sum(b.input_tokens for b in batches),
        "output_tokens": sum(b.output_tokens for b in batches),
    }


def measurement(
    *,
    ctx: Any,
    host: str,
    device: dict[str, Any],
    model: dict[str, Any],
    window: tuple[float, float, float],
    batches: list[BatchRecord],
    flops: dict[str, Any],
    memory: dict[str, Any],
    energy: dict[str, Any],
    outputs: dict[str, list[str]] | None,
    environment: dict[str, Any],
) -> dict[str, Any]:
    """``window`` is (start, end, duration): duration (monotonic) excludes traffic waits kept outside the window."""
    start, end, duration = window
    return {
        "schema_version": RAW_MEASUREMENT_VERSION,
        "rank": ctx.rank,
        "local_rank": ctx.local_rank,
        "world_size": ctx.world_size,
        "host": host,
        "pid": os.getpid(),
        "device": device,
        "model": model,
        "window": {"start_unix_s": start, "end_unix_s": end, "duration_s": max(duration, 0.0)},
        "tokens": tokens_block(batches),
        "batches": [b.to_dict() for b in batches],
        "flops": flops,
        "memory": memory,
        "energy": energy,
        "outputs": outputs,
        "environment": environment,
    }
