"""Idle baseline: each device's power with the model loaded and nothing running, before warm-up.

The chosen backend measures for ``energy.idle_baseline_s`` seconds; power = joules / seconds per
device. Results are cached per backend and device (the device id names the host) for
``JOULES_IDLE_CACHE_TTL_S`` seconds (default 3600) under ``$JOULES_CACHE_DIR/idle`` (default
``~/.cache/joules``), one small JSON file per device, so that parallel ranks never race on a file.
A cached value is used only when every device the backend will report has one at least as long
as the requested duration (minus 10 %). The cache key includes the GPUs' enforced power limits: a
changed limit changes the idle power, so it is measured again.

The GPUs' temperature, P-state and power limit are recorded at the end of the idle span (and kept
in the cache); ``apply_idle`` compares them with the state at window start and warns (log and
note) when a GPU is more than ``TEMP_WARN_C`` warmer or cooler: its idle power was taken at
another temperature, and leakage power grows with it. Power = joules / the reading's active
seconds (monotonic clock).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joules_worker.energy import _nvml
from joules_worker.energy.base import BackendContext, EnergyBackend, EnergyResult

logger = logging.getLogger(__name__)

CACHE_ENV = "JOULES_CACHE_DIR"
TTL_ENV = "JOULES_IDLE_CACHE_TTL_S"
DEFAULT_TTL_S = 3600.0
TEMP_WARN_C = 10.0


@dataclass
class IdleBaseline:
    power_w: dict[str, float]  # device id -> idle watts
    duration_s: float
    cached: bool
    gpu_state: list[dict[str, Any]] | None = None  # [{device_id, temp_c, pstate, power_limit_w}] at idle


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "joules") / "idle"


def _ttl_s() -> float:
    try:
        return float(os.environ.get(TTL_ENV, DEFAULT_TTL_S))
    except ValueError:
        return DEFAULT_TTL_S


def power_limits_key(states: list[dict[str, Any]] | None) -> str:
    """The GPUs' enforced power limits, as part of the cache key ("" without NVML)."""
    return ",".join(
        f"{s['device_id']}={s['power_limit_w']}" for s in sorted(states or [], key=lambda s: s["device_id"])
    )


def _entry_path(backend: str, device_id: str, limits: str = "") -> Path:
    digest = hashlib.sha256(f"{backend}|{device_id}|{limits}".encode()).hexdigest()[:24]
    return cache_dir() / f"{backend}-{digest}.json"


def _load(backend: str, device_id: str, min_duration_s: float, limits: str = "") -> dict | None:
    try:
        entry = json.loads(_entry_path(backend, device_id, limits).read_text())
    except (OSError, ValueError):
        return None
    fresh = time.time() - float(entry.get("measured_unix_s", 0)) < _ttl_s()
    long_enough = float(entry.get("duration_s", 0)) >= 0.9 * min_duration_s
    same = (
        entry.get("device_id") == device_id
        and entry.get("backend") == backend
        and entry.get("power_limits", "") == limits
    )
    return entry if fresh and long_enough and same else None


def _store(
    backend: str,
    device_id: str,
    power_w: float,
    duration_s: float,
    limits: str = "",
    gpu_state: list[dict[str, Any]] | None = None,
) -> None:
    path = _entry_path(backend, device_id, limits)
    entry = {
        "backend": backend,
        "device_id": device_id,
        "power_w": power_w,
        "duration_s": duration_s,
        "measured_unix_s": time.time(),
        "power_limits": limits,
        "gpu_state": gpu_state,
    }
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
    limits = power_limits_key(_nvml.gpu_states(ctx.gpus, ctx.host))
    if expected:
        entries = [_load(cls.NAME, d, seconds, limits) for d in expected]
        if all(e is not None for e in entries):
            logger.info(
                "idle power from the cache (%s): %s",
                cache_dir(),
                {e["device_id"]: round(e["power_w"], 2) for e in entries},
            )
            return IdleBaseline(
                {e["device_id"]: float(e["power_w"]) for e in entries},
                min(float(e["duration_s"]) for e in entries),
                True,
                next((e["gpu_state"] for e in entries if e.get("gpu_state")), None),
            )
    logger.info("measuring idle power for %.1f s", seconds)
    backend.prepare()
    backend.start()
    try:
        sleep(seconds)
    except BaseException:
        backend.abort()
        raise
    result = backend.stop()
    states = _nvml.gpu_states(ctx.gpus, ctx.host)
    power = {r.device_id: r.energy_j / r.active_s for r in result.readings if r.energy_j is not None and r.active_s > 0}
    if not power:
        return None
    duration = min(r.active_s for r in result.readings if r.device_id in power)
    for device_id, watts in power.items():
        _store(cls.NAME, device_id, watts, duration, limits, states)
    return IdleBaseline(power, duration, False, states)


def apply_idle(result: EnergyResult, baseline: IdleBaseline | None) -> None:
    """Set each reading's idle_power_w, the result's ``idle`` block and ``gpu_state.idle``; warn when a
    GPU's temperature at window start differs from its idle one by more than TEMP_WARN_C."""
    if baseline is None:
        return
    matched = False
    for reading in result.readings:
        reading.idle_power_w = baseline.power_w.get(reading.device_id)
        matched = matched or reading.idle_power_w is not None
    if matched:
        result.idle = {"duration_s": baseline.duration_s, "cached": baseline.cached}
    if result.gpu_state is not None and baseline.gpu_state is not None:
        result.gpu_state["idle"] = baseline.gpu_state
        for warning in state_warnings(baseline.gpu_state, result.gpu_state["window_start"]):
            logger.warning("%s", warning)
            result.add_note(warning)


def state_warnings(idle: list[dict[str, Any]], start: list[dict[str, Any]]) -> list[str]:
    """One line per GPU whose temperature moved more than TEMP_WARN_C between idle and window start."""
    at_idle = {s["device_id"]: s for s in idle}
    out = []
    for s in start:
        i = at_idle.get(s["device_id"])
        if i is None or i.get("temp_c") is None or s.get("temp_c") is None:
            continue
        delta = s["temp_c"] - i["temp_c"]
        if abs(delta) > TEMP_WARN_C:
            out.append(
                f"{s['device_id']}: {s['temp_c']:g} °C at window start vs {i['temp_c']:g} °C at idle ({delta:+g} °C, "
                f"P{s.get('pstate')} vs P{i.get('pstate')}): the idle power was taken at another temperature"
            )
    return out
