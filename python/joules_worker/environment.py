"""Where a rank ran: host, device, the reproducibility record, and the model's shape."""

from __future__ import annotations

import functools
import logging
import platform
import socket
from collections.abc import Sequence
from importlib import metadata
from typing import Any

logger = logging.getLogger(__name__)

LIBRARIES = ("torch", "transformers", "accelerate", "codecarbon")
OTHER_PACKAGES = ("datasets", "tokenizers", "safetensors", "bitsandbytes", "flash-attn", "numpy")


def host_name() -> str:
    return socket.gethostname() or "localhost"


@functools.cache  # installed versions do not change under a running worker (a session asks per experiment)
def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def environment_block(
    *,
    host: str,
    gpus: Sequence[Any] = (),
    dataset: dict[str, Any] | None = None,
    sharding: str = "none",
) -> dict[str, Any]:
    """The reproducibility record: versions, GPUs (names, driver, power limits), git commit, dataset."""
    import torch

    from joules_worker import __version__
    from joules_worker.gitinfo import git_commit

    env: dict[str, Any] = {"python": platform.python_version()}
    env.update({name: package_version(name) for name in LIBRARIES})
    env["platform"] = platform.platform()
    env["cuda"] = torch.version.cuda if torch.cuda.is_available() else None
    env["host"] = host
    env["joules_worker"] = __version__
    env["git_commit"] = git_commit()
    env["cudnn"] = torch.backends.cudnn.version() if torch.cuda.is_available() else None
    env["packages"] = {name: package_version(name) for name in OTHER_PACKAGES}
    env["energy_backend_versions"] = {
        "nvml": package_version("nvidia-ml-py"),
        "zeus": package_version("zeus") or package_version("zeus-ml"),
        "codecarbon": package_version("codecarbon"),
    }
    env["gpus"], env["gpu_driver"] = gpu_records(gpus)
    env["dataset"] = dataset
    env["sharding"] = sharding
    return env


def gpu_records(gpus: Sequence[Any]) -> tuple[list[dict[str, Any]], str | None]:
    """Name, UUID, memory and power limits of this rank's GPUs (NVML where it runs, else torch)."""
    if not gpus:
        return [], None
    from joules_worker.energy import _nvml

    records: list[dict[str, Any]] = []
    driver = None
    if _nvml.probe() is None:
        import pynvml

        pynvml.nvmlInit()
        try:
            driver = _nvml.text(pynvml.nvmlSystemGetDriverVersion())
            devices, _ = _nvml.resolve(pynvml, gpus, "")
            for d in devices:
                limit = _nvml_read(pynvml, pynvml.nvmlDeviceGetEnforcedPowerLimit, d.handle)
                records.append(
                    {
                        "name": _nvml.text(pynvml.nvmlDeviceGetName(d.handle)),
                        "uuid": d.uuid,
                        "power_limit_w": limit / 1000.0 if limit is not None else None,
                        "memory_total_bytes": getattr(
                            _nvml_read(pynvml, pynvml.nvmlDeviceGetMemoryInfo, d.handle), "total", None
                        ),
                    }
                )
        finally:
            pynvml.nvmlShutdown()
        return records, driver
    import torch

    for g in gpus:
        if g.cuda_index is not None and torch.cuda.is_available():
            props = torch.cuda.get_device_properties(g.cuda_index)
            records.append(
                {
                    "name": props.name,
                    "uuid": g.uuid,
                    "power_limit_w": None,
                    "memory_total_bytes": int(props.total_memory),
                }
            )
    return records, driver


def _nvml_read(pynvml: Any, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except pynvml.NVMLError:
        return None


def device_block(device: Any) -> dict[str, Any]:
    if device.type == "cuda":
        import torch

        index = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        return {"type": "cuda", "id": f"cuda:{index}", "name": props.name, "uuid": cuda_uuid(index)}
    return {"type": "cpu", "id": "cpu", "name": _cpu_name(), "uuid": None}


def cuda_uuid(index: int) -> str | None:
    """ "GPU-…" as NVML writes it, from torch's device properties."""
    import torch

    uuid = getattr(torch.cuda.get_device_properties(index), "uuid", None)
    if uuid is None:
        return None
    text = str(uuid)
    return text if text.startswith(("GPU-", "MIG-")) else f"GPU-{text}"


def _cpu_name() -> str | None:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def model_block(model: Any, model_name: str) -> dict[str, Any]:
    config = model.config
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    embeddings = model.get_input_embeddings()
    architectures = getattr(config, "architectures", None) or [type(model).__name__]

    def opt_int(key: str) -> int | None:
        value = getattr(text, key, None)
        return int(value) if isinstance(value, int) else None

    return {
        "name": model_name,
        "architecture": architectures[0],
        "model_type": getattr(config, "model_type", None),
        "dtype": str(model.dtype).removeprefix("torch."),
        "num_parameters": int(sum(p.numel() for p in model.parameters())),
        "num_embedding_parameters": int(embeddings.weight.numel()) if embeddings is not None else 0,
        "num_layers": opt_int("num_hidden_layers") or opt_int("num_layers"),
        "hidden_size": opt_int("hidden_size") or opt_int("d_model"),
        "num_attention_heads": opt_int("num_attention_heads") or opt_int("num_heads"),
        "num_key_value_heads": opt_int("num_key_value_heads") or opt_int("num_attention_heads") or opt_int("num_heads"),
        "intermediate_size": opt_int("intermediate_size") or opt_int("d_ff"),
        "vocab_size": opt_int("vocab_size"),
        "is_encoder_decoder": bool(getattr(config, "is_encoder_decoder", False)),
    }
