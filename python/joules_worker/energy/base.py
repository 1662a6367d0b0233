"""Energy backends: the ABC, what they report, and the contract's ``energy`` block (schema v3).

A backend measures between ``start()`` and ``stop()`` on one rank. ``prepare()`` does the slow part
first (probing hardware, NVML handles, CodeCarbon's ~1.5 s first task), so that the window can open
the energy span and the clock together after the barrier: ``start()`` is quick. ``pause()`` /
``resume()`` take spans out of the accounting (traffic waits outside the energy window):
``paused_s`` is their total. Every duration is taken with the monotonic clock (``perf_counter``);
``time.time()`` only stamps the span's start and end.

Machine-level backends (CodeCarbon, RAPL) read on local rank 0 only; the other ranks of the host
report no readings, so every device is reported by exactly one rank. Traffic waits are seeded per
rank, so while one rank waits its neighbours compute: a machine-level reader on a host with several
ranks therefore NEVER pauses (``pauses`` is False); its readings cover the whole span, waits
included, and say so in ``active_s`` and the note. With one rank on the host it pauses as before.

What a backend reports (``EnergyReading``, ``EnergyResult``) is in result.py. Each backend class
declares its traits (``READS``, ``MID_SPAN``, ``HOST_SCOPED``, ``NEEDS_GPUS``), the same as
@joules/config's energy-backend table (contract/engines.json, held by tests/test_registry_contract.py),
and answers ``joules doctor`` (``doctor()``, run by joules_worker.doctor).
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from joules_worker.config import EnergyConfig
from joules_worker.energy.result import EnergyReading, EnergyResult, unread

logger = logging.getLogger(__name__)


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
    host_ranks: int = 1  # ranks of this experiment on this host (LOCAL_WORLD_SIZE)


class EnergyBackend(ABC):
    """Subclasses implement ``_prepare`` (slow, before the barrier), ``_start`` (quick: opens the
    span), ``_stop`` (closes it, returns the result) and optionally ``_pause``/``_resume``/``abort``."""

    NAME: ClassVar[str]
    MACHINE_LEVEL: ClassVar[bool] = False  # reads host-wide counters: local rank 0 only
    READS: ClassVar[tuple[str, ...]] = ()  # what it reads: "gpu" (the rank's GPUs), "cpu", "ram" (the host's)
    MID_SPAN: ClassVar[bool] = False  # totals_j() reads its counters mid-span (a serving load's steady window)
    HOST_SCOPED: ClassVar[bool] = False  # reads the whole host: jobs side by side would count each other
    NEEDS_GPUS: ClassVar[bool] = False  # measures GPUs: no use without gpu_ids
    GPU_TIMESERIES: ClassVar[bool] = False  # records the GPUs' power/temperature timeseries itself (no GpuMonitor)
    _probes: ClassVar[dict[str, str | None]] = {}  # cached availability probes, by backend name

    def __init__(self, ctx: BackendContext) -> None:
        self.ctx = ctx
        self.paused_s = 0.0
        self._paused_at: float | None = None
        self._prepared = False
        self._t_start: float | None = None  # perf_counter at start()
        self._t_end: float | None = None  # perf_counter at the end of stop()'s last read
        self._unix_start: float | None = None

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
    def doctor(cls) -> dict[str, Any]:
        """What ``joules doctor`` says of this backend here: ``ok``, a ``detail`` line and a ``hint``
        (or None); a backend may add what it found (driver, zones, ...)."""
        reason = cls.unavailable_reason()
        return {
            "ok": reason is None,
            "detail": "available" if reason is None else f"unavailable ({reason})",
            "hint": None,
        }

    @classmethod
    def version(cls) -> str | None:
        return None

    @property
    def reads(self) -> bool:
        """Whether this rank reads anything (machine-level readers: local rank 0 only)."""
        return self.ctx.is_local_main or not self.MACHINE_LEVEL

    @property
    def pauses(self) -> bool:
        """Whether traffic waits pause this reader. A machine-level reader shared by several ranks
        of this host never pauses: the ranks' waits fall at different times (seeded per rank)."""
        return not (self.MACHINE_LEVEL and self.ctx.host_ranks > 1)

    def expected_device_ids(self) -> list[str] | None:
        """The device ids this rank will report, when known before measuring (for the idle cache)."""
        return None

    def prepare(self) -> None:
        """The slow part (hardware probing, handles), done before the barrier. Idempotent."""
        if not self._prepared:
            self._prepare()
            self._prepared = True

    def start(self) -> None:
        """Open the energy span now (``prepare()`` first when not done yet)."""
        self.prepare()
        self._unix_start = time.time()
        self._t_start = time.perf_counter()
        self._start()

    def stop(self) -> EnergyResult:
        self.resume()
        result = self._stop()
        if self._t_end is None:
            self._mark_end()
        return result

    def _mark_end(self) -> float:
        """Call right after the last read of stop(): the span's monotonic end. Returns unix time."""
        self._t_end = time.perf_counter()
        return time.time()

    @property
    def span_s(self) -> float:
        """Seconds from start() to the end of stop() (monotonic), waits included."""
        end = self._t_end if self._t_end is not None else time.perf_counter()
        return max(0.0, end - (self._t_start if self._t_start is not None else end))

    @property
    def active_s(self) -> float:
        """Seconds of active span: ``span_s`` minus the paused waits."""
        return max(0.0, self.span_s - self.paused_s)

    def _prepare(self) -> None:  # noqa: B027 - optional hook
        """Slow setup before the barrier."""

    @abstractmethod
    def _start(self) -> None: ...

    @abstractmethod
    def _stop(self) -> EnergyResult: ...

    def pause(self) -> None:
        if self._paused_at is None and self.pauses:
            self._paused_at = time.perf_counter()
            self._pause()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._resume()
            self.paused_s += time.perf_counter() - self._paused_at
            self._paused_at = None

    def _pause(self) -> None:  # noqa: B027 - optional hook
        """Stop accounting (read counters, end the active span)."""

    def _resume(self) -> None:  # noqa: B027 - optional hook
        """Restart accounting."""

    def abort(self) -> None:  # noqa: B027 - optional hook
        """Release what ``prepare()``/``start()`` took when the run fails before ``stop()``."""

    def totals_j(self) -> dict[str, float] | None:
        """Each reading's joules so far in this span, its counters read now (between ``start()`` and
        ``stop()``, from any thread), or None where a backend cannot read them mid-span (estimates,
        power polling, Zeus). Sampled, they give the energy of a sub-window known only afterwards
        (a serving load's steady window)."""
        return None

    def _result(self, start: float | None, end: float, **kw: Any) -> EnergyResult:
        """A result with this backend's name, version and the carbon-intensity override."""
        result = EnergyResult(
            backend=self.NAME,
            backend_version=self.version(),
            method=kw.pop("method", "none"),
            estimated=kw.pop("estimated", False),
            start_unix_s=start,
            end_unix_s=end,
            **kw,
        )
        if self.ctx.config.carbon_intensity_g_per_kwh is not None:
            result.carbon_intensity_g_per_kwh = self.ctx.config.carbon_intensity_g_per_kwh
        if not self.reads:
            result.add_note("machine-level reader: local rank 0 of this host reports its energy")
        elif not self.pauses:
            result.add_note(
                f"machine-level reader shared by {self.ctx.host_ranks} ranks of this host: it never pauses for "
                "traffic waits (each rank waits at its own times), so its readings cover the whole span, waits included"
            )
        return result


def reset_probes() -> None:
    """Forget cached availability probes (tests)."""
    EnergyBackend._probes.clear()


__all__ = ["BackendContext", "EnergyBackend", "EnergyReading", "EnergyResult", "GpuRef", "reset_probes", "unread"]
