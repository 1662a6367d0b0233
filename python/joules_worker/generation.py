"""Batched generation of one batch: its timing (latency, time to first token) and exact token counts.

Time to first token is measured, not derived: a StoppingCriteria records the moment generate
first asks whether to stop, which is right after the first token was chosen (prefill forward +
first sampling step). On CUDA it synchronises the device once, at that first call.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass
from typing import Any, Sequence

from joules_worker.config import DecodingConfig

logger = logging.getLogger(__name__)

# Test-only fault injection, read in this one place: JOULES_WORKER_FAULT=oom makes every generate
# call raise torch.OutOfMemoryError, the way a real CUDA OOM would surface (CPU cannot cause one).
FAULT_ENV = "JOULES_WORKER_FAULT"


@dataclass
class BatchRecord:
    """What one measured batch executed. Token counts are exact; times in seconds."""

    size: int
    input_tokens: int  # real prompt tokens (attention mask), never padding
    output_tokens: int  # generated tokens up to and including each sequence's first EOS
    padded_input_length: int  # prompt width after left padding (what prefill computed)
    generated_steps: int  # generated positions (output width), padding after EOS included
    latency_s: float
    ttft_s: float | None = None  # time to the first generated token of this batch
    delay_before_s: float = 0.0  # simulated traffic wait before this batch

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BatchOutput:
    texts: list[str] | None = None
    token_ids: list[list[int]] | None = None


def generate_kwargs(decoding: DecodingConfig, max_new_tokens: int, min_new_tokens: int, pad_token_id: int) -> dict[str, Any]:
    """Arguments for ``model.generate``; every decoding knob explicit so that a model's
    ``generation_config`` defaults (e.g. do_sample=True, temperature=0.6) cannot leak in."""
    kwargs: dict[str, Any] = {
        "max_new_tokens": max_new_tokens,
        "min_new_tokens": min_new_tokens,
        "pad_token_id": pad_token_id,
    }
    if decoding.mode == "greedy":
        kwargs.update(do_sample=False, temperature=None, top_k=None, top_p=None)
    else:
        kwargs.update(
            do_sample=True,
            temperature=1.0 if decoding.temperature is None else decoding.temperature,
            top_k=0 if decoding.top_k is None else decoding.top_k,  # 0 = no top-k filter
            top_p=1.0 if decoding.top_p is None else decoding.top_p,
        )
    return kwargs


def eos_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """Every id that ends a sequence: the generation config's (what generate stops on) and the tokenizer's."""
    ids: set[int] = set()
    for value in (getattr(model.generation_config, "eos_token_id", None), tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif value is not None:
            ids.update(int(v) for v in value)
    return sorted(ids)


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
    model: Any, tokenizer: Any, prompts: list[str], gen_kwargs: dict[str, Any],
    want_texts: bool = False, want_token_ids: bool = False,
) -> tuple[BatchRecord, BatchOutput]:
    """Tokenize (left padding), generate, and measure one batch."""
    import torch
    from transformers import StoppingCriteriaList

    device = model.device
    enc = tokenizer(prompts, return_tensors="pt", padding=True).to(device)
    padded = enc["input_ids"].shape[1]
    if os.environ.get(FAULT_ENV) == "oom":
        raise torch.OutOfMemoryError(f"injected by {FAULT_ENV}=oom (test-only fault)")
    clock = FirstTokenClock(device)
    _sync(device)
    start = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(**enc, **gen_kwargs, stopping_criteria=StoppingCriteriaList([clock]))
    _sync(device)
    end = time.perf_counter()
    # decoder-only: the prompt comes back first; seq2seq: the decoder start token does
    new_tokens = out[:, 1:] if model.config.is_encoder_decoder else out[:, padded:]
    counts = count_output_tokens(new_tokens, eos_token_ids(model, tokenizer))
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
        kept = [row[: int(n)] for row, n in zip(new_tokens.cpu(), counts)]
        if want_texts:
            output.texts = tokenizer.batch_decode(kept, skip_special_tokens=True)
        if want_token_ids:
            output.token_ids = [row.tolist() for row in kept]
    return record, output
