"""Zeus (ml.energy) when it is installed: its ZeusMonitor measures this rank's GPU(s).

ZeusMonitor reads NVML's energy counter on Volta and newer GPUs and polls power on older ones;
``approx_instant_energy`` replaces a zero reading of a window shorter than the counter's update
period by power × time. GPUs are given as CUDA indices (Zeus honours CUDA_VISIBLE_DEVICES).
CPU packages and DRAM (RAPL through Zeus) are machine-level: only local rank 0 asks for them
(``cpu_indices=None`` = all packages, or none when RAPL is not readable). Each active span is one
Zeus window; a pause ends it, a resume begins the next, and the windows are summed.

``method`` says what Zeus did for the GPUs: "counter" when every GPU supports NVML's energy counter
(Zeus reads it), "polling" when one does not (Zeus polls power), asked of ZeusMonitor's GPU objects
(``supportsGetTotalEnergyConsumption``); where Zeus cannot say, "polling" with a note (the claim
that needs no proof). ``prepare()`` builds the ZeusMonitor (it probes NVML and RAPL) before the barrier.
"""

from __future__ import annotations

import logging
from importlib.util import find_spec
from typing import Any

from joules_worker.energy.base import EnergyBackend, EnergyReading, EnergyResult
from joules_worker.environment import package_version

logger = logging.getLogger(__name__)


class ZeusBackend(EnergyBackend):
    NAME = "zeus"
    READS = ("gpu", "cpu", "ram")  # the host's CPU packages and DRAM on local rank 0
    HOST_SCOPED = True
    NEEDS_GPUS = True

    @classmethod
    def _probe(cls) -> str | None:
        try:
            if find_spec("zeus") is None or find_spec("zeus.monitor") is None:
                return "zeus is not installed (pip install zeus)"
        except (ImportError, ValueError) as e:
            return f"zeus cannot be imported: {e}"
        return None

    @classmethod
    def version(cls) -> str | None:
        return package_version("zeus") or package_version("zeus-ml")

    def _cuda_indices(self) -> list[int]:
        return [g.cuda_index if g.cuda_index is not None else g.index for g in self.ctx.gpus]

    def expected_device_ids(self) -> list[str] | None:
        return None  # CPU zones are only known once ZeusMonitor has looked

    def _prepare(self) -> None:
        from zeus.monitor import ZeusMonitor

        self._monitor: Any = ZeusMonitor(
            gpu_indices=self._cuda_indices(),
            cpu_indices=None if self.ctx.is_local_main else [],
            approx_instant_energy=True,
        )
        self._windows = 0
        self._gpu: dict[int, float] = {}
        self._cpu: dict[int, float] = {}
        self._dram: dict[int, float] = {}
        self._method, self._method_note = zeus_gpu_method(self._monitor, self._cuda_indices())

    def _start(self) -> None:
        self._monitor.begin_window("joules-0")

    def _end_window(self) -> None:
        m = self._monitor.end_window(f"joules-{self._windows}")
        self._windows += 1
        for target, part in ((self._gpu, m.gpu_energy), (self._cpu, m.cpu_energy), (self._dram, m.dram_energy)):
            for index, joules in (part or {}).items():
                target[index] = target.get(index, 0.0) + float(joules)

    def _pause(self) -> None:
        self._end_window()

    def _resume(self) -> None:
        self._monitor.begin_window(f"joules-{self._windows}")

    def abort(self) -> None:
        monitor = getattr(self, "_monitor", None)
        if monitor is not None:
            try:
                monitor.end_window(f"joules-{self._windows}", cancel=True)
            except Exception as e:  # noqa: BLE001 - cleanup after a failure must not mask it
                logger.debug("zeus cleanup: %s", e)
            self._monitor = None

    def _stop(self) -> EnergyResult:
        self._end_window()
        end = self._mark_end()
        self._monitor = None
        active = self.active_s
        result = self._result(
            self._unix_start, end, method=self._method if self._gpu else ("counter" if self._cpu else "none")
        )
        by_cuda = {(g.cuda_index if g.cuda_index is not None else g.index): g for g in self.ctx.gpus}
        for index, joules in sorted(self._gpu.items()):
            gpu = by_cuda.get(index)
            name = gpu.uuid if gpu is not None and gpu.uuid else f"cuda{index}"
            result.readings.append(
                EnergyReading(f"{self.ctx.host}/gpu/{name}", "gpu", joules, estimated=False, active_s=active)
            )
        for scope, part in (("cpu", self._cpu), ("ram", self._dram)):
            for index, joules in sorted(part.items()):
                result.readings.append(
                    EnergyReading(
                        f"{self.ctx.host}/{scope}/package-{index}", scope, joules, estimated=False, active_s=active
                    )
                )
        result.add_note(self._method_note)
        return result


def zeus_gpu_method(monitor: Any, indices: list[int]) -> tuple[str, str]:
    """("counter" | "polling", note): whether ZeusMonitor reads NVML's energy counter for every GPU."""
    gpus = getattr(monitor, "gpus", None)
    supports = getattr(gpus, "supportsGetTotalEnergyConsumption", None)
    if supports is None:
        return (
            "polling",
            "GPU energy from ZeusMonitor; Zeus does not say whether it read the energy counter or polled power",
        )
    try:
        counter = {i: bool(supports(i)) for i in indices}
    except Exception as e:  # noqa: BLE001 - a question to Zeus must not take the run down
        return "polling", f"GPU energy from ZeusMonitor; asking Zeus for the energy counter failed ({e})"
    polled = [i for i, ok in counter.items() if not ok]
    if polled:
        return "polling", f"GPU energy from ZeusMonitor: power polling for CUDA GPU(s) {polled} (no energy counter)"
    return "counter", "GPU energy from ZeusMonitor: NVML energy counter"
