"""CodeCarbon's offline tracker, machine-level: it runs on local rank 0 only.

CodeCarbon reads RAPL counters for the CPU when they exist and otherwise models CPU power from
load and a TDP; RAM power is always modelled from memory size; NVIDIA GPUs are read through NVML
(its GPU figure is the sum over the GPUs it is given). Each active span is one CodeCarbon *task*
(``start_task``/``stop_task``): a pause ends the task, a resume starts the next, and the spans'
energies are summed. On a host with several ranks the tracker never pauses (see base.py).

GPUs are chosen by UUID, never by taking ``gpu_ids`` as NVML indices (wrong under Slurm's device
cgroups, without CUDA_DEVICE_ORDER=PCI_BUS_ID, and across nodes): each UUID is looked up in this
process's NVML and CodeCarbon is given the index NVML has for it here. (CodeCarbon 3.3's own UUID
matching strips the prefix with ``lstrip("MIG-")``, which turns "GPU-…" into "PU-…" and matches
nothing.) A MIG slice (UUID "MIG-…") cannot be read by CodeCarbon, which reads whole GPUs; it and
a GPU NVML cannot find give a null GPU reading with the reason, never 0 J.

``prepare()`` builds the tracker and runs one throw-away task: the first task probes the hardware
(~1.5 s), so that ``start()`` after the barrier only opens the span.
"""

from __future__ import annotations

import logging
import math
import os
from importlib.util import find_spec
from typing import Any

from joules_worker.energy import _nvml
from joules_worker.energy.base import EnergyBackend, EnergyReading, EnergyResult, GpuRef, unread
from joules_worker.environment import package_version

logger = logging.getLogger(__name__)

J_PER_KWH = 3.6e6
COUNTER_CPU_MODES = {"intel_rapl", "intel_power_gadget", "apple_powermetrics", "windows_emi"}
RAPL_DIR = "/sys/class/powercap/intel-rapl"
SUMMED = ("cpu_energy", "ram_energy", "gpu_energy", "energy_consumed", "emissions")


