"""On PYTHONPATH only for the gpu-check's two-ranks step (with JOULES_GPU_CHECK_GLOO=1).

Two ranks on one GPU: NCCL refuses a communicator with two ranks on the same device ("Duplicate
GPU detected"), and accelerate picks NCCL whenever CUDA is there. The worker only needs barriers
between its ranks, which gloo gives. So, in each rank process started by ``accelerate launch``
(LOCAL_RANK set), the default process group is created with gloo before the worker imports
accelerate; accelerate's PartialState then finds it initialised and keeps it. The launcher
process itself (no LOCAL_RANK) is left alone.
"""

import os

if os.environ.get("JOULES_GPU_CHECK_GLOO") == "1" and os.environ.get("LOCAL_RANK") is not None:
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="gloo", init_method="env://")
        import sys

        print(
            f"gpu-check gloo shim: rank {dist.get_rank()} of {dist.get_world_size()} joined a gloo process group",
            file=sys.stderr,
            flush=True,
        )
