"""The batch plan: which of this rank's prompts go together.

``fixed``: ``batch_size`` prompts per batch, in prompt order. ``adaptive``: prompts sorted by token
length, longest first (the widest batch runs first, so an out-of-memory shows at once), and each
batch filled while (prompts in batch) × (longest prompt + max_output_tokens) ≤ max_tokens_per_batch
and it holds at most ``batch_size`` prompts. A prompt that alone exceeds the budget gets a batch of
its own (with a warning): dropping it would change what is measured.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from joules_worker.config import BatchingConfig

logger = logging.getLogger(__name__)


def plan_batches(
    lengths: Sequence[int], batching: BatchingConfig, batch_size: int, max_output_tokens: int
) -> list[list[int]]:
    """Batches as lists of prompt indices (into ``lengths``)."""
    n = len(lengths)
    if batching.strategy == "fixed":
        return [list(range(i, min(i + batch_size, n))) for i in range(0, n, batch_size)]
    budget = batching.max_tokens_per_batch
    assert budget is not None  # @joules/config: adaptive batching needs max_tokens_per_batch
    order = sorted(range(n), key=lambda i: (-lengths[i], i))
    plan: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = lengths[current[0]] if current else lengths[i]
        if current and (len(current) + 1) * (longest + max_output_tokens) <= budget and len(current) < batch_size:
            current.append(i)
            continue
        if current:
            plan.append(current)
        current = [i]
        if lengths[i] + max_output_tokens > budget:
            logger.warning(
                "prompt %d: %d tokens + max_output_tokens %d exceed max_tokens_per_batch %d: it runs alone",
                i,
                lengths[i],
                max_output_tokens,
                budget,
            )
    if current:
        plan.append(current)
    return plan
