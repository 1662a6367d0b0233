"""The serving summary's ``lengths`` block (issue 23): what was asked for, how answers were held to
their lengths, and what the requests measured."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from typing import Any


def _moments(values: Sequence[int]) -> tuple[float | None, float | None]:
    """(mean, population standard deviation) of ``values``, or Nones where there are none."""
    if not values:
        return None, None
    return statistics.fmean(values), statistics.pstdev(values)


def lengths_block(
    config: Any, enforced: str | None, records: Sequence[Any], answers_missing: int | None = None
) -> dict[str, Any]:
    """``input`` / ``output``: the requested distributions (null = the dataset's prompts /
    max_output_tokens); ``output_length_enforced``: ``min_tokens`` | ``ignore_eos`` | ``none``, null
    where ``lengths.output`` is unset; the measured requests' (successful ones) input and output
    token mean and population standard deviation, from the server's usage counts."""
    lengths = config.lengths
    ok = [r for r in records if r.ok]
    in_mean, in_std = _moments([r.input_tokens for r in ok if r.input_tokens is not None])
    out_mean, out_std = _moments([r.output_tokens for r in ok if r.output_tokens is not None])
    return {
        "input": None if lengths.input is None else dataclasses.asdict(lengths.input),
        "output": None if lengths.output is None else dataclasses.asdict(lengths.output),
        "enforce": lengths.enforce,
        "seed": lengths.seed if lengths.seed is not None else config.seed,
        "output_length_enforced": enforced,
        "answers_missing": answers_missing,
        "input_tokens_mean": in_mean,
        "input_tokens_std": in_std,
        "output_tokens_mean": out_mean,
        "output_tokens_std": out_std,
    }
