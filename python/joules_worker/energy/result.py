"""What a backend reports: one reading per device, and the result of a span (the contract's
``energy`` block, raw measurement schema v3). Each reading carries ``active_s``, the seconds it
covered, and ``energy_j`` is None (with a ``missing_reason``) when a device could not be read:
never 0 J. ``complete`` is False then."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class EnergyReading:
    device_id: str  # one physical thing on one host, e.g. "node-1/gpu/GPU-3f1…" or "node-1/cpu"
    scope: str  # "cpu" | "ram" | "gpu" | "machine"
    energy_j: float | None  # joules over the active spans, finite and >= 0; None: not read (see missing_reason)
    estimated: bool  # modelled (e.g. from a TDP), not read from a counter or a power sensor
    idle_power_w: float | None = None  # this device's idle power (idle baseline), or None
    active_s: float = 0.0  # seconds this reading covered (its active spans), monotonic clock
    missing_reason: str | None = None  # why energy_j is None


def unread(device_id: str, scope: str, reason: str, active_s: float = 0.0) -> EnergyReading:
    """A device that could not be read: null energy with the reason (never 0 J)."""
    return EnergyReading(device_id, scope, None, estimated=False, active_s=active_s, missing_reason=reason)


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
    gpu_state: dict[str, Any] | None = (
        None  # {"idle": [...] | None, "window_start": [...]} (GPU temp, P-state, power limit)
    )
    timeseries: list[dict[str, Any]] = field(default_factory=list, repr=False)  # not part of the block

    @property
    def complete(self) -> bool:
        """False when any reading is null (a device that could not be read)."""
        return all(r.energy_j is not None for r in self.readings)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("readings", "timeseries")}
        out["readings"] = [vars(r).copy() for r in self.readings]
        out["complete"] = self.complete
        order = [f.name for f in fields(self) if f.name != "timeseries"] + ["complete"]
        return {k: out[k] for k in order}

    def add_note(self, note: str | None) -> None:
        if note:
            self.note = f"{self.note}; {note}" if self.note else note
