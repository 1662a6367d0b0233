"""CodeCarbon's offline tracker, machine-level: it runs on local rank 0 only.

CodeCarbon reads RAPL counters for the CPU when they exist and otherwise models CPU power from
load and a TDP; RAM power is always modelled from memory size; NVIDIA GPUs are read through NVML
(its GPU figure is the sum over ``gpu_ids``). Each active span is one CodeCarbon *task*
(``start_task``/``stop_task``): a pause ends the task, a resume starts the next, and the spans'
energies are summed. The first ``start_task`` probes the hardware (~1.5 s), before the span opens.
"""

from __future__ import annotations

import logging
import math
import os
import time
from importlib.util import find_spec
from typing import Any

from joules_worker.energy.base import EnergyBackend, EnergyReading, EnergyResult
from joules_worker.environment import package_version

logger = logging.getLogger(__name__)

J_PER_KWH = 3.6e6
COUNTER_CPU_MODES = {"intel_rapl", "intel_power_gadget", "apple_powermetrics", "windows_emi"}
RAPL_DIR = "/sys/class/powercap/intel-rapl"
SUMMED = ("cpu_energy", "ram_energy", "gpu_energy", "energy_consumed", "emissions")


class CodeCarbonBackend(EnergyBackend):
    NAME = "codecarbon"
    MACHINE_LEVEL = True

    @classmethod
    def _probe(cls) -> str | None:
        return None if find_spec("codecarbon") is not None else "codecarbon is not installed"

    @classmethod
    def version(cls) -> str | None:
        return package_version("codecarbon")

    def expected_device_ids(self) -> list[str] | None:
        if not self.reads:
            return []
        return [self._device_id("cpu"), self._device_id("ram")] + ([self._device_id("gpu")] if self._gpus else [])

    @property
    def _gpus(self) -> tuple:
        return self.ctx.host_gpus or self.ctx.gpus

    def start(self) -> None:
        self._tracker: Any = None
        self._sums = dict.fromkeys(SUMMED, 0.0)
        self._last: Any = None
        self._spans = 0
        if self.reads:
            from codecarbon import OfflineEmissionsTracker

            logging.getLogger("codecarbon").setLevel(logging.ERROR)
            self._tracker = OfflineEmissionsTracker(
                country_iso_code=self.ctx.config.country_iso_code,
                measure_power_secs=self.ctx.config.measure_power_secs,
                output_methods=[],  # nothing written anywhere (save_to_file=False is deprecated)
                log_level="error",
                tracking_mode="machine",
                gpu_ids=[g.index for g in self._gpus] or None,
                project_name="joules",
            )
            self._tracker.start_task("span-0")  # hardware probing happens here, before the span opens
        self._start = time.time()

    def _end_span(self, tracker: Any = None) -> None:
        data = (tracker or self._tracker).stop_task()
        if data is None:
            return
        self._last = data
        self._spans += 1
        for key in SUMMED:
            self._sums[key] += float(getattr(data, key, 0.0) or 0.0)

    def _pause(self) -> None:
        if self._tracker is not None:
            self._end_span()

    def _resume(self) -> None:
        if self._tracker is not None:
            self._tracker.start_task(f"span-{self._spans}")

    def abort(self) -> None:
        if getattr(self, "_tracker", None) is not None:
            self._tracker.stop()
            self._tracker = None

    def stop(self) -> EnergyResult:
        self.resume()
        tracker, self._tracker = self._tracker, None
        if tracker is not None:
            self._end_span(tracker)
            tracker.stop()
        result = self._result(self._start, time.time())
        if tracker is None:
            return result
        if self._last is None:
            result.add_note("CodeCarbon produced no data (see the worker log)")
            return result
        self._fill(result, tracker, self._last)
        return result

    def _fill(self, result: EnergyResult, tracker: Any, last: Any) -> None:
        cpu_mode, cpu_note = _cpu_source(tracker, last)
        cpu_estimated = cpu_mode not in COUNTER_CPU_MODES
        for scope, estimated in (("cpu", cpu_estimated), ("ram", True), ("gpu", False)):
            joules = self._sums[f"{scope}_energy"] * J_PER_KWH
            if not math.isfinite(joules) or joules < 0:
                logger.warning("CodeCarbon gave a non-finite %s energy (%r J): dropped", scope, joules)
                continue
            if scope == "gpu" and joules == 0:
                continue
            result.readings.append(EnergyReading(self._device_id(scope), scope, joules, estimated))
        result.estimated = any(r.estimated for r in result.readings)
        result.method = "estimate" if result.estimated else "counter"
        energy_kwh = self._sums["energy_consumed"]
        intensity = self._sums["emissions"] * 1000 / energy_kwh if energy_kwh > 0 else None
        if self.ctx.config.carbon_intensity_g_per_kwh is None and intensity is not None and math.isfinite(intensity):
            result.carbon_intensity_g_per_kwh = intensity
        notes = [cpu_note] if cpu_estimated else []
        notes.append(f"RAM power modelled by CodeCarbon from installed memory ({_w(last.ram_power)})")
        if len(self._gpus) > 1 and any(r.scope == "gpu" for r in result.readings):
            notes.append(f"GPU energy is CodeCarbon's sum over GPUs {[g.index for g in self._gpus]}")
        if self._spans > 1:
            notes.append(f"{self._spans} CodeCarbon tasks (traffic waits excluded)")
        result.add_note("; ".join(notes))

    def _device_id(self, scope: str) -> str:
        if scope != "gpu":
            return f"{self.ctx.host}/{scope}"
        gpus = self._gpus
        own = {g.index: g.uuid for g in self.ctx.gpus}
        if len(gpus) == 1 and own.get(gpus[0].index):
            return f"{self.ctx.host}/gpu/{own[gpus[0].index]}"
        return f"{self.ctx.host}/gpus/{','.join(str(g.index) for g in gpus)}"


def _cpu_source(tracker: Any, data: Any) -> tuple[str, str]:
    """What CodeCarbon really used for CPU power (its CPU object's mode and TDP), and a note."""
    cpus = [h for h in getattr(tracker, "_hardware", []) if type(h).__name__ == "CPU"]
    mode = getattr(cpus[0], "_mode", "unknown") if cpus else "unknown"
    tdp = getattr(cpus[0], "_tdp", None) if cpus else None
    rapl = "a RAPL counter exists" if os.path.isdir(RAPL_DIR) else "no RAPL counter on this host"
    note = (
        f"CPU power modelled by CodeCarbon ({mode} mode, TDP {tdp} W for CPU {getattr(data, 'cpu_model', '?')!r}, "
        f"mean {_w(data.cpu_power)}): {rapl}"
    )
    return mode, note


def _w(watts: Any) -> str:
    try:
        return f"{float(watts):.1f} W"
    except (TypeError, ValueError):
        return "? W"
