"""NVML plumbing shared by the nvml backend, the timeseries sampler and the environment record.

``pynvml`` (nvidia-ml-py) is imported lazily, inside functions, so that tests can inject a fake
module at the import boundary (``sys.modules["pynvml"]``) as Zeus's tests do.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from joules_worker import power_events
from joules_worker.energy.base import GpuRef

logger = logging.getLogger(__name__)

# Clock-event ("throttle") reason bits of nvmlDeviceGetCurrentClocksEventReasons. GPU idle and the
# application/display clock settings are not slow-downs; the others are.
THROTTLE_BITS = {
    0x4: "sw_power_cap",
    0x8: "hw_slowdown",
    0x10: "sync_boost",
    0x20: "sw_thermal_slowdown",
    0x40: "hw_thermal_slowdown",
    0x80: "hw_power_brake_slowdown",
    0x200: "board_limit",
    0x400: "reliability",
}


def probe() -> str | None:
    """None when NVML starts and sees at least one GPU; otherwise why not."""
    try:
        import pynvml
    except ImportError:
        return "nvidia-ml-py (module pynvml) is not installed"
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as e:
        return f"NVML cannot start: {e}"
    try:
        if pynvml.nvmlDeviceGetCount() == 0:
            return "NVML sees no GPU"
        return None
    finally:
        pynvml.nvmlShutdown()


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class NvmlDevice:
    device_id: str  # "<host>/gpu/<uuid>"
    uuid: str
    handle: Any


def unread_id(gpu: GpuRef, host: str) -> str:
    """The device id of a GPU NVML could not find: its UUID when known, else its NVML index."""
    return f"{host}/gpu/{gpu.uuid}" if gpu.uuid else f"{host}/gpu/index-{gpu.index}"


def _uuid_candidates(uuid: str) -> list[str]:
    """NVML names a GPU "GPU-…" and a MIG instance "MIG-…"; torch gives the bare UUID for both, which
    environment.cuda_uuid prefixes "GPU-". Try the other prefix too, so that a MIG slice is found."""
    for prefix, other in (("GPU-", "MIG-"), ("MIG-", "GPU-")):
        if uuid.startswith(prefix):
            return [uuid, other + uuid[len(prefix) :]]
    return [uuid, f"GPU-{uuid}", f"MIG-{uuid}"]


def _handle_by_uuid(pynvml: Any, uuid: str) -> Any:
    error: Exception | None = None
    for candidate in _uuid_candidates(uuid):
        try:
            return pynvml.nvmlDeviceGetHandleByUUID(candidate)
        except pynvml.NVMLError as e:
            error = e
    raise error  # type: ignore[misc]


def resolve(pynvml: Any, gpus: Sequence[GpuRef], host: str) -> tuple[list[NvmlDevice], list[tuple[str, str]]]:
    """NVML handles of this rank's GPUs (by UUID when torch gave one, else by NVML index), and
    (device id, reason) for each GPU that NVML does not know. Call between nvmlInit and nvmlShutdown."""
    devices: list[NvmlDevice] = []
    missing: list[tuple[str, str]] = []
    for gpu in gpus:
        try:
            handle = _handle_by_uuid(pynvml, gpu.uuid) if gpu.uuid else pynvml.nvmlDeviceGetHandleByIndex(gpu.index)
            uuid = text(pynvml.nvmlDeviceGetUUID(handle))
        except pynvml.NVMLError as e:
            what = f"GPU {gpu.uuid}" if gpu.uuid else f"GPU index {gpu.index}"
            missing.append((unread_id(gpu, host), f"{what} not found by NVML ({e}): not measured"))
            continue
        devices.append(NvmlDevice(f"{host}/gpu/{uuid}", uuid, handle))
    return devices, missing


def nvml_index(pynvml: Any, device: NvmlDevice) -> int | None:
    """The device's index in this process's NVML enumeration (what CodeCarbon calls a GPU id)."""
    return _read(pynvml.nvmlDeviceGetIndex, device.handle) if hasattr(pynvml, "nvmlDeviceGetIndex") else None


def state(pynvml: Any, device: NvmlDevice) -> dict[str, Any]:
    """{device_id, temp_c, pstate, power_limit_w}: what the idle baseline and the window are compared on."""
    h = device.handle
    pstate = (
        _read(pynvml.nvmlDeviceGetPerformanceState, h) if hasattr(pynvml, "nvmlDeviceGetPerformanceState") else None
    )
    limit_mw = _read(pynvml.nvmlDeviceGetEnforcedPowerLimit, h)
    temp = _read(pynvml.nvmlDeviceGetTemperature, h, pynvml.NVML_TEMPERATURE_GPU)
    return {
        "device_id": device.device_id,
        "temp_c": float(temp) if temp is not None else None,
        "pstate": int(pstate) if pstate is not None and 0 <= int(pstate) <= 15 else None,  # 32 = unknown
        "power_limit_w": limit_mw / 1000.0 if limit_mw is not None else None,
    }


def gpu_states(gpus: Sequence[GpuRef], host: str) -> list[dict[str, Any]] | None:
    """The state of each of these GPUs now, or None when NVML cannot run here or there is no GPU."""
    if not gpus or probe() is not None:
        return None
    import pynvml

    pynvml.nvmlInit()
    try:
        devices, _ = resolve(pynvml, gpus, host)
        return [state(pynvml, d) for d in devices]
    finally:
        pynvml.nvmlShutdown()


def throttle_names(mask: int) -> list[str]:
    return [name for bit, name in THROTTLE_BITS.items() if mask & bit]


def _read(fn: Any, *args: Any) -> Any:
    import pynvml

    try:
        return fn(*args)
    except pynvml.NVMLError:
        return None


def sample(pynvml: Any, device: NvmlDevice, t: float) -> dict[str, Any]:
    """One timeseries row: {t, device_id, power_w, util_pct, temp_c, clock_mhz, throttle}."""
    h = device.handle
    power_mw = _read(pynvml.nvmlDeviceGetPowerUsage, h)
    util = _read(pynvml.nvmlDeviceGetUtilizationRates, h)
    reasons_fn = (
        getattr(pynvml, "nvmlDeviceGetCurrentClocksEventReasons", None)
        or pynvml.nvmlDeviceGetCurrentClocksThrottleReasons
    )
    mask = _read(reasons_fn, h)
    return {
        "t": t,
        "device_id": device.device_id,
        "power_w": power_mw / 1000.0 if power_mw is not None else None,
        "util_pct": getattr(util, "gpu", None),
        "temp_c": _read(pynvml.nvmlDeviceGetTemperature, h, pynvml.NVML_TEMPERATURE_GPU),
        "clock_mhz": _read(pynvml.nvmlDeviceGetClockInfo, h, pynvml.NVML_CLOCK_SM),
        "throttle": throttle_names(int(mask)) if mask is not None else [],
    }


class Sampler:
    """A daemon thread that samples every device each ``interval_s``; ``sample_now()`` adds a
    row on demand (the backends take one at every start, pause, resume and stop).

    Rows carry ``t`` (unix time, for the timeseries file); the power integral and the spans use the
    monotonic clock (``perf_counter``) taken with each tick, so a clock step cannot bend a duration."""

    def __init__(self, devices: Sequence[NvmlDevice], interval_s: float) -> None:
        self.devices = list(devices)
        self.interval_s = interval_s
        self.rows: list[dict[str, Any]] = []
        self.row_m: list[float] = []  # the monotonic time of each row
        self.ticks = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample_now(self) -> float:
        """Sample every device; returns the tick's monotonic time."""
        import pynvml

        m, t = time.perf_counter(), time.time()  # one stamp per tick: span boundaries and samples line up exactly
        rows = [sample(pynvml, d, t) for d in self.devices]
        with self._lock:
            self.rows.extend(rows)
            self.row_m.extend([m] * len(rows))
            self.ticks += 1
        power_events.publish(rows)  # live power on stdout (a no-op unless the worker installed an emitter)
        return m

    def start(self) -> float:
        m = self.sample_now()
        self.launch()
        return m

    def launch(self) -> None:
        """Start the thread (``start`` = one sample now + ``launch``)."""
        self._thread = threading.Thread(target=self._loop, name="joules-nvml-sampler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sample_now()
            except Exception as e:  # noqa: BLE001 - a sampling hiccup must not kill the thread silently
                logger.warning("NVML sampling failed: %s", e)

    def halt(self) -> None:
        """Stop the thread (no last sample)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(5.0, 2 * self.interval_s))

    def stop(self) -> float:
        self.halt()
        return self.sample_now()

    def power(self, device_id: str) -> list[tuple[float, float]]:
        """(monotonic time, watts) of one device."""
        with self._lock:
            return [
                (m, r["power_w"])
                for m, r in zip(self.row_m, self.rows, strict=True)
                if r["device_id"] == device_id and r["power_w"] is not None
            ]

    def rows_in(self, spans: Any) -> list[dict[str, Any]]:
        """The rows sampled inside ``spans`` (a ``Spans`` in monotonic time)."""
        with self._lock:
            return [r for m, r in zip(self.row_m, self.rows, strict=True) if spans.contains(m)]


def throttling(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    reasons = sorted({name for r in rows for name in r["throttle"]})
    return {"observed": bool(reasons), "reasons": reasons}
