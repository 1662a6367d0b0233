"""FLOPs counted by torch's FlopCounterMode on representative forwards, scaled to the run.

Per sequence, one forward of q new tokens over k context positions costs
``F(q, k, n_logits) = a·q + c·q·k + h·n_logits`` (dense layers, attention, lm_head), times the
batch size. Four counted forwards at batch 1 fix a, c and h: a prefill of L1 and of L2 tokens,
each followed by one decode step (context L+1). The fit is checked against the second prefill;
if it misses by more than 2 % the model is not of this shape (sliding windows, routing...) and
the caller falls back to the analytic model. The forwards run outside the measured window, with
eager attention (sdpa is not counted by FlopCounterMode on CPU) and eager experts (MoE models'
default grouped_mm is not counted at all), the originals restored afterwards. Decoder-only
models; quantized ones are not counted (their kernels are not the dense matmuls FlopCounterMode
sees). Encoder-decoder models: see flop_counter_seq2seq.
"""

from __future__ import annotations

import inspect
import logging
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from joules_worker.flops import CostModel, analytic_model, flops_block

logger = logging.getLogger(__name__)

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


def _count(fn: Any) -> tuple[int, Any]:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        out = fn()
    return counter.get_total_flops(), out


def _prefill_and_step(model: Any, length: int, keeps: bool) -> tuple[int, int]:
    import torch

    g = torch.Generator().manual_seed(length)
    vocab = model.get_input_embeddings().weight.shape[0]
    ids = torch.randint(0, vocab, (1, length), generator=g).to(model.device)
    mask = torch.ones_like(ids)
    extra = {"logits_to_keep": 1} if keeps else {}
    prefill, out = _count(lambda: model(input_ids=ids, attention_mask=mask, use_cache=True, **extra))
    nxt = ids[:, -1:]
    mask2 = torch.ones((1, length + 1), dtype=mask.dtype, device=mask.device)
    step, _ = _count(
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


def counted_cost(model: Any, long_length: int) -> CostModel | None:
    """The fitted cost of ``model`` with eager attention, or None (logged) where counting does not apply."""
    return count_or_reason(model, long_length)[0]


# Fitted costs per loaded model and longest padded input: a worker session (session.py) runs many
# experiments on one model, and the fit (eight counted forwards, ~0.3 s on a tiny model) depends on
# nothing else (the forwards' ids are seeded by the length; FLOPs do not depend on values). Weak
# keys: a model that is dropped takes its fits with it.
_FITS: weakref.WeakKeyDictionary[Any, dict[int, tuple[CostModel | None, str | None]]] = weakref.WeakKeyDictionary()


def count_or_reason(model: Any, long_length: int) -> tuple[CostModel | None, str | None]:
    """(the fitted cost, None), or (None, why FlopCounterMode could not be used); fitted once per
    model and ``long_length`` in a process."""
    try:
        fits = _FITS.setdefault(model, {})
    except TypeError:  # not weak-referenceable: no cache
        return _count_or_reason(model, long_length)
    if long_length not in fits:
        fits[long_length] = _count_or_reason(model, long_length)
    return fits[long_length]


def _count_or_reason(model: Any, long_length: int) -> tuple[CostModel | None, str | None]:
    with countable(model):
        try:
            if model.config.is_encoder_decoder:
                from joules_worker.flop_counter_seq2seq import fit_seq2seq

                return fit_seq2seq(model, long_length), None
            return fit(model, long_length), None
        except Exception as e:  # noqa: BLE001 - counting is best effort; the analytic model remains
            logger.warning("FLOPs not counted with FlopCounterMode (%s: %s): analytic model used", type(e).__name__, e)
            return None, f"FlopCounterMode fit failed ({type(e).__name__}: {e})"


@contextmanager
def countable(model: Any) -> Iterator[None]:
    """Eager attention and eager experts while counting, the originals restored after.
    FlopCounterMode sees neither sdpa attention on CPU nor grouped_mm experts (MoE): both count 0."""
    attention = getattr(model.config, "_attn_implementation", None)
    experts = model.get_experts_implementation() if _has_experts(model) else None
    switched_attention = attention not in (None, "eager")
    switched_experts = experts is not None and experts.get("") not in (None, "eager")
    # Submodules may hold copies of the config that set_attn_implementation does not reach
    # (T5's encoder and decoder stacks, transformers 5.18): their attention is set here too.
    configs = {
        id(c): c for m in model.modules() if hasattr(c := getattr(m, "config", None), "_attn_implementation_internal")
    }
    saved = {key: c._attn_implementation_internal for key, c in configs.items()}
    try:
        if switched_attention:
            model.set_attn_implementation("eager")
        for c in configs.values():
            if c._attn_implementation_internal not in (None, "eager"):
                c._attn_implementation_internal = "eager"
        if switched_experts:
            model.set_experts_implementation("eager")
        yield
    finally:
        if switched_attention:
            _restore(model.set_attn_implementation, attention, "attention")
        for key, c in configs.items():
            c._attn_implementation_internal = saved[key]
        if switched_experts:
            _restore(model.set_experts_implementation, experts, "experts")


def _has_experts(model: Any) -> bool:
    if not hasattr(model, "get_experts_implementation"):
        return False
    try:
        return bool(model._can_set_experts_implementation())
    except Exception:  # noqa: BLE001 - private API: assume none
        return False


def _restore(setter: Any, original: Any, what: str) -> None:
    try:
        setter(original)
    except Exception as e:  # noqa: BLE001
        logger.warning("could not restore %s implementation %r: %s", what, original, e)


def rank_flops(
    model: Any,
    batches: Sequence[Any],
    non_embedding_params: int,
    quantized: bool,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``flops`` block of the measured batches, counted where possible, and how it was obtained:
    ``{"method", "fallback", "fallback_reason"}`` (fallback: the analytic model stood in for the count)."""
    counted, reason = None, None
    if quantized:
        reason = "quantized model: its kernels are not the dense matmuls FlopCounterMode counts"
    elif not batches:
        reason = "no batch measured"
    else:
        longest = max(b.padded_input_length for b in batches)
        counted, reason = count_or_reason(model, longest)
    method = "flop_counter" if counted is not None else "analytic"
    block = flops_block(counted or analytic_model(model), batches, method, non_embedding_params, quantized)
    return block, {"method": method, "fallback": counted is None, "fallback_reason": reason}
