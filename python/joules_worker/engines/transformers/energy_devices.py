"""The devices this rank's energy readers read: the GPU the rank runs on, every GPU of the
experiment on its host (for machine-level readers), and how many ranks share the host."""

from __future__ import annotations

import os

from joules_worker import environment as env
from joules_worker.config import ExperimentConfig
from joules_worker.distributed import DistContext
from joules_worker.energy import GpuRef

# Test-only: run the model on CPU while gpu_ids still name the GPUs the energy backends read
# (the faked-NVML tests on a machine without a GPU). Read in this one place.
CPU_WITH_GPU_IDS_ENV = "JOULES_WORKER_CPU_WITH_GPU_IDS"


def gpu_refs(config: ExperimentConfig, ctx: DistContext) -> tuple[GpuRef, ...]:
    """The GPU this rank runs on (one per rank: accelerate pins rank r to cuda:r of gpu_ids)."""
    if getattr(ctx.device, "type", None) == "cuda":
        import torch

        cuda_index = ctx.device.index if ctx.device.index is not None else torch.cuda.current_device()
        physical = config.gpu_ids[ctx.local_rank] if ctx.local_rank < len(config.gpu_ids) else cuda_index
        return (GpuRef(index=physical, uuid=env.cuda_uuid(cuda_index), cuda_index=cuda_index),)
    if config.gpu_ids and os.environ.get(CPU_WITH_GPU_IDS_ENV):
        return (GpuRef(index=config.gpu_ids[ctx.local_rank % len(config.gpu_ids)]),)
    return ()


def host_gpu_refs(config: ExperimentConfig, ctx: DistContext) -> tuple[GpuRef, ...]:
    """Every GPU of the experiment on this host (what machine-level readers such as CodeCarbon read),
    with its UUID from torch on CUDA: accelerate makes gpu_ids visible as cuda:0..n-1, so cuda:i is
    gpu_ids[i]; the readers find the GPUs by UUID, never by taking gpu_ids as NVML indices."""
    ids = config.gpu_ids[: config.num_processes]
    if getattr(ctx.device, "type", None) == "cuda":
        return tuple(GpuRef(index=physical, uuid=env.cuda_uuid(i), cuda_index=i) for i, physical in enumerate(ids))
    return tuple(GpuRef(index=i) for i in ids)


def ranks_on_host(ctx: DistContext) -> int:
    """Ranks of this experiment on this host: LOCAL_WORLD_SIZE (torchrun / accelerate), else the world."""
    try:
        return max(1, int(os.environ["LOCAL_WORLD_SIZE"]))
    except (KeyError, ValueError):
        return ctx.world_size
