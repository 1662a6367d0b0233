"""Energy backends, chosen by name from an explicit registry."""

from __future__ import annotations

from joules_worker.energy.base import EnergyBackend, EnergyReading, EnergyResult
from joules_worker.energy.codecarbon_backend import CodeCarbonBackend
from joules_worker.energy.none_backend import NoneBackend

BACKENDS: dict[str, type[EnergyBackend]] = {
    CodeCarbonBackend.NAME: CodeCarbonBackend,
    NoneBackend.NAME: NoneBackend,
}


def get_backend(name: str) -> type[EnergyBackend]:
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown energy backend {name!r} (known: {', '.join(BACKENDS)})") from None


__all__ = ["BACKENDS", "CodeCarbonBackend", "EnergyBackend", "EnergyReading", "EnergyResult", "NoneBackend", "get_backend"]
