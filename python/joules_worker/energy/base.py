"""Energy backends: an ABC, its result, and the contract's ``energy`` block."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Sequence

from joules_worker.config import EnergyConfig

logger = logging.getLogger(__name__)


@dataclass
class EnergyReading:
    device_id: str  # one physical thing on one host, e.g. "node-1/cpu"
    scope: str  # "cpu" | "ram" | "gpu" | "machine"
    energy_j: float  # joules over the measured window, finite and >= 0
    estimated: bool  # modelled (e.g. from a TDP), not read from a counter


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class EnergyBackend(ABC):
    """Measures energy between ``start()`` and ``stop()`` on one rank."""

    NAME: ClassVar[str]

    def __init__(self, config: EnergyConfig, host: str, is_local_main: bool, gpu_ids: Sequence[int] = ()) -> None:
        self.config = config
        self.host = host
        self.is_local_main = is_local_main
        self.gpu_ids = list(gpu_ids)

    @classmethod
    def available(cls) -> bool:
        """Whether this backend can run here. Never raises; logs why not."""
        return True

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> EnergyResult: ...

    def abort(self) -> None:  # noqa: B027 - optional hook
        """Release what ``start()`` took when the run fails before ``stop()``."""
