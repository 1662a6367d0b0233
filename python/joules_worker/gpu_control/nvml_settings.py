"""The NVML calls of the GPU guard: read a GPU's power limit, set the limit and lock the SM clock
(undoing everything on a refusal), read back what is enforced, restore. ``pynvml`` is passed in
(imported lazily by the guard; tests pass the fake)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

POWER_KEY = "gpu.power_limit_w"
CLOCK_KEY = "gpu.sm_clock_mhz"
NVML_ERROR_INVALID_ARGUMENT = 2
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
REFUSED_EXIT_CODE = 2  # the guard's exit code for a refused setting


class GpuControlRefused(Exception):
    """A setting NVML will not apply here (exit 2): the message names the key and what is needed."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass
class Gpu:
    index: int
    uuid: str
    handle: Any


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def open_gpus(pynvml: Any, indices: list[int], key: str) -> list[Gpu]:
    """NVML handles of the GPUs (NVML indices, as nvidia-smi numbers them)."""
    gpus = []
    for index in indices:
        try:
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        except pynvml.NVMLError as e:
            raise GpuControlRefused(key, f"GPU {index} is not on this host (NVML: {e})") from e
        gpus.append(Gpu(index, _text(pynvml.nvmlDeviceGetUUID(handle)), handle))
    return gpus


def _why(pynvml: Any, error: Any, key: str, gpu: Gpu, what: str) -> GpuControlRefused:
    code = getattr(error, "value", None)
    if code == NVML_ERROR_NO_PERMISSION:
        need = "root or CAP_SYS_ADMIN (run Joules as root, or give the worker's python cap_sys_admin)"
        if key == CLOCK_KEY:
            need += "; the driver's application-clock permission (nvidia-smi -acp UNRESTRICTED) does not cover locked clocks"
        return GpuControlRefused(key, f"NVML refused to {what} on GPU {gpu.index} ({error}): this needs {need}")
    if code == NVML_ERROR_NOT_SUPPORTED:
        return GpuControlRefused(key, f"GPU {gpu.index} cannot {what} (NVML: {error})")
    if code == NVML_ERROR_INVALID_ARGUMENT:
        return GpuControlRefused(key, f"GPU {gpu.index} does not accept this value (NVML: {error})")
    return GpuControlRefused(key, f"could not {what} on GPU {gpu.index} (NVML: {error})")


def previous_limit_mw(pynvml: Any, gpu: Gpu) -> int:
    return int(pynvml.nvmlDeviceGetPowerManagementLimit(gpu.handle))


def check_power_limit(pynvml: Any, gpus: list[Gpu], watts: int) -> None:
    """Refuse a limit outside any GPU's constraints before anything is changed."""
    for gpu in gpus:
        try:
            lo, hi = pynvml.nvmlDeviceGetPowerManagementLimitConstraints(gpu.handle)
        except pynvml.NVMLError as e:
            raise _why(pynvml, e, POWER_KEY, gpu, "read its power limit range") from e
        if not lo <= watts * 1000 <= hi:
            raise GpuControlRefused(
                POWER_KEY, f"{watts} W is outside GPU {gpu.index}'s range, {lo / 1000:g} to {hi / 1000:g} W"
            )


def apply(pynvml: Any, gpus: list[Gpu], previous_mw: dict[int, int], watts: int | None, mhz: int | None) -> None:
    """Set the power limit, then lock the clocks, on every GPU; on any failure undo what was set and raise."""
    done: list[tuple[str, Gpu]] = []
    try:
        for gpu in gpus if watts is not None else []:
            try:
                pynvml.nvmlDeviceSetPowerManagementLimit(gpu.handle, watts * 1000)
            except pynvml.NVMLError as e:
                raise _why(pynvml, e, POWER_KEY, gpu, "set the power limit") from e
            done.append(("power", gpu))
        for gpu in gpus if mhz is not None else []:
            try:
                pynvml.nvmlDeviceSetGpuLockedClocks(gpu.handle, mhz, mhz)
            except pynvml.NVMLError as e:
                raise _why(pynvml, e, CLOCK_KEY, gpu, "lock the SM clock") from e
            done.append(("clocks", gpu))
    except GpuControlRefused:
        for what, gpu in reversed(done):
            undo(pynvml, gpu, previous_mw.get(gpu.index) if what == "power" else None, what == "clocks")
        raise


def undo(pynvml: Any, gpu: Any, limit_mw: int | None, reset_clocks: bool) -> list[str]:
    """Put one GPU back: its previous power limit, its clocks unlocked. Returns what failed (empty: all done)."""
    failed = []
    if limit_mw is not None:
        try:
            pynvml.nvmlDeviceSetPowerManagementLimit(gpu.handle, int(limit_mw))
        except pynvml.NVMLError as e:
            failed.append(f"GPU {gpu.index}: power limit back to {limit_mw / 1000:g} W: {e}")
    if reset_clocks:
        try:
            pynvml.nvmlDeviceResetGpuLockedClocks(gpu.handle)
        except pynvml.NVMLError as e:
            failed.append(f"GPU {gpu.index}: SM clock unlock: {e}")
    return failed


def read_back(pynvml: Any, gpu: Gpu) -> dict[str, Any]:
    """What NVML enforces now: the power limit (W) and the SM clock (MHz)."""
    return {
        "index": gpu.index,
        "uuid": gpu.uuid,
        "power_limit_w": pynvml.nvmlDeviceGetEnforcedPowerLimit(gpu.handle) / 1000.0,
        "sm_clock_mhz": int(pynvml.nvmlDeviceGetClockInfo(gpu.handle, pynvml.NVML_CLOCK_SM)),
    }


def handle_for(pynvml: Any, uuid: str, index: int) -> Gpu:
    """A GPU of a restore file: by UUID (indices may change across reboots), else by index."""
    try:
        handle = pynvml.nvmlDeviceGetHandleByUUID(uuid)
    except pynvml.NVMLError:
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    return Gpu(index, uuid, handle)
