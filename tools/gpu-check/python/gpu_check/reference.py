"""Independent references, measured in the check's own process after the worker runs ended (the
GPU is free again): the same model files, the same batch shapes as the worker's rank file.

- memory: ``torch.cuda.max_memory_allocated`` around one generate of the worker's largest batch
  (size × (padded prompt + generated steps)), peak reset after loading and one warm-up, as the
  worker resets it at its window start;
- FLOPs: ``FlopCounterMode`` around generate for every batch the worker measured, each forced to
  the worker's generated steps (min_new_tokens = max_new_tokens), random token ids of the worker's
  padded width. On CUDA the model keeps the attention it loads with (sdpa, counted there); on CPU
  FlopCounterMode does not count sdpa, so eager is used.

``measure_references`` takes the batch shapes from the returned steps' rank files and measures both.
Nothing here imports the worker: the point is to measure the same thing another way.
"""

from __future__ import annotations

import time
from typing import Any

from gpu_check.log import Log
from gpu_check.steps import Context, rank_files

PRECISION = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


def load(model_dir: str, precision: str, device: str) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    attn = None if device.startswith("cuda") else "eager"
    model = (
        AutoModelForCausalLM.from_pretrained(
            model_dir,
            dtype=getattr(torch, PRECISION[precision]),
            attn_implementation=attn,
        )
        .to(device)
        .eval()
    )
    return model, AutoTokenizer.from_pretrained(model_dir)


def _generate(model: Any, tokenizer: Any, size: int, width: int, steps: int, seed: int) -> None:
    import torch

    g = torch.Generator().manual_seed(seed)
    vocab = model.get_input_embeddings().weight.shape[0]
    ids = torch.randint(3, vocab, (size, width), generator=g).to(model.device)  # 0-2: pad/bos/eos-like ids
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=steps,
            min_new_tokens=steps,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            num_beams=1,
        )


def largest_batch(batches: list[dict[str, Any]]) -> dict[str, Any]:
    return max(
        batches,
        key=lambda b: (
            b["size"] * (b["padded_input_length"] + b["generated_steps"]),
            b["size"],
        ),
    )


def peak_memory(model: Any, tokenizer: Any, batches: list[dict[str, Any]]) -> dict[str, Any]:
    """max_memory_allocated over the worker's largest batch (CUDA only)."""
    import torch

    b = largest_batch(batches)
    if model.device.type != "cuda":
        return {
            "peak_bytes": None,
            "reason": "no CUDA: torch.cuda.max_memory_allocated does not apply",
            "batch": b,
        }
    _generate(model, tokenizer, b["size"], b["padded_input_length"], b["generated_steps"], 1)  # warm-up, as the worker
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats(model.device)
    _generate(model, tokenizer, b["size"], b["padded_input_length"], b["generated_steps"], 2)
    torch.cuda.synchronize()
    return {
        "peak_bytes": int(torch.cuda.max_memory_allocated(model.device)),
        "reason": None,
        "batch": b,
    }


def flops(model: Any, tokenizer: Any, batches: list[dict[str, Any]]) -> dict[str, Any]:
    """FlopCounterMode's total over generate calls of the worker's batch shapes."""
    from torch.utils.flop_counter import FlopCounterMode

    start = time.perf_counter()
    total = 0
    for i, b in enumerate(batches):
        with FlopCounterMode(display=False) as counter:
            _generate(
                model,
                tokenizer,
                b["size"],
                b["padded_input_length"],
                b["generated_steps"],
                100 + i,
            )
        total += int(counter.get_total_flops())
    attn = getattr(model.config, "_attn_implementation", None)
    return {
        "total": total,
        "batches": len(batches),
        "attn_implementation": attn,
        "seconds": time.perf_counter() - start,
    }


def measure_references(ctx: Context, log: Log, precision: str) -> dict[str, Any]:
    """Memory references for the batch sweep, the FLOPs reference for batch-8."""
    import torch

    device = "cpu" if ctx.cpu else "cuda:0"
    start = time.monotonic()
    model, tokenizer = load(ctx.model_dir, precision, device)
    refs: dict[str, Any] = {
        "memory": {},
        "flops": None,
        "load_s": round(time.monotonic() - start, 3),
    }
    for name in ("batch-1", "batch-8", "batch-32", "batch-64"):
        ranks = rank_files(ctx.raw, name)
        if ranks and ranks[0]["batches"]:
            refs["memory"][name] = peak_memory(model, tokenizer, ranks[0]["batches"])
            log(f"reference memory {name}: {refs['memory'][name]['peak_bytes']}")
    ranks = rank_files(ctx.raw, "batch-8")
    if ranks and ranks[0]["batches"]:
        refs["flops"] = {
            "experiment": "batch-8",
            **flops(model, tokenizer, ranks[0]["batches"]),
        }
        log(f"reference FLOPs batch-8: {refs['flops']['total']:.4g} in {refs['flops']['seconds']:.1f} s")
    refs["seconds"] = round(time.monotonic() - start, 3)
    del model
    if not ctx.cpu:
        torch.cuda.empty_cache()
    return refs
