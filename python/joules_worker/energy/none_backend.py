"""The empty stand-in: measures nothing, so a run works where no energy reader does."""

from __future__ import annotations

import time

from joules_worker.energy.base import EnergyBackend, EnergyResult


class NoneBackend(EnergyBackend):
    NAME = "none"
    note: str | None = None  # why nothing was measured, when the caller substituted this backend

    def start(self) -> None:
        self._start = time.time()

    def stop(self) -> EnergyResult:
        return EnergyResult(
            backend=self.NAME, backend_version=None, method="none", estimated=False,
            start_unix_s=self._start, end_unix_s=time.time(), readings=[], note=self.note,
        )
