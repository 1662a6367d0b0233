"""FLOPs counted by torch's FlopCounterMode on representative forwards, scaled to the run.

A cost model is fitted per loaded model from a few counted forwards at batch 1
(flop_counter_decoder: decoder-only models; flop_counter_seq2seq: encoder-decoder models), then
applied to every measured batch's shape. The forwards run outside the measured window, with eager
attention (sdpa is not counted by FlopCounterMode on CPU) and eager experts (MoE models' default
grouped_mm is not counted at all), the originals restored afterwards. Quantized models are not
counted (their kernels are not the dense matmuls FlopCounterMode sees); where counting does not
apply or the fit misses, the analytic model (joules_worker.flops) stands in.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from joules_worker.engines.transformers.flop_counter_decoder import fit
from joules_worker.engines.transformers.flop_counter_seq2seq import fit_seq2seq
from joules_worker.flops import CostModel, analytic_model, flops_block

logger = logging.getLogger(__name__)


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
