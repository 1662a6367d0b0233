"""CPU package and DRAM energy from the Linux powercap sysfs (Intel RAPL; AMD exposes the same tree).

Machine-level: local rank 0 reads, the other ranks of the host report nothing. Zones read:
``intel-rapl:<n>`` packages (scope "cpu", device ``<host>/cpu/package-<n>``) and their ``dram``
subzone where present (scope "ram"). Core/uncore subzones are parts of the package and ``psys``
covers the package too, so neither is added. Each ``energy_uj`` counter wraps at its
``max_energy_range_uj``; a thread re-reads the counters every ``measure_power_secs`` (at most
10 s) so that no wrap is missed. The root is ``/sys/class/powercap``, or ``$JOULES_POWERCAP_ROOT``
(tests point it at a fake tree).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joules_worker.energy._integrate import CounterTotal
from joules_worker.energy.base import EnergyBackend, EnergyReading, EnergyResult

logger = logging.getLogger(__name__)

ROOT_ENV = "JOULES_POWERCAP_ROOT"
DEFAULT_ROOT = "/sys/class/powercap"
_PACKAGE = re.compile(r"^intel-rapl:(\d+)$")
_SUBZONE = re.compile(r"^intel-rapl:(\d+):(\d+)$")


def powercap_root() -> Path:
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


@dataclass
class Zone:
    device_id: str
    scope: str
    path: Path  # the zone folder (energy_uj, max_energy_range_uj)

    def read_uj(self) -> int:
        return int((self.path / "energy_uj").read_text().strip())

    def wrap_uj(self) -> int:
        return int((self.path / "max_energy_range_uj").read_text().strip()) + 1


def find_zones(root: Path, host: str) -> list[Zone]:
    zones: list[Zone] = []
    if not root.is_dir():
        return zones
    for entry in sorted(root.iterdir()):
        name = _zone_name(entry)
        if (m := _PACKAGE.match(entry.name)) and name != "psys":
            zones.append(Zone(f"{host}/cpu/package-{m.group(1)}", "cpu", entry))
        elif (m := _SUBZONE.match(entry.name)) and name == "dram":
            zones.append(Zone(f"{host}/ram/package-{m.group(1)}", "ram", entry))
    return zones


def _zone_name(path: Path) -> str | None:
    try:
        return (path / "name").read_text().strip()
    except OSError:
        return None


class RaplBackend(EnergyBackend):
    NAME = "rapl"
    MACHINE_LEVEL = True
    READS = ("cpu", "ram")
    MID_SPAN = True
    HOST_SCOPED = True

    @classmethod
    def _probe(cls) -> str | None:
        root = powercap_root()
        zones = find_zones(root, "probe")
        if not zones:
            return f"no RAPL zones under {root}"
        try:
            for z in zones:
                z.read_uj()
                z.wrap_uj()
        except (OSError, ValueError) as e:
            return f"RAPL counters under {root} are not readable ({e}); reading energy_uj usually needs root"
        return None

    @classmethod
    def version(cls) -> str | None:
        return None

    @classmethod
    def doctor(cls) -> dict[str, Any]:
        out = super().doctor()
        root = powercap_root()
        zones = len(find_zones(root, "probe"))
        if out["ok"]:
            return {**out, "zones": zones, "detail": f"{zones} powercap zone(s) readable: CPU energy from counters"}
        if zones:
            hint = "make energy_uj readable (e.g. a udev rule) to measure CPU energy"
            return {**out, "zones": zones, "detail": "zones exist but are not readable", "hint": hint}
        return {**out, "zones": 0, "detail": f"no {root} zones"}

    def expected_device_ids(self) -> list[str] | None:
        return [z.device_id for z in find_zones(powercap_root(), self.ctx.host)] if self.reads else []

    def _prepare(self) -> None:
        self.zones = find_zones(powercap_root(), self.ctx.host) if self.reads else []
        self._wraps = {z.device_id: z.wrap_uj() for z in self.zones}

    def _start(self) -> None:
        self.counters = {
            z.device_id: CounterTotal(z.read_uj(), self._wraps[z.device_id], z.device_id) for z in self.zones
        }
        self.reads_taken = 1 if self.zones else 0
        self._active = True
        self._lock = threading.Lock()
        self._halt_event = threading.Event()
        self._thread = None
        if self.zones:
            interval = min(self.ctx.config.measure_power_secs, 10.0)
            self._thread = threading.Thread(target=self._loop, args=(interval,), name="joules-rapl", daemon=True)
            self._thread.start()

    def _read(self, count: bool = True) -> None:
        with self._lock:
            for z in self.zones:
                self.counters[z.device_id].update(z.read_uj(), self._active)
            if count:  # the energy block's `samples`: this backend's own reads, not the timeline's
                self.reads_taken += 1

    def _loop(self, interval: float) -> None:
        while not self._halt_event.wait(interval):
            try:
                self._read()
            except (OSError, ValueError) as e:
                logger.warning("RAPL read failed: %s", e)

    def totals_j(self) -> dict[str, float] | None:
        if not self.zones:
            return None
        self._read(count=False)
        with self._lock:
            return {device_id: counter.total / 1e6 for device_id, counter in self.counters.items()}

    def _pause(self) -> None:
        self._read()
        self._active = False

    def _resume(self) -> None:
        self._read()
        self._active = True

    def _halt(self) -> None:
        self._halt_event.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None

    def abort(self) -> None:
        if getattr(self, "_halt_event", None) is not None:
            self._halt()

    def _stop(self) -> EnergyResult:
        self._halt()
        if self.zones:
            self._read()
        result = self._result(self._unix_start, self._mark_end(), method="counter" if self.zones else "none")
        result.samples = self.reads_taken if self.zones else None
        for z in self.zones:
            counter = self.counters[z.device_id]
            result.readings.append(
                EnergyReading(z.device_id, z.scope, counter.total / 1e6, estimated=False, active_s=self.active_s)
            )
            if counter.wraps:
                result.add_note(f"{z.path.name}: energy counter wrapped {counter.wraps}x")
        return result
