"""The serving summary's ``sessions`` block (null outside sessions): how many sessions started and
completed (every turn of its script answered), which did not, the turns sent per session, the think
time asked for and the mean of those waited, and per turn index k (1-based) its requests, mean input
tokens (the history grows them), mean energy (energy_attribution.py) and mean TTFT."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from statistics import fmean
from typing import Any

from joules_worker.engines.server.http_stream import RequestRecord


def _mean(values: list[float]) -> float | None:
    return fmean(values) if values else None


def per_turn(records: Sequence[RequestRecord]) -> list[dict[str, Any]]:
    turns: dict[int, list[RequestRecord]] = {}
    for r in records:
        if r.turn is not None:
            turns.setdefault(r.turn, []).append(r)
    out = []
    for k in sorted(turns):
        rs = turns[k]
        out.append(
            {
                "turn": k,
                "requests": len(rs),
                "errors": sum(1 for r in rs if not r.ok),
                "input_tokens_mean": _mean([r.input_tokens for r in rs if r.ok and r.input_tokens is not None]),
                "energy_j_mean": _mean([r.energy_j for r in rs if r.energy_j is not None]),
                "ttft_mean_s": _mean([r.ttft_s for r in rs if r.ok and r.ttft_s is not None]),
            }
        )
    return out


def sessions_block(spec: Any, load: Any) -> dict[str, Any] | None:
    """``spec``: the config's ``load.sessions`` (None: no block); ``load``: the SessionLoad run."""
    if spec is None or load is None:
        return None
    records = load.records
    sent: dict[int, int] = {}
    for r in records:
        if r.session is not None:
            sent[r.session] = sent.get(r.session, 0) + 1
    think = spec.think_time_s
    return {
        "count": spec.count,
        "turns": spec.turns,
        "think_time_s": think if isinstance(think, (int, float)) else dataclasses.asdict(think),
        "started": len(sent),
        "completed": len(load.complete),
        "incomplete": sorted(set(sent) - load.complete),
        "turns_per_session_mean": _mean([float(n) for n in sent.values()]),
        "think_time_waited_mean_s": _mean(load.think_waited),
        "ran_out": load.plan.ran_out,
        "per_turn": per_turn(records),
    }
