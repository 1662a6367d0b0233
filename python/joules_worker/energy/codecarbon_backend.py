"""CodeCarbon's offline tracker, machine-level: it runs on local rank 0 only.

CodeCarbon reads RAPL counters for the CPU when they exist and otherwise models CPU power from
load and a TDP; RAM power is always modelled from memory size; NVIDIA GPUs are read through NVML.
"""

from __future__ import annotations

import logging
import math
import os
import time
from importlib.util import find_spec
from typing import Any

from joules_worker.energy.base import EnergyBackend, EnergyReading, EnergyResult

logger = logging.getLogger(__name__)

J_PER_KWH = 3.6e6
COUNTER_CPU_MODES = {"intel_rapl", "intel_power_gadget", "apple_powermetrics", "windows_emi"}
RAPL_DIR = "/sys/class/powercap/intel-rapl"


class CodeCarbonBackend(EnergyBackend):
    NAME = "codecarbon"
    _available: bool | None = None

    @classmethod
    def available(cls) -> bool:
        if cls._available is None:
            try:
                cls._available = find_spec("codecarbon") is not None
            except (ImportError, ValueError) as e:
                cls._available = False
                logger.warning("codecarbon cannot be probed: %s", e)
            if not cls._available:
                logger.warning("codecarbon is not installed: energy will not be measured")
        return cls._available

    def start(self) -> None:
        self._tracker: Any = None
        if self.is_local_main:
            from codecarbon import OfflineEmissionsTracker

            logging.getLogger("codecarbon").setLevel(logging.ERROR)
            self._tracker = OfflineEmissionsTracker(
                country_iso_code=self.config.country_iso_code,
                measure_power_secs=self.config.measure_power_secs,
                output_methods=[],  # nothing written anywhere (save_to_file=False is deprecated)
                log_level="error",
                tracking_mode="machine",
                gpu_ids=self.gpu_ids or None,
                project_name="joules",
            )
            self._tracker.start()  # hardware probing happens here, before its window opens
        self._start = time.time()

    def abort(self) -> None:
        if getattr(self, "_tracker", None) is not None:
            self._tracker.stop()
            self._tracker = None

    def stop(self) -> EnergyResult:
        from codecarbon import __version__ as version

        tracker, self._tracker = self._tracker, None
        if tracker is not None:
            tracker.stop()
        end = time.time()
        result = EnergyResult(
            backend=self.NAME, backend_version=version, method="none", estimated=False,
            start_unix_s=self._start, end_unix_s=end,
        )
        if tracker is None:
            result.note = "machine-level reader: local rank 0 of this host reports its energy"
            return result
        data = getattr(tracker, "final_emissions_data", None)
        if data is None:
            result.note = "CodeCarbon produced no data (see the worker log)"
            return result
        cpu_mode, cpu_note = _cpu_source(tracker, data)
        cpu_estimated = cpu_mode not in COUNTER_CPU_MODES
        parts = [
            ("cpu", data.cpu_energy, cpu_estimated),
            ("ram", data.ram_energy, True),
            ("gpu", data.gpu_energy, False),
        ]
        for scope, kwh, estimated in parts:
            joules = float(kwh or 0.0) * J_PER_KWH
            if not math.isfinite(joules) or joules < 0:
                logger.warning("CodeCarbon gave a non-finite %s energy (%r kWh): dropped", scope, kwh)
                continue
            if scope == "gpu" and joules == 0:
                continue
            result.readings.append(EnergyReading(self._device_id(scope), scope, joules, estimated))
        result.estimated = any(r.estimated for r in result.readings)
        result.method = "estimate" if result.estimated else "counter"
        energy_kwh = float(data.energy_consumed or 0.0)
        intensity = float(data.emissions or 0.0) * 1000 / energy_kwh if energy_kwh > 0 else None
        result.carbon_intensity_g_per_kwh = intensity if intensity is not None and math.isfinite(intensity) else None
        notes = [cpu_note] if cpu_estimated else []
        notes.append(f"RAM power modelled by CodeCarbon from installed memory ({_w(data.ram_power)})")
        if len(self.gpu_ids) > 1 and any(r.scope == "gpu" for r in result.readings):
            notes.append(f"GPU energy is CodeCarbon's sum over GPUs {self.gpu_ids}")
        result.note = "; ".join(notes)
        return result

    def _device_id(self, scope: str) -> str:
        if scope != "gpu":
            return f"{self.host}/{scope}"
        if len(self.gpu_ids) == 1:
            return f"{self.host}/gpu{self.gpu_ids[0]}"
        return f"{self.host}/gpu{','.join(map(str, self.gpu_ids)) or 's'}"


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
