"""What the serving engine's energy backend reads: the server's devices, their idle power, and the
scope of the joules (the server's devices alone, or the whole host, the load generator included).

``server.devices`` are NVML indices (as ``gpu_ids``). Zeus takes CUDA indices, which count the
GPUs this process may see (CUDA_VISIBLE_DEVICES, in PCI bus order as the launcher sets
CUDA_DEVICE_ORDER); the worker uses no CUDA itself (the model is on the meta device), so it makes
exactly the server's devices visible, in their order, and GPU i of ``devices`` is CUDA index i.
"""

from __future__ import annotations

import logging
import os
from collections.abc import MutableMapping

from joules_worker.config import ExperimentConfig
from joules_worker.energy import BackendContext, GpuRef, choose_backend, get_backend
from joules_worker.energy.base import EnergyBackend
from joules_worker.energy.idle import IdleBaseline, measure_idle

logger = logging.getLogger(__name__)


def server_gpu_refs(devices: list[int] | None, environ: MutableMapping[str, str] = os.environ) -> tuple[GpuRef, ...]:
    """The server's GPUs with NVML and CUDA indices; sets CUDA_VISIBLE_DEVICES to them (see above)."""
    if not devices:
        return ()
    environ["CUDA_VISIBLE_DEVICES"] = ",".join(str(d) for d in devices)
    environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    return tuple(GpuRef(index=d, cuda_index=i) for i, d in enumerate(devices))


def energy_scope(backend: type[EnergyBackend], devices: list[int] | None) -> str | None:
    """``host``: the backend reads the whole host (CPU packages, RAM, and its GPUs), this worker's
    load generator included; ``server_devices``: only the server's GPUs; None: no energy."""
    if devices is None or backend.NAME == "none":
        return None
    return "host" if backend.HOST_SCOPED or not devices else "server_devices"


class ServerEnergy:
    def __init__(self, config: ExperimentConfig, host: str) -> None:
        devices = config.server.devices
        self.devices = devices
        self.gpus = server_gpu_refs(devices)
        self.ctx = BackendContext(config.energy, host, True, self.gpus, self.gpus)
        if devices is None:
            self.backend_cls: type[EnergyBackend] = get_backend("none")
            self.note: str | None = "no energy: server.devices is not set, so the server's devices are unknown"
        else:
            self.backend_cls, self.note = choose_backend(config.energy.backend, self.ctx)
        self.scope = energy_scope(self.backend_cls, devices)
        self.idle_s = config.energy.idle_baseline_s

    def backend(self) -> EnergyBackend:
        return self.backend_cls(self.ctx)

    def idle(self) -> IdleBaseline | None:
        """The idle power of what the backend reads (the server up, its model loaded, no request),
        measured before the warm-up for ``energy.idle_baseline_s`` (cached as the transformers
        engine's: energy/idle.py); None when not asked for or nothing is read."""
        if self.idle_s <= 0 or self.devices is None:
            return None
        return measure_idle(self.backend_cls, self.ctx, self.idle_s)
