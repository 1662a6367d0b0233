"""The experiment's prompts, built the same way for both engines (issue 23).

- From the dataset (``lengths.input`` unset): its first ``num_input_prompts`` prompts that fit the
  token budget (a conversation dataset: each conversation's first user turn), each with its dataset
  answer beside it.
- Synthetic (``lengths.input`` set): ``num_input_prompts`` lengths drawn (seeded), each prompt built
  to its length from the dataset's text (synthetic_prompts.py); they have no dataset answer.

``heads``: a text before each prompt (a shared prefix, engines/server/prompt_plan.py), prompt j gets
``heads(j)``. Then each prompt's answer length where ``lengths.output`` asks (output_lengths.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from joules_worker.prompts import load_prompts_and_answers, select_indices
from joules_worker.workloads.distributions import draw, lengths_seed
from joules_worker.workloads.output_lengths import OutputLengths, output_lengths
from joules_worker.workloads.synthetic_prompts import synthetic_prompts

Counter = Callable[[list[str]], list[int]]
logger = logging.getLogger(__name__)


@dataclass
class PromptSet:
    prompts: list[str]
    answers: list[str | None]  # each prompt's dataset answer (None: none, or a synthetic prompt)
    output: OutputLengths | None  # each prompt's answer length, or None (max_output_tokens for all)
    drawn_input: list[int] | None = None  # the drawn lengths of synthetic prompts


def prompt_set(
    config: Any,
    tokenizer: Any,
    count_select: Counter,
    count_server: Counter,
    budget: int,
    heads: Callable[[int], str] | None = None,
    texts: tuple[list[str], list[str | None]] | None = None,
) -> PromptSet:
    """The prompts (see the module docstring). ``count_select`` counts a dataset prompt against
    ``budget`` (max_input_tokens less a prefix); ``count_server`` counts a whole prompt as the server
    (or generate) sees it, the count a synthetic prompt is built to. ``texts``: the dataset's
    (prompts, answers) where the caller loaded them already."""
    everything, answers = texts if texts is not None else load_prompts_and_answers(config.dataset)
    head = heads or (lambda _j: "")
    drawn = None
    if config.lengths.input is not None:
        drawn = draw(config.lengths.input, config.num_input_prompts, lengths_seed(config), "lengths.input")
        over = sum(1 for n in drawn if n > budget)
        if over:  # an unbounded distribution (normal, lognormal, histogram without max) past the budget
            logger.warning(
                "lengths.input: %d of %d drawn lengths are above the token budget %d (max_input_tokens, less a "
                "shared prefix): clipped to it (set the distribution's max to keep them below)",
                over,
                len(drawn),
                budget,
            )
            drawn = [min(n, budget) for n in drawn]
        prompts = synthetic_prompts(everything, tokenizer, count_server, drawn, [head(j) for j in range(len(drawn))])
        kept: list[str | None] = [None] * len(prompts)
    else:
        picked = select_indices(everything, count_select, budget, config.num_input_prompts)
        prompts = [head(j) + everything[k] for j, k in enumerate(picked)]
        kept = [answers[k] for k in picked]

    def count_output(texts: list[str]) -> list[int]:
        rows = tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []
        return [len(ids) for ids in rows]

    return PromptSet(prompts, kept, output_lengths(config, len(prompts), kept, count_output), drawn)
