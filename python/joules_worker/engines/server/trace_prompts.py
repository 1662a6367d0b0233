"""Prompts of a replayed public trace (``load.trace_format`` mooncake or azure): each arrival's own
input length, built exactly (issue 23).

A public trace's point is its lengths: Mooncake's and Azure's input lengths run from tens to tens of
thousands of tokens, which no prompt dataset matches. Each arrival gets a synthetic prompt of its
``input_tokens`` as the server counts them (workloads/synthetic_prompts.py, cut from the dataset's
text as ``lengths.input`` prompts are), clipped to ``max_input_tokens`` (how many were clipped is
logged: raise max_input_tokens, and the server's context, to replay them whole); the warm-up gets
prompts of the first arrivals' lengths, of their own text. Each arrival's ``output_tokens`` is its
max_tokens, held as drawn answer lengths are (``lengths.enforce``: min_tokens on vLLM by default).
A ``joules`` trace keeps the older rule: the unused dataset prompt nearest its ``input_tokens``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from joules_worker.engines.server.load_patterns import Arrival
from joules_worker.engines.server.prompt_plan import PromptPlan
from joules_worker.engines.server.trace_formats import trace_layout
from joules_worker.errors import BadConfigError

logger = logging.getLogger(__name__)
REPLAYED = ("mooncake", "azure")


def replays_lengths(config: Any) -> bool:
    """Whether the experiment replays a public trace's lengths exactly."""
    load = config.load
    return load.pattern == "trace" and trace_layout(load.trace_file, load.trace_format) in REPLAYED


def trace_plan(
    config: Any, tokenizer: Any, count: Callable[[list[str]], list[int]], schedule: Sequence[Arrival]
) -> PromptPlan:
    """A plan of one synthetic prompt per arrival (after the warm-up's), of its input length."""
    from joules_worker.prompts import load_prompts
    from joules_worker.workloads.synthetic_prompts import synthetic_prompts

    for key, value in (
        ("lengths.input", config.lengths.input),
        ("lengths.output", config.lengths.output),
        ("load.shared_prefix_tokens", config.load.shared_prefix_tokens),
    ):
        if value is not None:
            raise BadConfigError(
                f"{key}: not with a replayed {config.load.trace_format} trace (load.trace_file): the trace gives each "
                "arrival's input and output lengths"
            )
    cap = config.max_input_tokens
    wanted = [a.input_tokens or cap for a in schedule]
    clipped = sum(1 for n in wanted if n > cap)
    if clipped:
        logger.warning(
            "load.trace_file: %d of %d arrivals ask for more than max_input_tokens %d input tokens; their prompts "
            "are clipped to it",
            clipped,
            len(wanted),
            cap,
        )
    lengths = [min(n, cap) for n in wanted]
    warm = config.load.warmup_requests
    warm_lengths = [lengths[i % len(lengths)] for i in range(warm)]
    prompts = synthetic_prompts(load_prompts(config.dataset), tokenizer, count, warm_lengths + lengths)
    return PromptPlan(prompts, count(prompts), warm, reuse=False)
