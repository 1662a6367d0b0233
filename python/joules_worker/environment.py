"""Where a rank ran: host, device, library versions, and the model's shape."""

from __future__ import annotations

import platform
import socket
from importlib import metadata
from typing import Any

LIBRARIES = ("torch", "transformers", "accelerate", "codecarbon")


def host_name() -> str:
    return socket.gethostname() or "localhost"


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def environment_block() -> dict[str, str | None]:
    import torch

    env: dict[str, str | None] = {"python": platform.python_version()}
    env.update({name: package_version(name) for name in LIBRARIES})
    env["platform"] = platform.platform()
    env["cuda"] = torch.version.cuda if torch.cuda.is_available() else None
    return env


def device_block(device: Any) -> dict[str, Any]:
    if device.type == "cuda":
        import torch

        index = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        uuid = getattr(props, "uuid", None)
        return {"type": "cuda", "id": f"cuda:{index}", "name": props.name, "uuid": f"GPU-{uuid}" if uuid else None}
    return {"type": "cpu", "id": "cpu", "name": _cpu_name(), "uuid": None}


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
        "num_layers": opt_int("num_hidden_layers"),
        "hidden_size": opt_int("hidden_size"),
        "num_attention_heads": opt_int("num_attention_heads"),
        "num_key_value_heads": opt_int("num_key_value_heads") or opt_int("num_attention_heads"),
        "intermediate_size": opt_int("intermediate_size"),
        "vocab_size": opt_int("vocab_size"),
        "is_encoder_decoder": bool(getattr(config, "is_encoder_decoder", False)),
    }
