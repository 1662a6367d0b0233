"""Step 6 (optional): ``transformers serve`` at concurrency 1 and 16, through the worker's serving
engine. It runs only when that engine exists in this worker and the server's Python packages are
importable; otherwise the steps are skipped with the reason, and the check says so."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

# What `transformers serve` imports at start (transformers[serving] + requests); the GPU machine
# lacks fastapi, uvicorn and pydantic unless wheels travel (tools/gpu-check/wheels.txt).
SERVER_MODULES = ("fastapi", "uvicorn", "pydantic", "openai", "requests")
ENGINE_MODULE = "joules_worker.engines.server"


def unavailable_reason(repo: Path) -> str | None:
    """None when the serving steps can run here; else why not."""
    engine_file = repo / "python" / Path(*ENGINE_MODULE.split(".")).with_suffix(".py")
    engine_pkg = repo / "python" / Path(*ENGINE_MODULE.split("."))
    if not engine_file.is_file() and not engine_pkg.is_dir():
        return f"the worker has no serving engine yet ({ENGINE_MODULE} is missing)"
    missing = [m for m in SERVER_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        return f"transformers serve needs {', '.join(missing)}: not importable (carry the wheels listed in tools/gpu-check/wheels.txt)"
    if os.environ.get("JOULES_GPU_CHECK_SERVING") != "1":
        return "the serving steps are not wired into the kit yet: set JOULES_GPU_CHECK_SERVING=1 once they are"
    return None
