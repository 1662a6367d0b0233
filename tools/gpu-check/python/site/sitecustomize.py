"""On the workers' PYTHONPATH (put there by the gpu-check kit only). Two jobs, each off unless asked:

``JOULES_GPU_CHECK_GLOO=1`` (the two-ranks step): two ranks on one GPU. NCCL refuses a
communicator with two ranks on the same device ("Duplicate GPU detected"), and accelerate picks
NCCL whenever CUDA is there. The worker only needs barriers between its ranks, which gloo gives. So,
in each rank process started by ``accelerate launch`` (LOCAL_RANK set), the default process group is
created with gloo before the worker imports accelerate; accelerate's PartialState then finds it
initialised and keeps it. The launcher process itself (no LOCAL_RANK) is left alone.

``JOULES_GPU_CHECK_ABSENT=a,b,c`` (the CPU rehearsal): these top-level modules cannot be imported,
as on the GPU machine (which has no datasets, codecarbon, jsonschema or zeus), so the rehearsal
fails where the GPU run would.
"""

import os
import sys

for _name in filter(None, os.environ.get("JOULES_GPU_CHECK_ABSENT", "").split(",")):
    # None in sys.modules: `import x` raises ImportError and importlib.util.find_spec("x") is None,
    # exactly as for a package that is not installed.
    sys.modules[_name] = None

if os.environ.get("JOULES_GPU_CHECK_GLOO") == "1" and os.environ.get("LOCAL_RANK") is not None:
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="gloo", init_method="env://")
        print(
            f"gpu-check gloo shim: rank {dist.get_rank()} of {dist.get_world_size()} joined a gloo process group",
            file=sys.stderr,
            flush=True,
        )
