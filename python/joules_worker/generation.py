"""Batched generation of one batch, its timing, and exact token counts."""

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
    """What one measured batch executed. Token counts are exact; latency in seconds."""

    size: int
    input_tokens: int  # real prompt tokens (attention mask), never padding
    output_tokens: int  # generated tokens up to and including each sequence's first EOS
    padded_input_length: int  # prompt width after left padding (what prefill computed)
    generated_steps: int  # generated positions (output width), padding after EOS included
    latency_s: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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


def run_batch(
    model: Any, tokenizer: Any, prompts: list[str], gen_kwargs: dict[str, Any], want_texts: bool = False
) -> tuple[BatchRecord, list[str] | None]:
    """Tokenize (left padding), generate, and measure one batch."""
    import torch

    device = model.device
    enc = tokenizer(prompts, return_tensors="pt", padding=True).to(device)
    padded = enc["input_ids"].shape[1]
    if os.environ.get(FAULT_ENV) == "oom":
        raise torch.OutOfMemoryError(f"injected by {FAULT_ENV}=oom (test-only fault)")
    _sync(device)
    start = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(**enc, **gen_kwargs)
    _sync(device)
    latency = time.perf_counter() - start
    new_tokens = out[:, padded:]
    counts = count_output_tokens(new_tokens, eos_token_ids(model, tokenizer))
    record = BatchRecord(
        size=len(prompts),
        input_tokens=int(enc["attention_mask"].sum().item()),
        output_tokens=int(counts.sum().item()),
        padded_input_length=int(padded),
        generated_steps=int(new_tokens.shape[1]),
        latency_s=latency,
    )
    texts = None
    if want_texts:
        kept = [row[: int(n)] for row, n in zip(new_tokens.cpu(), counts)]
        texts = tokenizer.batch_decode(kept, skip_special_tokens=True)
    return record, texts


def batches(items: Sequence[str], batch_size: int) -> list[list[str]]:
    return [list(items[i : i + batch_size]) for i in range(0, len(items), batch_size)]
