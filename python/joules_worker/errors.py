"""The worker's exceptions. Each carries the exit code and failure kind of the contract (v2)."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator


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


class TransientError(WorkerError):
    """Hub or network timeout, HTTP 5xx/429, connection reset, a filesystem hiccup: worth a retry."""

    exit_code = 7
    kind = "transient"


class UnsupportedError(WorkerError):
    """An option this machine cannot do (int4 without bitsandbytes, nvml without a GPU)."""

    exit_code = 8
    kind = "unsupported"


class ServerError(WorkerError):
    """The inference server (engine "server") failed: unreachable, HTTP 4xx/5xx, garbage or truncated
    streams, stalls, or too many failed requests."""

    exit_code = 9
    kind = "server_error"


ERRORS_BY_KIND: dict[str, type[WorkerError]] = {
    cls.kind: cls
    for cls in (
        WorkerError,
        BadConfigError,
        ModelNotFoundError,
        OutOfMemoryError,
        DatasetError,
        TransientError,
        UnsupportedError,
        ServerError,
    )
}

TRANSIENT_HTTP = {408, 425, 429, 500, 502, 503, 504}
TRANSIENT_ERRNO = {errno.EAGAIN, errno.ESTALE, errno.EIO, errno.ETIMEDOUT, errno.ECONNRESET, errno.ECONNABORTED}
# Exception class names of network libraries (requests, httpx, urllib3, aiohttp) that mean "try again".
# Matched by name so that classifying an error never imports a library.
TRANSIENT_NAMES = {
    "ConnectTimeout",
    "ReadTimeout",
    "WriteTimeout",
    "PoolTimeout",
    "TimeoutException",
    "Timeout",
    "ConnectError",
    "ReadError",
    "WriteError",
    "RemoteProtocolError",
    "ProtocolError",
    "ChunkedEncodingError",
    "ProxyError",
    "ServerDisconnectedError",
    "ClientConnectorError",
    "ConnectionError",
}


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _http_status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def hub_offline() -> bool:
    """HF_HUB_OFFLINE / HF_DATASETS_OFFLINE: the hub is switched off, so a network miss is final."""
    return any(
        os.environ.get(k, "").lower() in ("1", "true", "yes", "on") for k in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
    )


def transient_reason(exc: BaseException) -> str | None:
    """Why ``exc`` (or anything in its cause chain) is transient, or None when it is not.

    Network failures are not transient while the hub is switched off (offline mode): a retry
    would fail the same way. Filesystem hiccups (EAGAIN, ESTALE, EIO) always are.
    """
    network = not hub_offline()
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno in TRANSIENT_ERRNO and not isinstance(e, ConnectionError):
            return errno.errorcode.get(e.errno, str(e.errno))
        if not network:
            continue
        status = _http_status(e)
        if status is not None:
            return f"HTTP {status}" if status in TRANSIENT_HTTP else None  # a 404 or 401 is final
        if isinstance(e, (TimeoutError, ConnectionError)):
            return type(e).__name__
        if any(cls.__name__ in TRANSIENT_NAMES for cls in type(e).__mro__):
            return type(e).__name__
    return None


def to_worker_error(exc: BaseException) -> WorkerError:
    """Map any exception to a WorkerError: the single boundary for vendor exceptions.

    torch's OutOfMemoryError (CUDA, MPS, host allocations) becomes OutOfMemoryError; network and
    filesystem hiccups become TransientError; anything unknown is a plain WorkerError (exit 1).
    """
    if isinstance(exc, WorkerError):
        return exc
    torch = sys.modules.get("torch")  # never import torch just to classify an error
    reason = transient_reason(exc)
    if torch is not None and isinstance(exc, torch.OutOfMemoryError):
        err: WorkerError = OutOfMemoryError(f"out of memory: {exc}")
    elif isinstance(exc, MemoryError):
        err = OutOfMemoryError(f"out of host memory: {exc}")
    elif reason is not None:
        err = TransientError(f"transient failure ({reason}): {type(exc).__name__}: {exc}")
    else:
        err = WorkerError(f"{type(exc).__name__}: {exc}")
    err.__cause__ = exc
    return err