class CodeCarbonBackend(EnergyBackend):
    NAME = "codecarbon"
    MACHINE_LEVEL = True
    READS = ("gpu", "cpu", "ram")  # the GPUs it is given, CPU and RAM (modelled where no counter exists)
    HOST_SCOPED = True

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

    def _prepare(self) -> None:
        self._tracker: Any = None
        self._sums = dict.fromkeys(SUMMED, 0.0)
        self._last: Any = None
        self._spans = 0
        self._gpu_ids: list[int] = []
        self._gpu_missing: list[str] = []
        if self.reads:
            from codecarbon import OfflineEmissionsTracker

            self._gpu_ids, self._gpu_missing = codecarbon_gpu_ids(self._gpus, self.ctx.host)

            logging.getLogger("codecarbon").setLevel(logging.ERROR)
            self._tracker = OfflineEmissionsTracker(
                country_iso_code=self.ctx.config.country_iso_code,
                measure_power_secs=self.ctx.config.measure_power_secs,
                output_methods=[],  # nothing written anywhere (save_to_file=False is deprecated)
                log_level="error",
                tracking_mode="machine",
                gpu_ids=self._gpu_ids or None,
                project_name="joules",
            )
            self._tracker.start_task("probe")  # the first task probes the hardware (~1.5 s): before the barrier
            self._tracker.stop_task()

    def _start(self) -> None:
        if self._tracker is not None:
            self._tracker.start_task("span-0")

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

    def _stop(self) -> EnergyResult:
        tracker, self._tracker = self._tracker, None
        if tracker is not None:
            self._end_span(tracker)
        result = self._result(self._unix_start, self._mark_end())
        if tracker is None:
            return result
        tracker.stop()
        if self._last is None:
            reason = "CodeCarbon produced no data (see the worker log)"
            result.readings = [unread(self._device_id(s), s, reason, self.active_s) for s in self._scopes()]
            result.add_note(reason)
            return result
        self._fill(result, tracker, self._last)
        return result

    def _scopes(self) -> list[str]:
        return ["cpu", "ram"] + (["gpu"] if self._gpus else [])

    def _fill(self, result: EnergyResult, tracker: Any, last: Any) -> None:
        cpu_mode, cpu_note = _cpu_source(tracker, last)
        cpu_estimated = cpu_mode not in COUNTER_CPU_MODES
        active = self.active_s
        for scope, estimated in (("cpu", cpu_estimated), ("ram", True), ("gpu", False)):
            joules = self._sums[f"{scope}_energy"] * J_PER_KWH
            device_id = self._device_id(scope)
            if scope == "gpu" and not self._gpus:
                continue
            if scope == "gpu" and self._gpu_missing:
                result.readings.append(unread(device_id, scope, "; ".join(self._gpu_missing), active))
            elif not math.isfinite(joules) or joules < 0:
                logger.warning("CodeCarbon gave a non-finite %s energy (%r J)", scope, joules)
                result.readings.append(unread(device_id, scope, f"CodeCarbon gave {joules!r} J", active))
            elif scope == "gpu" and joules == 0:
                reason = f"CodeCarbon read no energy for GPU(s) {self._gpu_names()} (NVML indices {self._gpu_ids})"
                result.readings.append(unread(device_id, scope, reason, active))
            else:
                result.readings.append(EnergyReading(device_id, scope, joules, estimated, active_s=active))
        result.estimated = any(r.estimated for r in result.readings)
        result.method = "estimate" if result.estimated else "counter"
        energy_kwh = self._sums["energy_consumed"]
        intensity = self._sums["emissions"] * 1000 / energy_kwh if energy_kwh > 0 else None
        if self.ctx.config.carbon_intensity_g_per_kwh is None and intensity is not None and math.isfinite(intensity):
            result.carbon_intensity_g_per_kwh = intensity
        notes = [cpu_note] if cpu_estimated else []
        notes.append(f"RAM power modelled by CodeCarbon from installed memory ({_w(last.ram_power)})")
        if len(self._gpus) > 1 and any(r.scope == "gpu" for r in result.readings):
            notes.append(
                f"GPU energy is CodeCarbon's sum over GPUs {self._gpu_names()} (NVML indices here {self._gpu_ids})"
            )
        if self._spans > 1:
            notes.append(f"{self._spans} CodeCarbon tasks (traffic waits excluded)")
        result.add_note("; ".join(notes))

    def _gpu_names(self) -> list[str]:
        return [g.uuid or f"index-{g.index}" for g in self._gpus]

    def _device_id(self, scope: str) -> str:
        if scope != "gpu":
            return f"{self.ctx.host}/{scope}"
        names = self._gpu_names()
        return f"{self.ctx.host}/gpu/{names[0]}" if len(names) == 1 else f"{self.ctx.host}/gpus/{','.join(names)}"


def codecarbon_gpu_ids(gpus: tuple[GpuRef, ...], host: str) -> tuple[list[int], list[str]]:
    """The NVML indices, in this process, of ``gpus`` looked up by UUID (by index only where no UUID
    is known), and a reason for each GPU CodeCarbon cannot read (not found, a MIG slice)."""
    if not gpus:
        return [], []
    reason = _nvml.probe()
    if reason is not None:
        return [], [f"GPU(s) {[g.uuid or g.index for g in gpus]}: {reason}"]
    import pynvml

    ids: list[int] = []
    missing: list[str] = []
    pynvml.nvmlInit()
    try:
        for gpu in gpus:
            devices, unknown = _nvml.resolve(pynvml, (gpu,), host)
            missing.extend(reason for _, reason in unknown)
            if not devices:
                continue
            device = devices[0]
            if device.uuid.startswith("MIG-"):
                missing.append(f"{device.uuid} is a MIG slice: CodeCarbon reads whole GPUs only: not measured")
                continue
            index = _nvml.nvml_index(pynvml, device)
            ids.append(index if index is not None else gpu.index)
    finally:
        pynvml.nvmlShutdown()
    return ids, missing


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
