"""The worker's exceptions. Each carries the exit code and failure kind of the contract."""

from __future__ import annotations

import sys


class WorkerError(Exception):
    """Base class: an expected failure with a contract exit code and kind."""

    exit_code = 1
    kind = "other"


class BadConfigError(WorkerError):
    exit_code = 3
    kind = "bad_config"


class ModelNotFoundError(WorkerError):
    exit_code = 4
    kind = "model_not_found"


class OutOfMemoryError(WorkerError):
    exit_code = 5
    kind = "oom"


class DatasetError(WorkerError):
    exit_code = 6
    kind = "dataset"


def to_worker_error(exc: BaseException) -> WorkerError:
    """Map any exception to a WorkerError: the single boundary for vendor exceptions.

    torch's OutOfMemoryError (CUDA, MPS, host allocations) becomes OutOfMemoryError;
    anything unknown becomes a plain WorkerError (exit 1, kind "other").
    """
    if isinstance(exc, WorkerError):
        return exc
    torch = sys.modules.get("torch")  # never import torch just to classify an error
    if torch is not None and isinstance(exc, torch.OutOfMemoryError):
        err: WorkerError = OutOfMemoryError(f"out of memory: {exc}")
    elif isinstance(exc, MemoryError):
        err = OutOfMemoryError(f"out of host memory: {exc}")
    else:
        err = WorkerError(f"{type(exc).__name__}: {exc}")
    err.__cause__ = exc
    return err
