"""NVIDIA GPUs through NVML (nvidia-ml-py): each rank reads only its own GPU(s).

Per GPU, the total-energy counter (nvmlDeviceGetTotalEnergyConsumption, mJ since the driver
loaded; Volta and newer) where supported, read at start, at every pause/resume and at stop. The
64-bit counter never wraps in practice: a decrease is a driver reload or GPU reset, and the run
fails naming the device (a transient failure), never +1.8e16 J. Where the counter is not
supported, the power readings of the sampler thread (nvmlDeviceGetPowerUsage every
``measure_power_secs``, plus one at each start, pause, resume and stop) are integrated with the
trapezoid rule over the active spans (monotonic clock). The same sampler feeds the timeseries
(power, utilisation, temperature, SM clock, throttle reasons) in both cases; with the counter, the
note gives the polling figure beside it.

A GPU that NVML cannot find, or that gives neither a counter nor power (MIG slices, some vGPUs),
is a null reading with its reason, never 0 J; the rank's energy block is then incomplete.
``prepare()`` (before the barrier) starts NVML, finds the handles and checks what each GPU
offers; ``start()`` only samples once, reads the counters and starts the thread.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from joules_worker.energy import _nvml
from joules_worker.energy._integrate import CounterReset, CounterTotal, Spans, trapezoid_j
from joules_worker.energy.base import EnergyBackend, EnergyReading, EnergyResult, unread
from joules_worker.environment import package_version
from joules_worker.errors import TransientError

logger = logging.getLogger(__name__)


class NvmlBackend(EnergyBackend):
    NAME = "nvml"
    READS = ("gpu",)
    MID_SPAN = True
    NEEDS_GPUS = True
    GPU_TIMESERIES = True  # its sampler writes the timeseries the GpuMonitor would

    @classmethod
    def _probe(cls) -> str | None:
        return _nvml.probe()

    @classmethod
    def version(cls) -> str | None:
        return package_version("nvidia-ml-py")

    @classmethod
    def doctor(cls) -> dict[str, Any]:
        out = super().doctor()
        if not out["ok"]:
            return {**out, "hint": "needs an NVIDIA GPU and driver, and nvidia-ml-py in the worker venv"}
        import pynvml

        pynvml.nvmlInit()
        try:
            driver, devices = _nvml.text(pynvml.nvmlSystemGetDriverVersion()), pynvml.nvmlDeviceGetCount()
        finally:
            pynvml.nvmlShutdown()
        detail = f"driver {driver}, {devices} device(s): GPU energy from hardware counters"
        return {**out, "driver": driver, "devices": devices, "detail": detail}

    def expected_device_ids(self) -> list[str] | None:
        import pynvml

        pynvml.nvmlInit()
        try:
            devices, _ = _nvml.resolve(pynvml, self.ctx.gpus, self.ctx.host)  # an unread GPU has no idle power to cache
            return [d.device_id for d in devices]
        finally:
            pynvml.nvmlShutdown()

    def _prepare(self) -> None:
        import pynvml

        pynvml.nvmlInit()
        self._nvml = pynvml
        found, self.missing = _nvml.resolve(pynvml, self.ctx.gpus, self.ctx.host)
        self.devices: list[_nvml.NvmlDevice] = []
        self.has_counter: set[str] = set()
        for d in found:
            if self._counter(d) is not None:
                self.has_counter.add(d.device_id)
            elif _nvml._read(pynvml.nvmlDeviceGetPowerUsage, d.handle) is None:
                kind = "a MIG slice" if d.uuid.startswith("MIG-") else "this GPU (MIG or vGPU?)"
                self.missing.append(
                    (d.device_id, f"{d.uuid}: NVML gives neither an energy counter nor power for {kind}: not measured")
                )
                continue
            self.devices.append(d)
        self.sampler: _nvml.Sampler | None = _nvml.Sampler(self.devices, self.ctx.config.measure_power_secs)
        self._lock = threading.Lock()  # the counters are read from the main thread and by totals_j()

    def _start(self) -> None:
        self.spans = Spans()
        self._start_m = self.sampler.sample_now()  # the first sample's time opens the first span...
        self.spans.open(self._start_m)
        self.counters: dict[str, CounterTotal] = {}
        for d in self.devices:  # ...the counters are read right after it...
            if d.device_id in self.has_counter:
                value = self._counter(d)
                if value is not None:
                    self.counters[d.device_id] = CounterTotal(value, None, f"NVML {d.device_id}")
        self.sampler.launch()  # ...and only then the thread starts

    def _counter(self, device: _nvml.NvmlDevice) -> int | None:
        try:
            return int(self._nvml.nvmlDeviceGetTotalEnergyConsumption(device.handle))
        except self._nvml.NVMLError as e:
            logger.info("%s: no energy counter (%s): power polling", device.device_id, e)
            return None

    def _read_counters(self, active: bool) -> None:
        with self._lock:
            for d in self.devices:
                if d.device_id in self.counters:
                    value = self._counter(d)
                    if value is not None:
                        try:
                            self.counters[d.device_id].update(value, active)
                        except CounterReset as e:
                            self.abort()
                            raise TransientError(str(e)) from e

    def totals_j(self) -> dict[str, float] | None:
        """Only where every GPU of this rank has the energy counter (polled power has no total to read)."""
        if self.missing or not self.devices or any(d.device_id not in self.counters for d in self.devices):
            return None
        out = {}
        with self._lock:
            for d in self.devices:
                value = self._counter(d)
                if value is None:
                    return None
                try:
                    self.counters[d.device_id].update(value, self._paused_at is None)
                except CounterReset:  # stop() reads it again and fails the run naming the device
                    return None
                out[d.device_id] = self.counters[d.device_id].total / 1000.0
        return out

    def _pause(self) -> None:
        self._read_counters(active=True)
        self.spans.close(self.sampler.sample_now())

    def _resume(self) -> None:
        self._read_counters(active=False)
        self.spans.open(self.sampler.sample_now())

    def abort(self) -> None:
        if getattr(self, "sampler", None) is not None:
            self.sampler.stop()
            self.sampler = None
            self._nvml.nvmlShutdown()

    def _stop(self) -> EnergyResult:
        end_m = self.sampler.sample_now()  # the span ends now: the last sample and the counters together...
        self._read_counters(active=True)
        end = self._mark_end()
        self.sampler.halt()  # ...and only then the thread is joined (a busy host may take a while to wake it)
        self.spans.close(end_m)
        self.sampler, sampler = None, self.sampler
        self._nvml.nvmlShutdown()
        spans = self.spans.closed
        active_s = sum(b - a for a, b in spans)
        result = self._result(self._unix_start, end, samples=sampler.ticks, timeseries=list(sampler.rows))
        result.throttling = _nvml.throttling(sampler.rows_in(self.spans))
        notes = []
        methods = set()
        for d in self.devices:
            polled = trapezoid_j(sampler.power(d.device_id), spans)
            counter = self.counters.get(d.device_id)
            if counter is not None:
                joules = counter.total / 1000.0
                methods.add("counter")
                diff = f" ({(polled - joules) / joules * 100:+.1f} %)" if joules > 0 else ""
                notes.append(f"{d.uuid}: counter {joules:.3f} J, power polling {polled:.3f} J{diff}")
            else:
                joules = polled
                methods.add("polling")
                notes.append(f"{d.uuid}: no energy counter, power polled every {sampler.interval_s:g} s")
            result.readings.append(EnergyReading(d.device_id, "gpu", joules, estimated=False, active_s=active_s))
        for device_id, reason in self.missing:
            result.readings.append(unread(device_id, "gpu", reason, active_s))
            notes.append(reason)
        result.method = "polling" if "polling" in methods else ("counter" if methods else "none")
        result.add_note("; ".join(notes) or None)
        return result
