"""NVIDIA GPUs through NVML (nvidia-ml-py): each rank reads only its own GPU(s).

Per GPU, the total-energy counter (nvmlDeviceGetTotalEnergyConsumption, mJ since the driver
loaded; Volta and newer) where supported, read at start, at every pause/resume and at stop, with
64-bit wrap-around handled. Where the counter is not supported, the power readings of the sampler
thread (nvmlDeviceGetPowerUsage every ``measure_power_secs``, plus one at each start, pause, resume
and stop) are integrated with the trapezoid rule over the active spans. The same sampler feeds the
timeseries (power, utilisation, temperature, SM clock, throttle reasons) in both cases; with the
counter, the note gives the polling figure beside it.
"""

from __future__ import annotations

import logging

from joules_worker.energy import _nvml
from joules_worker.energy._integrate import CounterTotal, Spans, trapezoid_j
from joules_worker.energy.base import EnergyBackend, EnergyReading, EnergyResult
from joules_worker.environment import package_version

logger = logging.getLogger(__name__)

NVML_COUNTER_WRAP = 2**64  # unsigned long long millijoules


class NvmlBackend(EnergyBackend):
    NAME = "nvml"

    @classmethod
    def _probe(cls) -> str | None:
        return _nvml.probe()

    @classmethod
    def version(cls) -> str | None:
        return package_version("nvidia-ml-py")

    def expected_device_ids(self) -> list[str] | None:
        import pynvml

        pynvml.nvmlInit()
        try:
            devices, _ = _nvml.resolve(pynvml, self.ctx.gpus, self.ctx.host)
            return [d.device_id for d in devices]
        finally:
            pynvml.nvmlShutdown()

    def start(self) -> None:
        import pynvml

        pynvml.nvmlInit()
        self._nvml = pynvml
        self.devices, self.missing = _nvml.resolve(pynvml, self.ctx.gpus, self.ctx.host)
        self.sampler = _nvml.Sampler(self.devices, self.ctx.config.measure_power_secs)
        self.spans = Spans()
        self._start = self.sampler.sample_now()  # the first sample's time stamp opens the first span...
        self.spans.open(self._start)
        self.counters: dict[str, CounterTotal] = {}
        for d in self.devices:  # ...the counters are read right after it...
            value = self._counter(d)
            if value is not None:
                self.counters[d.device_id] = CounterTotal(value, NVML_COUNTER_WRAP)
        self.sampler.launch()  # ...and only then the thread starts

    def _counter(self, device: _nvml.NvmlDevice) -> int | None:
        try:
            return int(self._nvml.nvmlDeviceGetTotalEnergyConsumption(device.handle))
        except self._nvml.NVMLError as e:
            logger.info("%s: no energy counter (%s): power polling", device.device_id, e)
            return None

    def _read_counters(self, active: bool) -> None:
        for d in self.devices:
            if d.device_id in self.counters:
                value = self._counter(d)
                if value is not None:
                    self.counters[d.device_id].update(value, active)

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

    def stop(self) -> EnergyResult:
        self.resume()
        end = self.sampler.stop()  # the thread is joined first: the last sample and the counters are read together
        self._read_counters(active=True)
        self.spans.close(end)
        self.sampler, sampler = None, self.sampler
        self._nvml.nvmlShutdown()
        spans = self.spans.closed
        rows = [r for r in sampler.rows if self.spans.contains(r["t"])]
        result = self._result(self._start, end, samples=sampler.ticks, timeseries=list(sampler.rows))
        result.throttling = _nvml.throttling(rows)
        notes = list(self.missing)
        methods = set()
        for d in self.devices:
            polled = trapezoid_j(sampler.power(d.device_id), spans)
            counter = self.counters.get(d.device_id)
            if counter is not None:
                joules = counter.total / 1000.0
                methods.add("counter")
                diff = f" ({(polled - joules) / joules * 100:+.1f} %)" if joules > 0 else ""
                notes.append(f"{d.uuid}: counter {joules:.3f} J, power polling {polled:.3f} J{diff}")
                if counter.wraps:
                    notes.append(f"{d.uuid}: energy counter wrapped {counter.wraps}x")
            else:
                joules = polled
                methods.add("polling")
                notes.append(f"{d.uuid}: no energy counter, power polled every {sampler.interval_s:g} s")
            result.readings.append(EnergyReading(d.device_id, "gpu", joules, estimated=False))
        result.method = "polling" if "polling" in methods else ("counter" if methods else "none")
        result.add_note("; ".join(notes) or None)
        return result
