"""A fake of nvidia-ml-py's ``pynvml`` for tests on machines without an NVIDIA GPU.

Only what Joules calls, with the real module's names, constants and error classes. Devices are
configured with ``configure(devices=[...], init_error=None)`` in-process, or, in subprocesses that
find this package on PYTHONPATH, from the JSON file named by ``$FAKE_PYNVML_CONFIG``.

A device is a dict: ``uuid``, ``name``, ``power_w`` (constant watts) or ``power_ramp`` ([a, b]:
a + b·(t − t0) watts), ``energy_counter`` (default true; false = NVML_ERROR_NOT_SUPPORTED),
``energy_start_mj`` (the counter's value at t0, e.g. just below 2**64 to force a wrap),
``energy_mj_reads`` (values the counter returns, one per call, the last repeating: exact wraps),
``throttle`` (clock-event reason mask), ``power_limit_w``, ``power`` (default true; false = power
usage NOT_SUPPORTED, as on a MIG slice), ``temp`` (°C) and ``pstate`` (performance state); a device's
NVML index is its place in the list. The energy counter is the exact
integral of the power curve since t0 (the moment of ``configure``), so tests know the truth.

What the GPU guard (joules_worker.gpu_control) sets: ``power_limit_w`` is the management limit (and
the enforced one), within ``power_limit_constraints_w`` ([min, max], default [100, 700]);
``sm_clock_range_mhz`` ([min, max], default [210, 1980]) bounds a locked SM clock, which reads back
rounded down to ``sm_clock_step_mhz`` (default 1); ``deny`` (true, or a list of "power_limit",
"clocks") refuses those sets with NVML_ERROR_NO_PERMISSION, and ``clock_lock: false`` refuses locks
with NOT_SUPPORTED. Set values live in the JSON file named by ``$FAKE_PYNVML_STATE`` when it is set
(``{uuid: {"power_limit_mw": n, "locked_sm_mhz": [min, max] | null}}``, shared by every process, so a
test sees what a killed process left), else in this process. ``calls_log`` lists every set/reset.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

NVML_TEMPERATURE_GPU = 0
NVML_CLOCK_SM = 1
NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_INVALID_ARGUMENT = 2
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_NOT_FOUND = 6
NVML_ERROR_LIBRARY_NOT_FOUND = 12
_NAMES = {
    1: "Uninitialized",
    2: "Invalid Argument",
    3: "Not Supported",
    4: "Insufficient Permissions",
    6: "Not Found",
    12: "NVML Shared Library Not Found",
}
COUNTER_WRAP = 2**64


class NVMLError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return _NAMES.get(self.value, f"NVML Error with code {self.value}")


class NVMLError_Uninitialized(NVMLError):  # noqa: N801 - the real module's names
    def __init__(self) -> None:
        super().__init__(NVML_ERROR_UNINITIALIZED)


class NVMLError_NotSupported(NVMLError):  # noqa: N801
    def __init__(self) -> None:
        super().__init__(NVML_ERROR_NOT_SUPPORTED)


class NVMLError_NoPermission(NVMLError):  # noqa: N801
    def __init__(self) -> None:
        super().__init__(NVML_ERROR_NO_PERMISSION)


class NVMLError_NotFound(NVMLError):  # noqa: N801
    def __init__(self) -> None:
        super().__init__(NVML_ERROR_NOT_FOUND)


class NVMLError_InvalidArgument(NVMLError):  # noqa: N801
    def __init__(self) -> None:
        super().__init__(NVML_ERROR_INVALID_ARGUMENT)


_state: dict[str, Any] = {
    "devices": [],
    "init_error": None,
    "t0": time.time(),
    "inits": 0,
    "calls": 0,
    "settings": {},
    "calls_log": [],
}


def configure(devices: list[dict[str, Any]] | None = None, init_error: int | None = None) -> None:
    _state.update(
        devices=list(devices or []), init_error=init_error, t0=time.time(), inits=0, calls=0, settings={}, calls_log=[]
    )


def _configure_from_env() -> None:
    path = os.environ.get("FAKE_PYNVML_CONFIG")
    if path:
        with open(path) as f:
            data = json.load(f)
        configure(data.get("devices"), data.get("init_error"))
        if "t0" in data:
            _state["t0"] = float(data["t0"])  # shared by processes: one device curve for all ranks


_configure_from_env()


def _live() -> None:
    _state["calls"] += 1
    if _state["inits"] <= 0:
        raise NVMLError_Uninitialized()


def _dev(handle: Any) -> dict[str, Any]:
    _live()
    return _state["devices"][handle.index]


def _power_w(d: dict[str, Any], t: float) -> float:
    if "power_ramp" in d:
        a, b = d["power_ramp"]
        return a + b * (t - _state["t0"])
    return float(d.get("power_w", 100.0))


def _energy_j(d: dict[str, Any], t: float) -> float:
    tau = t - _state["t0"]
    if "power_ramp" in d:
        a, b = d["power_ramp"]
        return a * tau + b * tau * tau / 2
    return float(d.get("power_w", 100.0)) * tau


def nvmlInit() -> None:  # noqa: N802 - the real module's names
    if _state["init_error"] is not None:
        raise NVMLError(_state["init_error"])
    _state["inits"] += 1


def nvmlShutdown() -> None:  # noqa: N802
    _live()
    _state["inits"] -= 1


def nvmlSystemGetDriverVersion() -> str:  # noqa: N802
    _live()
    return "550.54.15-fake"


def nvmlDeviceGetCount() -> int:  # noqa: N802
    _live()
    return len(_state["devices"])


def nvmlDeviceGetHandleByIndex(index: int) -> Any:  # noqa: N802
    _live()
    if not 0 <= index < len(_state["devices"]):
        raise NVMLError_InvalidArgument()
    return SimpleNamespace(index=index)


def nvmlDeviceGetHandleByUUID(uuid: str | bytes) -> Any:  # noqa: N802
    _live()
    text = uuid.decode() if isinstance(uuid, bytes) else uuid
    for i, d in enumerate(_state["devices"]):
        if d["uuid"] == text:
            return SimpleNamespace(index=i)
    raise NVMLError_NotFound()


def nvmlDeviceGetUUID(handle: Any) -> str:  # noqa: N802
    return _dev(handle)["uuid"]


def nvmlDeviceGetName(handle: Any) -> str:  # noqa: N802
    return _dev(handle).get("name", "Fake GPU")


def nvmlDeviceGetPowerUsage(handle: Any) -> int:  # noqa: N802
    d = _dev(handle)
    if not d.get("power", True):
        raise NVMLError_NotSupported()
    return int(round(_power_w(d, time.time()) * 1000))


def nvmlDeviceGetIndex(handle: Any) -> int:  # noqa: N802
    _dev(handle)
    return int(handle.index)


def nvmlDeviceGetPerformanceState(handle: Any) -> int:  # noqa: N802
    return int(_dev(handle).get("pstate", 0))


def nvmlDeviceGetTotalEnergyConsumption(handle: Any) -> int:  # noqa: N802
    d = _dev(handle)
    if not d.get("energy_counter", True):
        raise NVMLError_NotSupported()
    if d.get("energy_mj_reads"):
        reads = d["energy_mj_reads"]
        return reads.pop(0) if len(reads) > 1 else reads[0]
    mj = int(d.get("energy_start_mj", 0)) + int(_energy_j(d, time.time()) * 1000)
    return mj % COUNTER_WRAP


def nvmlDeviceGetUtilizationRates(handle: Any) -> Any:  # noqa: N802
    return SimpleNamespace(gpu=_dev(handle).get("util", 97), memory=40)


def nvmlDeviceGetTemperature(handle: Any, sensor: int) -> int:  # noqa: N802
    return _dev(handle).get("temp", 61)


def nvmlDeviceGetClockInfo(handle: Any, clock: int) -> int:  # noqa: N802
    d = _dev(handle)
    locked = _settings(d).get("locked_sm_mhz")
    if clock == NVML_CLOCK_SM and locked:
        step = int(d.get("sm_clock_step_mhz", 1))
        return locked[1] // step * step
    return d.get("clock", 1755)


def nvmlDeviceGetCurrentClocksEventReasons(handle: Any) -> int:  # noqa: N802
    return int(_dev(handle).get("throttle", 0))


nvmlDeviceGetCurrentClocksThrottleReasons = nvmlDeviceGetCurrentClocksEventReasons


def nvmlDeviceGetEnforcedPowerLimit(handle: Any) -> int:  # noqa: N802
    return _power_limit_mw(_dev(handle))


# The settable state: power limit and locked SM clock (see the module's docstring).


def _with_state_file(change: Callable[[dict[str, Any]], None] | None) -> dict[str, Any]:
    """Read (and with ``change``, update in place and write back) the shared state, under a lock."""
    path = os.environ.get("FAKE_PYNVML_STATE")
    if not path:
        if change:
            change(_state["settings"])
        return _state["settings"]
    with open(f"{path}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(path) as f:
                data = json.load(f)
        except FileNotFoundError:
            data = {}
        if change:
            change(data)
            with open(f"{path}.tmp", "w") as f:
                json.dump(data, f)
            os.replace(f"{path}.tmp", path)
        return data


def _settings(d: dict[str, Any]) -> dict[str, Any]:
    return _with_state_file(None).get(d["uuid"], {})


def _set(handle: Any, what: str, key: str, value: Any) -> None:
    d = _dev(handle)
    deny = d.get("deny", [])
    if deny is True or what in deny:
        raise NVMLError_NoPermission()
    _state["calls_log"].append((what, d["uuid"], value))
    _with_state_file(lambda data: data.setdefault(d["uuid"], {}).__setitem__(key, value))


def _power_limit_mw(d: dict[str, Any]) -> int:
    mw = _settings(d).get("power_limit_mw")
    return int(mw) if mw is not None else int(d.get("power_limit_w", 700) * 1000)


def _constraints_mw(d: dict[str, Any]) -> tuple[int, int]:
    lo, hi = d.get("power_limit_constraints_w", [100, 700])
    return int(lo * 1000), int(hi * 1000)


def nvmlDeviceGetPowerManagementLimit(handle: Any) -> int:  # noqa: N802
    return _power_limit_mw(_dev(handle))


def nvmlDeviceGetPowerManagementDefaultLimit(handle: Any) -> int:  # noqa: N802
    return _constraints_mw(_dev(handle))[1]


def nvmlDeviceGetPowerManagementLimitConstraints(handle: Any) -> tuple[int, int]:  # noqa: N802
    return _constraints_mw(_dev(handle))


def nvmlDeviceSetPowerManagementLimit(handle: Any, limit_mw: int) -> None:  # noqa: N802
    lo, hi = _constraints_mw(_dev(handle))
    if not lo <= limit_mw <= hi:
        raise NVMLError_InvalidArgument()
    _set(handle, "power_limit", "power_limit_mw", int(limit_mw))


def nvmlDeviceSetGpuLockedClocks(handle: Any, min_mhz: int, max_mhz: int) -> None:  # noqa: N802
    d = _dev(handle)
    if not d.get("clock_lock", True):
        raise NVMLError_NotSupported()
    lo, hi = d.get("sm_clock_range_mhz", [210, 1980])
    if not lo <= min_mhz <= max_mhz <= hi:
        raise NVMLError_InvalidArgument()
    _set(handle, "clocks", "locked_sm_mhz", [int(min_mhz), int(max_mhz)])


def nvmlDeviceResetGpuLockedClocks(handle: Any) -> None:  # noqa: N802
    if not _dev(handle).get("clock_lock", True):
        raise NVMLError_NotSupported()
    _set(handle, "clocks", "locked_sm_mhz", None)


def nvmlDeviceGetMemoryInfo(handle: Any) -> Any:  # noqa: N802
    _dev(handle)
    return SimpleNamespace(total=141 * 2**30, free=100 * 2**30, used=41 * 2**30)
