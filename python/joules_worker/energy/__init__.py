"""Energy backends, chosen by name from an explicit registry, or by ``auto``.

``auto`` takes the first that can run here, in this order:
  1. ``nvml``        when the rank has GPUs (gpu_ids) and NVML starts and sees a GPU,
  2. ``rapl``        when the powercap sysfs counters are readable,
  3. ``codecarbon``  when CodeCarbon is installed (estimates CPU/RAM where no counter exists),
  4. ``none``.
Each skipped backend is named in the result's note with the reason. A backend named explicitly
that cannot run here is an ``unsupported`` failure (exit 8), not a silent fallback.
"""

from __future__ import annotations

from joules_worker.energy.base import BackendContext, EnergyBackend, EnergyReading, EnergyResult, GpuRef, reset_probes
from joules_worker.energy.codecarbon_backend import CodeCarbonBackend
from joules_worker.energy.none_backend import NoneBackend
from joules_worker.energy.nvml_backend import NvmlBackend
from joules_worker.energy.rapl_backend import RaplBackend
from joules_worker.energy.zeus_backend import ZeusBackend
from joules_worker.errors import UnsupportedError

BACKENDS: dict[str, type[EnergyBackend]] = {
    NvmlBackend.NAME: NvmlBackend,
    ZeusBackend.NAME: ZeusBackend,
    CodeCarbonBackend.NAME: CodeCarbonBackend,
    RaplBackend.NAME: RaplBackend,
    NoneBackend.NAME: NoneBackend,
}
AUTO_ORDER = (NvmlBackend.NAME, RaplBackend.NAME, CodeCarbonBackend.NAME, NoneBackend.NAME)


def get_backend(name: str) -> type[EnergyBackend]:
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown energy backend {name!r} (known: {', '.join(BACKENDS)})") from None


def choose_backend(name: str, ctx: BackendContext) -> tuple[type[EnergyBackend], str | None]:
    """The backend class for ``name`` (or ``auto``) and, for auto, a note saying what it skipped."""
    if name != "auto":
        cls = get_backend(name)
        reason = cls.unavailable_reason()
        if reason is not None:
            raise UnsupportedError(f"energy.backend {name!r} cannot run on this host: {reason}")
        if cls.NEEDS_GPUS and not ctx.gpus:
            raise UnsupportedError(f"energy.backend {name!r}: this rank has no GPU to read")
        return cls, None
    skipped: list[str] = []
    for candidate in AUTO_ORDER:
        cls = BACKENDS[candidate]
        if cls.NEEDS_GPUS and not ctx.gpus:
            skipped.append(f"{candidate} skipped: no gpu_ids")
            continue
        reason = cls.unavailable_reason()
        if reason is None:
            return cls, f"auto chose {candidate}" + (f" ({'; '.join(skipped)})" if skipped else "")
        skipped.append(f"{candidate} skipped: {reason}")
    raise AssertionError("the none backend is always available")  # pragma: no cover


__all__ = [
    "AUTO_ORDER",
    "BACKENDS",
    "BackendContext",
    "CodeCarbonBackend",
    "EnergyBackend",
    "EnergyReading",
    "EnergyResult",
    "GpuRef",
    "NoneBackend",
    "NvmlBackend",
    "RaplBackend",
    "ZeusBackend",
    "choose_backend",
    "get_backend",
    "reset_probes",
]
