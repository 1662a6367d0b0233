"""Batched generation of one batch: its timing (latency, time to first token) and exact token counts.

Time to first token is measured, not derived: a StoppingCriteria records the moment generate
first asks whether to stop, which is right after the first token was chosen (prefill forward +
first sampling step). On CUDA it synchronises the device once, at that first call.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from joules_worker.engines.transformers.generate_arguments import stop_token_ids
from joules_worker.raw_measurement import BatchRecord

logger = logging.getLogger(__name__)

# Test-only fault injection, read in this one place: JOULES_WORKER_FAULT=oom makes every generate
# call raise torch.OutOfMemoryError, the way a real CUDA OOM would surface (CPU cannot cause one);
# JOULES_WORKER_FAULT=oom_above_batch:N only batches of more than N prompts (as a too-large batch would).
FAULT_ENV = "JOULES_WORKER_FAULT"


@dataclass
class BatchOutput:
    texts: list[str] | None = None
    token_ids: list[list[int]] | None = None


def count_output_tokens(new_tokens: Any, eos_ids: Sequence[int]) -> Any:
    """Per sequence: generated tokens up to and including the first EOS (all of them if no EOS)."""
    import torch

    steps = new_tokens.shape[1]
    if steps == 0 or not eos_ids:
        return torch.full((new_tokens.shape[0],), steps, dtype=torch.long)
    is_eos = torch.isin(new_tokens, torch.tensor(list(eos_ids), device=new_tokens.device))
    first = is_eos.int().argmax(dim=1)
    return torch.where(is_eos.any(dim=1), first + 1, torch.full_like(first, steps)).cpu()


def _sync(device: Any) -> None:
    if getattr(device, "type", None) == "cuda":
        import torch

        torch.cuda.synchronize(device)


class FirstTokenClock:
    """A StoppingCriteria that never stops generation; it notes when it is first called."""

    def __init__(self, device: Any) -> None:
        self.device = device
        self.first: float | None = None
        self._no: Any = None

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        if self.first is None:
            _sync(self.device)
            self.first = time.perf_counter()
        if self._no is None or self._no.shape[0] != input_ids.shape[0]:
            self._no = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        return self._no


def run_batch(
    model: Any,
    tokenizer: Any,
    prompts: list[str],
    gen_kwargs: dict[str, Any],
    want_texts: bool = False,
    want_token_ids: bool = False,
) -> tuple[BatchRecord, BatchOutput]:
    """Tokenize (left padding), generate, and measure one batch."""
    import torch
    from transformers import StoppingCriteriaList

    device = model.device
    enc = tokenizer(prompts, return_tensors="pt", padding=True).to(device)
    padded = enc["input_ids"].shape[1]
    fault = os.environ.get(FAULT_ENV, "")
    if fault == "oom" or (fault.startswith("oom_above_batch:") and len(prompts) > int(fault.split(":", 1)[1])):
        raise torch.OutOfMemoryError(f"injected by {FAULT_ENV}={fault} (test-only fault)")
    clock = FirstTokenClock(device)
    _sync(device)
    start = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(**enc, **gen_kwargs, stopping_criteria=StoppingCriteriaList([clock]))
    _sync(device)
    end = time.perf_counter()
    # decoder-only: the prompt comes back first; seq2seq: the decoder start token does
    new_tokens = out[:, 1:] if model.config.is_encoder_decoder else out[:, padded:]
    counts = count_output_tokens(new_tokens, stop_token_ids(model, gen_kwargs))
    record = BatchRecord(
        size=len(prompts),
        input_tokens=int(enc["attention_mask"].sum().item()),
        output_tokens=int(counts.sum().item()),
        padded_input_length=int(padded),
        generated_steps=int(new_tokens.shape[1]),
        latency_s=end - start,
        ttft_s=(clock.first - start) if clock.first is not None else None,
    )
    output = BatchOutput()
    if want_texts or want_token_ids:
        kept = [row[: int(n)] for row, n in zip(new_tokens.cpu(), counts, strict=False)]
        if want_texts:
            output.texts = tokenizer.batch_decode(kept, skip_special_tokens=True)
        if want_token_ids:
            output.token_ids = [row.tolist() for row in kept]
    return record, output
