"""This rank's prompts (transformers engine): selected or built (workloads/prompt_set.py), ordered,
sharded; with each prompt's token length and, where ``lengths.output`` asks, its own answer length."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from joules_worker.config import ExperimentConfig
from joules_worker.distributed import DistContext, shard
from joules_worker.prompts import order_prompts
from joules_worker.workloads.prompt_set import prompt_set

logger = logging.getLogger(__name__)


@dataclass
class RankPrompts:
    prompts: list[str]
    lengths: list[int]  # token counts as generate sees them (special tokens included)
    answer_lengths: list[int] | None  # lengths.output: each prompt's max_new_tokens; None = max_output_tokens


def my_prompts(config: ExperimentConfig, tokenizer: Any, ctx: DistContext) -> RankPrompts:
    """The prompts that fit max_input_tokens (the first num_input_prompts of them), or synthetic ones of
    ``lengths.input`` tokens, in the configured order, this rank's contiguous part."""

    def count(part: list[str]) -> list[int]:
        return [len(ids) for ids in tokenizer(part)["input_ids"]] if part else []

    chosen = prompt_set(config, tokenizer, count, count, config.max_input_tokens)
    selected = chosen.prompts
    lengths = count(selected)
    order = order_prompts(selected, lengths, config.prompt_ordering, config.seed)
    mine = shard(order, ctx.rank, ctx.world_size)
    logger.info("rank %d: %d of %d selected prompts", ctx.rank, len(mine), len(selected))
    answers = None if chosen.output is None else [chosen.output.lengths[i] for i in mine]
    return RankPrompts([selected[i] for i in mine], [lengths[i] for i in mine], answers)


def length_kwargs(config: ExperimentConfig, answer_length: int) -> dict[str, int]:
    """generate's length arguments for one prompt of its own answer length (batch_size 1: the config
    enforces it): max_new_tokens, and min_new_tokens the same unless ``lengths.enforce`` is none."""
    hold = config.lengths.enforce != "none"
    return {
        "max_new_tokens": answer_length,
        "min_new_tokens": answer_length if hold else min(config.min_output_tokens, answer_length),
    }
