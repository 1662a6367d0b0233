"""Idle baseline: each device's power with the model loaded and nothing running, before warm-up.

The chosen backend measures for ``energy.idle_baseline_s`` seconds; power = joules / seconds per
device. Results are cached per backend and device (the device id names the host) for
``JOULES_IDLE_CACHE_TTL_S`` seconds (default 3600) under ``$JOULES_CACHE_DIR/idle`` (default
``~/.cache/joules``), one small JSON file per device, so that parallel ranks never race on a file.
A cached value is used only when every device the backend will report has one at least as long
as the requested duration (minus 10 %).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from joules_worker.energy.base import BackendContext, EnergyBackend, EnergyResult

logger = logging.getLogger(__name__)

CACHE_ENV = "JOULES_CACHE_DIR"
TTL_ENV = "JOULES_IDLE_CACHE_TTL_S"
DEFAULT_TTL_S = 3600.0


@dataclass
class IdleBaseline:
    power_w: dict[str, float]  # device id -> idle watts
    duration_s: float
    cached: bool


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "joules") / "idle"


def _ttl_s() -> float:
    try:
        return float(os.environ.get(TTL_ENV, DEFAULT_TTL_S))
    except ValueError:
        return DEFAULT_TTL_S


def _entry_path(backend: str, device_id: str) -> Path:
    digest = hashlib.sha256(f"{backend}|{device_id}".encode()).hexdigest()[:24]
    return cache_dir() / f"{backend}-{digest}.json"


def _load(backend: str, device_id: str, min_duration_s: float) -> dict | None:
    try:
        entry = json.loads(_entry_path(backend, device_id).read_text())
    except (OSError, ValueError):
        return None
    fresh = time.time() - float(entry.get("measured_unix_s", 0)) < _ttl_s()
    long_enough = float(entry.get("duration_s", 0)) >= 0.9 * min_duration_s
    same = entry.get("device_id") == device_id and entry.get("backend") == backend
    return entry if fresh and long_enough and same else None


def _store(backend: str, device_id: str, power_w: float, duration_s: float) -> None:
    path = _entry_path(backend, device_id)
    entry = {"backend": backend, "device_id": device_id, "power_w": power_w, "duration_s": duration_s, "measured_unix_s": time.time()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(entry))
        os.replace(tmp, path)
    except OSError as e:
        logger.warning("cannot cache the idle power of %s in %s: %s", device_id, path.parent, e)


def measure_idle(
    cls: type[EnergyBackend], ctx: BackendContext, seconds: float, sleep: Callable[[float], None] = time.sleep
) -> IdleBaseline | None:
    """Idle power per device of this rank, from the cache or measured now; None when the rank has no device."""
    backend = cls(ctx)
    expected = backend.expected_device_ids()
    if expected == []:
        return None
    if expected:
        entries = [_load(cls.NAME, d, seconds) for d in expected]
        if all(e is not None for e in entries):
            logger.info("idle power from the cache (%s): %s", cache_dir(), {e["device_id"]: round(e["power_w"], 2) for e in entries})
            return IdleBaseline({e["device_id"]: float(e["power_w"]) for e in entries}, min(float(e["duration_s"]) for e in entries), True)
    logger.info("measuring idle power for %.1f s", seconds)
    backend.start()
    try:
        sleep(seconds)
    except BaseException:
        backend.abort()
        raise
    result = backend.stop()
    duration = (result.end_unix_s or 0) - (result.start_unix_s or 0)
    if duration <= 0 or not result.readings:
        return None
    power = {r.device_id: r.energy_j / duration for r in result.readings}
    for device_id, watts in power.items():
        _store(cls.NAME, device_id, watts, duration)
    return IdleBaseline(power, duration, False)


def apply_idle(result: EnergyResult, baseline: IdleBaseline | None) -> None:
    """Set each reading's idle_power_w and the result's ``idle`` block."""
    if baseline is None:
        return
    matched = False
    for reading in result.readings:
        reading.idle_power_w = baseline.power_w.get(reading.device_id)
        matched = matched or reading.idle_power_w is not None
    if matched:
        result.idle = {"duration_s": baseline.duration_s, "cached": baseline.cached}
