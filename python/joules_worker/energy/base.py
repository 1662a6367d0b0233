"""Energy backends: the ABC, what they report, and the contract's ``energy`` block (v2).

A backend measures between ``start()`` and ``stop()`` on one rank. ``pause()``/``resume()`` take
spans out of the accounting (traffic waits outside the energy window): ``paused_s`` is their total.
Machine-level backends (CodeCarbon, RAPL) read on local rank 0 only; the other ranks of the host
report no readings, so every device is reported by exactly one rank.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from joules_worker.config import EnergyConfig

logger = logging.getLogger(__name__)


@dataclass
class EnergyReading:
    device_id: str  # one physical thing on one host, e.g. "node-1/gpu/GPU-3f1…" or "node-1/cpu"
    scope: str  # "cpu" | "ram" | "gpu" | "machine"
    energy_j: float  # joules over the measured window, finite and >= 0
    estimated: bool  # modelled (e.g. from a TDP), not read from a counter or a power sensor
    idle_power_w: float | None = None  # this device's idle power (idle baseline), or None


@dataclass
class EnergyResult:
    backend: str
    backend_version: str | None
    method: str  # "counter" | "polling" | "estimate" | "none"
    estimated: bool
    start_unix_s: float | None
    end_unix_s: float | None
    readings: list[EnergyReading] = field(default_factory=list)
    carbon_intensity_g_per_kwh: float | None = None
    note: str | None = None
    samples: int | None = None  # power samples taken, or None where the backend does not sample
    idle: dict[str, Any] | None = None  # {"duration_s", "cached"} when an idle baseline was applied
    timeseries_file: str | None = None  # set by the runner once the samples are written
    throttling: dict[str, Any] | None = None  # {"observed", "reasons"} from NVML clock-event reasons
    timeseries: list[dict[str, Any]] = field(default_factory=list, repr=False)  # not part of the block

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("readings", "timeseries")}
        out["readings"] = [vars(r).copy() for r in self.readings]
        order = [f.name for f in fields(self) if f.name != "timeseries"]
        return {k: out[k] for k in order}

    def add_note(self, note: str | None) -> None:
        if note:
            self.note = f"{self.note}; {note}" if self.note else note


@dataclass(frozen=True)
class GpuRef:
    """One GPU this rank uses: its NVML index (as in gpu_ids), its UUID when torch knows it
    ("GPU-…", the reliable key across CUDA_VISIBLE_DEVICES and device orderings) and its CUDA index."""

    index: int
    uuid: str | None = None
    cuda_index: int | None = None


@dataclass(frozen=True)
class BackendContext:
    config: EnergyConfig
    host: str
    is_local_main: bool
    gpus: tuple[GpuRef, ...] = ()  # this rank's GPU(s): what per-rank readers (nvml, zeus) read
    host_gpus: tuple[GpuRef, ...] = ()  # every GPU of the experiment on this host (machine-level readers)


class EnergyBackend(ABC):
    NAME: ClassVar[str]
    MACHINE_LEVEL: ClassVar[bool] = False  # reads host-wide counters: local rank 0 only
    _probes: ClassVar[dict[str, str | None]] = {}  # cached availability probes, by backend name

    def __init__(self, ctx: BackendContext) -> None:
        self.ctx = ctx
        self.paused_s = 0.0
        self._paused_at: float | None = None

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Why this backend cannot run on this host, or None. Cached; never raises."""
        if cls.NAME not in EnergyBackend._probes:
            try:
                reason = cls._probe()
            except Exception as e:  # noqa: BLE001 - a probe must never take the run down
                reason = f"{cls.NAME} probe failed: {type(e).__name__}: {e}"
            if reason:
                logger.info("energy backend %s unavailable: %s", cls.NAME, reason)
            EnergyBackend._probes[cls.NAME] = reason
        return EnergyBackend._probes[cls.NAME]

    @classmethod
    def _probe(cls) -> str | None:
        return None

    @classmethod
    def version(cls) -> str | None:
        return None

    @property
    def reads(self) -> bool:
        """Whether this rank reads anything (machine-level readers: local rank 0 only)."""
        return self.ctx.is_local_main or not self.MACHINE_LEVEL

    def expected_device_ids(self) -> list[str] | None:
        """The device ids this rank will report, when known before measuring (for the idle cache)."""
        return None

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> EnergyResult: ...

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = time.time()
            self._pause()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._resume()
            self.paused_s += time.time() - self._paused_at
            self._paused_at = None

    def _pause(self) -> None:  # noqa: B027 - optional hook
        """Stop accounting (read counters, end the active span)."""

    def _resume(self) -> None:  # noqa: B027 - optional hook
        """Restart accounting."""

    def abort(self) -> None:  # noqa: B027 - optional hook
        """Release what ``start()`` took when the run fails before ``stop()``."""

    def _result(self, start: float, end: float, **kw: Any) -> EnergyResult:
        """A result with this backend's name, version and the carbon-intensity override."""
        result = EnergyResult(
            backend=self.NAME, backend_version=self.version(), method=kw.pop("method", "none"),
            estimated=kw.pop("estimated", False), start_unix_s=start, end_unix_s=end, **kw,
        )
        if self.ctx.config.carbon_intensity_g_per_kwh is not None:
            result.carbon_intensity_g_per_kwh = self.ctx.config.carbon_intensity_g_per_kwh
        if not self.reads:
            result.add_note("machine-level reader: local rank 0 of this host reports its energy")
        return result


def reset_probes() -> None:
    """Forget cached availability probes (tests)."""
    EnergyBackend._probes.clear()
