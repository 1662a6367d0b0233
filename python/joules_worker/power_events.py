"""Live power on stdout: each sampled device's latest watts as a ``power`` event (contract v1,
additive), at most one per device every ``min_interval_s``, so a dashboard can show a running
experiment's power without waiting for its timeseries file.

The NVML sampler calls ``publish`` with every tick's rows (from its thread); the worker entrypoint
``install``s the rank's emitter. Without an installed emitter ``publish`` does nothing. A failure
to emit is logged and never reaches the measurement.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from joules_worker.events import EventEmitter

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_emitter: EventEmitter | None = None
_min_interval_s = 1.0
_last: dict[str, float] = {}


def install(emitter: EventEmitter, min_interval_s: float = 1.0) -> None:
    global _emitter, _min_interval_s
    with _lock:
        _emitter, _min_interval_s = emitter, min_interval_s
        _last.clear()


def uninstall() -> None:
    global _emitter
    with _lock:
        _emitter = None
        _last.clear()


def publish(rows: Iterable[dict[str, Any]]) -> None:
    """Sampler rows (``device_id`` ``<host>/gpu/<uuid>``, ``power_w``) → ``power`` events, rate-limited per device."""
    emitter = _emitter
    if emitter is None:
        return
    now = time.monotonic()
    due: list[tuple[str, float]] = []
    with _lock:
        for row in rows:
            device, watts = row.get("device_id"), row.get("power_w")
            if not isinstance(device, str) or not isinstance(watts, (int, float)) or watts < 0:
                continue
            if now - _last.get(device, float("-inf")) < _min_interval_s:
                continue
            _last[device] = now
            due.append((device, float(watts)))
    for device, watts in due:
        try:
            emitter.emit("power", host=device.split("/gpu/")[0], device=device, watts=watts)
        except Exception as e:  # noqa: BLE001 - live power is a convenience; the measurement goes on
            logger.warning("power event not written: %s", e)
