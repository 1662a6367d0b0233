"""Zeus (ml.energy) when it is installed: its ZeusMonitor measures this rank's GPU(s).

ZeusMonitor reads NVML's energy counter on Volta and newer GPUs and polls power on older ones;
``approx_instant_energy`` replaces a zero reading of a window shorter than the counter's update
period by power × time. GPUs are given as CUDA indices (Zeus honours CUDA_VISIBLE_DEVICES).
CPU packages and DRAM (RAPL through Zeus) are machine-level: only local rank 0 asks for them
(``cpu_indices=None`` = all packages, or none when RAPL is not readable). Each active span is one
Zeus window; a pause ends it, a resume begins the next, and the windows are summed.
"""

from __future__ import annotations

import logging
import time
from importlib.util import find_spec
from typing import Any

from joules_worker.energy.base import EnergyBackend, EnergyReading, EnergyResult
from joules_worker.environment import package_version

logger = logging.getLogger(__name__)


class ZeusBackend(EnergyBackend):
    NAME = "zeus"

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

    def start(self) -> None:
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
        self._monitor.begin_window("joules-0")
        self._start = time.time()

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

    def stop(self) -> EnergyResult:
        self.resume()
        self._end_window()
        self._monitor = None
        result = self._result(self._start, time.time(), method="counter")
        by_cuda = {(g.cuda_index if g.cuda_index is not None else g.index): g for g in self.ctx.gpus}
        for index, joules in sorted(self._gpu.items()):
            gpu = by_cuda.get(index)
            name = gpu.uuid if gpu is not None and gpu.uuid else f"cuda{index}"
            result.readings.append(EnergyReading(f"{self.ctx.host}/gpu/{name}", "gpu", joules, estimated=False))
        for scope, part in (("cpu", self._cpu), ("ram", self._dram)):
            for index, joules in sorted(part.items()):
                result.readings.append(EnergyReading(f"{self.ctx.host}/{scope}/package-{index}", scope, joules, estimated=False))
        result.add_note("GPU energy from ZeusMonitor (NVML counter, or power polling before Volta)")
        return result
