"""Draws from a config distribution (issue 23: ``lengths.input`` / ``lengths.output``, and any other
key of the same shape such as ``load.sessions.think_time_s``), seeded.

- ``fixed``: every value ``value``.
- ``uniform``: vLLM's ``random`` dataset: integers uniform on [floor(mean × (1 − r)), ceil(mean × (1 + r))]
  (both ends included); for real values (``integers=False``) continuous on [mean × (1 − r), mean × (1 + r)].
- ``normal``: mean, std.
- ``lognormal``: ``mean`` and ``std`` are those of the VALUES (not of their logarithm): σ² = ln(1 + std²/mean²),
  μ = ln(mean) − σ²/2.
- ``histogram``: a CSV of ``value,weight`` lines (an optional header line; blank lines and ``#`` comments
  skipped): values drawn with probability proportional to their weights. A bad line is a BadConfigError
  ``<key>.file: <file>:<line>: ...``.

Then ``min`` / ``max`` clip the draws; integer draws (token lengths) are rounded and at least 1.

The draws are stratified (Latin hypercube sampling in one dimension): the n draws take one quantile
from each of n equal slices of probability, each at a random point of its slice, in a seeded random
order, through the distribution's inverse CDF. Each draw alone still follows the distribution (its
slice is random), but n draws cover it evenly, so a run's lengths match the requested mean and spread
closely whatever the seed (plain independent draws, as ``vllm bench serve`` makes them, leave a
200-request sample's standard deviation off by ~3 % on average, often more than 5 %), and any run of
consecutive requests is an even sample too only as far as a random order allows.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

from joules_worker.errors import BadConfigError

# Independent streams of one seed, so that drawing output lengths does not shift the input lengths.
STREAMS = {"lengths.input": 1, "lengths.output": 2}


def rng_for(seed: int, key: str) -> Any:
    """numpy's seeded generator for ``key``'s draws (a stream of its own per key)."""
    import numpy as np

    return np.random.default_rng([seed, STREAMS.get(key, sum(map(ord, key)))])


def draw(dist: Any, n: int, seed: int, key: str, integers: bool = True) -> list[Any]:
    """``n`` values of ``dist`` (a config distribution dataclass), seeded by ``seed`` on ``key``'s
    stream; ``key`` (e.g. ``lengths.input``) names the config key in errors."""
    import numpy as np

    rng = rng_for(seed, key)
    # stratified: one quantile from each of n equal slices of (0, 1), in a seeded random order
    u = np.clip((rng.permutation(n) + rng.random(n)) / max(n, 1), 1e-12, 1 - 1e-12)
    kind = dist.distribution
    if kind == "fixed":
        values = np.full(n, float(dist.value))
    elif kind == "uniform":
        low, high = dist.mean * (1 - dist.range_ratio), dist.mean * (1 + dist.range_ratio)
        if integers:
            low, high = math.floor(low), math.ceil(high)
            values = np.minimum(low + np.floor(u * (high - low + 1)), high)
        else:
            values = low + u * (high - low)
    elif kind in ("normal", "lognormal"):
        z = np.array([statistics.NormalDist().inv_cdf(float(q)) for q in u])
        if kind == "normal":
            values = dist.mean + dist.std * z
        else:
            sigma2 = math.log1p((dist.std / dist.mean) ** 2)
            values = np.exp(math.log(dist.mean) - sigma2 / 2 + math.sqrt(sigma2) * z)
    elif kind == "histogram":
        points, weights = read_histogram(Path(dist.file), f"{key}.file")
        cumulative = np.cumsum(weights) / sum(weights)
        values = np.asarray(points)[np.minimum(np.searchsorted(cumulative, u, side="right"), len(points) - 1)]
    else:
        raise BadConfigError(f"{key}.distribution: unknown distribution {kind!r}")
    low_clip, high_clip = getattr(dist, "min", None), getattr(dist, "max", None)
    if low_clip is not None or high_clip is not None:
        values = np.clip(values, low_clip, high_clip)
    if integers:
        return [max(1, int(v)) for v in np.rint(values)]
    return [float(v) for v in values]


def read_histogram(path: Path, key: str) -> tuple[list[float], list[float]]:
    """(values, weights) of a ``value,weight`` CSV; the first line may be a header."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise BadConfigError(f"{key}: cannot read {path}: {e}") from e
    values: list[float] = []
    weights: list[float] = []
    for i, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split(",")]
        where = f"{key}: {path}:{i}"
        if len(cells) != 2:
            raise BadConfigError(f'{where}: expected "value,weight", got {len(cells)} field(s): {line!r}')
        try:
            value, weight = float(cells[0]), float(cells[1])
        except ValueError:
            if not values and i == _first_content_line(lines):
                continue  # a header line
            raise BadConfigError(f"{where}: not numbers: {line!r}") from None
        if not (math.isfinite(value) and value > 0):
            raise BadConfigError(f"{where}: the value must be a positive number, got {cells[0]}")
        if not (math.isfinite(weight) and weight >= 0):
            raise BadConfigError(f"{where}: the weight must be a number >= 0, got {cells[1]}")
        values.append(value)
        weights.append(weight)
    if not values or sum(weights) <= 0:
        raise BadConfigError(f"{key}: {path}: no value with a positive weight")
    return values, weights


def _first_content_line(lines: list[str]) -> int:
    return next(i for i, raw in enumerate(lines, 1) if raw.strip() and not raw.strip().startswith("#"))


def lengths_seed(config: Any) -> int:
    """The seed of the length draws: ``lengths.seed``, else the experiment's ``seed``."""
    return config.lengths.seed if config.lengths.seed is not None else config.seed
