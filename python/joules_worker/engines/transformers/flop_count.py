"""One call's FLOPs as torch's FlopCounterMode counts them (the primitive both fits use)."""

from __future__ import annotations

from typing import Any


def count_flops(fn: Any) -> tuple[int, Any]:
    """(FLOPs counted while ``fn()`` ran, in inference mode; what ``fn`` returned)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        out = fn()
    return counter.get_total_flops(), out
