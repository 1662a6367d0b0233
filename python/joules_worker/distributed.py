"""Rank, world size, device and barriers, through accelerate's PartialState (1 process works too)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from joules_worker.errors import UnsupportedError

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class DistContext:
    rank: int
    local_rank: int
    world_size: int
    device: Any  # torch.device
    state: Any = None  # accelerate PartialState, None in a plain single process

    @property
    def is_local_main(self) -> bool:
        return self.local_rank == 0

    def barrier(self) -> None:
        if self.state is not None and self.world_size > 1:
            self.state.wait_for_everyone()


def env_rank() -> int:
    """The rank from the launcher's environment, before (or without) distributed init."""
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


def init_distributed(use_gpu: bool) -> DistContext:
    """Join the process group the launcher set up (gloo on CPU, nccl on CUDA) or run alone.

    ``use_gpu`` False (no gpu_ids) keeps the rank on the CPU even where CUDA exists.
    """
    from accelerate import PartialState

    if use_gpu:
        import torch

        if not torch.cuda.is_available():
            raise UnsupportedError("gpu_ids: GPUs were requested but CUDA is not available on this host")
    state = PartialState(cpu=not use_gpu)
    ctx = DistContext(
        rank=state.process_index,
        local_rank=state.local_process_index,
        world_size=state.num_processes,
        device=state.device,
        state=state,
    )
    logger.info("rank %d/%d (local %d) on %s", ctx.rank, ctx.world_size, ctx.local_rank, ctx.device)
    return ctx


def shard(items: Sequence[T], rank: int, world_size: int) -> list[T]:
    """This rank's contiguous part, as accelerate's split_between_processes cuts it.

    The first ``len % world_size`` ranks get one extra item; a rank may get none.
    """
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} outside world of {world_size}")
    per_rank, extra = divmod(len(items), world_size)
    start = rank * per_rank + min(rank, extra)
    end = start + per_rank + (1 if rank < extra else 0)
    return list(items[start:end])
