"""``joules doctor``'s look at the worker's environment: ``python -m joules_worker.doctor`` prints one
JSON line with the Python version, the packages that matter, what torch sees (CUDA, GPUs) and, for
each registered energy backend, its own answer (``EnergyBackend.doctor()``: ok, detail, hint, and
what it found). A new backend brings its doctor line with it; the CLI shows the backends that
@joules/config's energy-backend table gives a doctor label."""

from __future__ import annotations

import json
import platform
from typing import Any

from joules_worker.energy import BACKENDS
from joules_worker.environment import package_version

PACKAGES = (
    "torch",
    "transformers",
    "accelerate",
    "datasets",
    "codecarbon",
    "nvidia-ml-py",
    "zeus",
    "bitsandbytes",
    "joules-worker",
)


def _torch() -> dict[str, Any]:
    try:
        import torch

        available = bool(torch.cuda.is_available())
        gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if available else []
        return {"cuda_available": available, "cuda_version": torch.version.cuda, "gpus": gpus}
    except Exception as e:  # noqa: BLE001 - the doctor reports what is broken, it does not fail on it
        return {"torch_error": str(e)}


def _backend(name: str) -> dict[str, Any]:
    try:
        return BACKENDS[name].doctor()
    except Exception as e:  # noqa: BLE001 - one backend's broken probe is one line of the report
        return {"ok": False, "detail": f"probe failed ({type(e).__name__}: {e})", "hint": None}


def probe() -> dict[str, Any]:
    """What ``joules doctor`` shows of the worker's side."""
    return {
        "python": platform.python_version(),
        "packages": {name: package_version(name) for name in PACKAGES},
        **_torch(),
        "backends": {name: _backend(name) for name in BACKENDS},
    }


def main() -> None:
    print(json.dumps(probe()))


if __name__ == "__main__":
    main()
