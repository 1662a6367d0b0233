"""The FLOPs of a decoder-only model, fitted from forwards counted by FlopCounterMode.

Per sequence, one forward of q new tokens over k context positions costs
``F(q, k, n_logits) = a·q + c·q·k + h·n_logits`` (dense layers, attention, lm_head), times the
batch size. Four counted forwards at batch 1 fix a, c and h: a prefill of L1 and of L2 tokens,
each followed by one decode step (context L+1). The fit is checked against the second prefill;
if it misses by more than 2 % the model is not of this shape (sliding windows, routing...) and
the caller falls back to the analytic model.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from joules_worker.engines.transformers.flop_count import count_flops

MAX_FIT_ERROR = 0.02


@dataclass(frozen=True)
class CountedCost:
    a: float  # per new token: dense layers
    c: float  # per (new token × context position): attention
    h: float  # per logit position: lm_head
    last_token_logits: bool  # prefill computes lm_head for the last position only

    def forward(self, q: int, k: int, logits: int) -> float:
        return self.a * q + self.c * q * k + self.h * logits

    def batch_flops(self, batch: int, padded_input_length: int, generated_steps: int) -> tuple[int, int]:
        L, S = padded_input_length, generated_steps
        prefill = self.forward(L, L, 1 if self.last_token_logits else L)
        decode = sum(self.forward(1, L + j, 1) for j in range(1, S))
        return round(batch * prefill), round(batch * decode)


def _prefill_and_step(model: Any, length: int, keeps: bool) -> tuple[int, int]:
    import torch

    g = torch.Generator().manual_seed(length)
    vocab = model.get_input_embeddings().weight.shape[0]
    ids = torch.randint(0, vocab, (1, length), generator=g).to(model.device)
    mask = torch.ones_like(ids)
    extra = {"logits_to_keep": 1} if keeps else {}
    prefill, out = count_flops(lambda: model(input_ids=ids, attention_mask=mask, use_cache=True, **extra))
    nxt = ids[:, -1:]
    mask2 = torch.ones((1, length + 1), dtype=mask.dtype, device=mask.device)
    step, _ = count_flops(
        lambda: model(input_ids=nxt, attention_mask=mask2, past_key_values=out.past_key_values, use_cache=True, **extra)
    )
    return prefill, step


def fit(model: Any, long_length: int) -> CountedCost:
    """Count four forwards and solve for a, c, h (see the module docstring)."""
    keeps = "logits_to_keep" in inspect.signature(model.forward).parameters
    L2 = max(long_length, 4)
    L1 = max(2, L2 // 2)
    p1, d1 = _prefill_and_step(model, L1, keeps)
    p2, d2 = _prefill_and_step(model, L2, keeps)
    c = (d2 - d1) / (L2 - L1)  # decode at context L+1: a + h + c·(L+1)
    s = d1 - c * (L1 + 1)  # a + h
    if keeps:  # prefill: a·L + c·L² + h
        a = (p1 - c * L1 * L1 - s) / (L1 - 1)
        cost = CountedCost(a, c, s - a, True)
    else:  # prefill: (a + h)·L + c·L²: a and h need not be told apart
        cost = CountedCost(s, c, 0.0, False)
    predicted = cost.forward(L2, L2, 1 if keeps else L2)
    error = abs(predicted - p2) / p2 if p2 else 1.0
    if error > MAX_FIT_ERROR:
        raise ValueError(f"counted FLOPs do not follow a·q + c·q·k + h·logits (prefill of {L2} off by {error:.1%})")
    return cost
