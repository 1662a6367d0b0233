"""The per-rank GPU timeseries when the energy backend is not ``nvml`` (which samples itself):
an NVML sampler over this rank's GPUs, run beside the backend over the measured window."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from joules_worker.energy import _nvml
from joules_worker.energy.base import GpuRef

logger = logging.getLogger(__name__)


class GpuMonitor:
    def __init__(self, gpus: Sequence[GpuRef], host: str, interval_s: float) -> None:
        self.gpus = list(gpus)
        self.host = host
        self.interval_s = interval_s
        self._sampler: _nvml.Sampler | None = None

    def prepare(self) -> None:
        """NVML start-up and handles (slow without persistence mode): before the barrier."""
        if self._sampler is not None or not self.gpus or _nvml.probe() is not None:
            return
        import pynvml

        pynvml.nvmlInit()
        devices, missing = _nvml.resolve(pynvml, self.gpus, self.host)
        for _, reason in missing:
            logger.warning("timeseries: %s", reason)
        if not devices:
            pynvml.nvmlShutdown()
            return
        self._sampler = _nvml.Sampler(devices, self.interval_s)

    def start(self) -> None:
        self.prepare()
        if self._sampler is not None:
            self._sampler.start()

    def stop(self) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """(timeseries rows, throttling block); ([], None) when nothing was sampled."""
        sampler, self._sampler = self._sampler, None
        if sampler is None:
            return [], None
        import pynvml

        sampler.stop()
        pynvml.nvmlShutdown()
        return sampler.rows, _nvml.throttling(sampler.rows)
