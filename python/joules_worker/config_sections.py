"""The sections of an experiment (contract v2): one frozen dataclass each, checked in ``__post_init__``.

``ExperimentConfig`` (config.py) holds them; ``launch`` and ``retry`` are the TS side's and are
only type-checked here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from joules_worker._schema import check

_COUNTRY_RE = re.compile(r"^[A-Z]{3}$")


def _non_empty(obj: Any, *keys: str) -> None:
    for key in keys:
        value = getattr(obj, key)
        check(value is None or value != "", key, "must not be empty")


@dataclass(frozen=True)
class ModelConfig:
    revision: str | None = None
    quantization: Literal["none", "int8", "int4"] = "none"
    trust_remote_code: bool = False
    is_encoder_decoder: bool = False
    inference_type: Literal["pure_generative"] = "pure_generative"
    attn_implementation: Literal["eager", "sdpa", "flash_attention_2"] | None = None

    def __post_init__(self) -> None:
        _non_empty(self, "revision")


@dataclass(frozen=True)
class DatasetConfig:
    source: Literal["builtin", "file", "hub"] = "builtin"
    path: str | None = None
    name: str | None = None
    split: str = "train"
    column: str | None = None
    revision: str | None = None

    def __post_init__(self) -> None:
        check(self.source != "file" or self.path is not None, "path", 'required when source is "file"')
        check(self.source == "file" or self.path is None, "path", 'only valid when source is "file"')
        check(self.source != "hub" or self.name is not None, "name", 'required when source is "hub"')
        check(self.source == "hub" or self.name is None, "name", 'only valid when source is "hub"')
        _non_empty(self, "path", "name", "split", "column", "revision")


@dataclass(frozen=True)
class BatchingConfig:
    strategy: Literal["fixed", "adaptive"] = "fixed"
    max_tokens_per_batch: int | None = None

    def __post_init__(self) -> None:
        check(self.max_tokens_per_batch is None or self.max_tokens_per_batch > 0, "max_tokens_per_batch", "must be > 0")
        if self.strategy == "adaptive":
            check(self.max_tokens_per_batch is not None, "max_tokens_per_batch", 'required when strategy is "adaptive"')
        else:
            check(self.max_tokens_per_batch is None, "max_tokens_per_batch", 'only valid when strategy is "adaptive"')


@dataclass(frozen=True)
class DecodingConfig:
    mode: Literal["greedy", "sampling"] = "greedy"
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None

    def __post_init__(self) -> None:
        if self.mode == "greedy":
            for key in ("temperature", "top_k", "top_p"):
                check(getattr(self, key) is None, key, 'only valid when decoding.mode is "sampling" (mode is "greedy")')
        check(self.temperature is None or self.temperature > 0, "temperature", "must be > 0")
        check(self.top_k is None or self.top_k >= 0, "top_k", "must be >= 0 (0 = no top-k filter)")
        check(self.top_p is None or 0 < self.top_p <= 1, "top_p", "must be in (0, 1]")


@dataclass(frozen=True)
class ShardingConfig:
    strategy: Literal["none", "fsdp"] = "none"


@dataclass(frozen=True)
class SlurmConfig:
    """TS side only (launcher "slurm"): type-checked, never used by the worker."""

    nodes: int = 1
    gpus_per_node: int = 0
    cpus_per_task: int | None = None
    mem: str | None = None
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    time_limit: int | str | None = None
    extra_args: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MachinesConfig:
    """TS side only (several machines started by hand): type-checked, never used by the worker.

    The world comes from accelerate's environment (RANK, WORLD_SIZE), not from here.
    """

    num_machines: int = 1
    machine_rank: int = 0
    main_process_ip: str | None = None
    main_process_port: int | None = None


@dataclass(frozen=True)
class LaunchConfig:
    """TS side only: type-checked, never used by the worker."""

    launcher: str = "auto"
    timeout_s: float | None = None
    silence_timeout_s: float | None = None
    slurm: SlurmConfig = field(default_factory=SlurmConfig)
    machines: MachinesConfig = field(default_factory=MachinesConfig)


@dataclass(frozen=True)
class TrafficConfig:
    delay_min_ms: float = 0.0
    delay_max_ms: float = 0.0
    burst_size: int | None = None
    burst_interval_ms: float | None = None
    inside_energy_window: bool = False

    def __post_init__(self) -> None:
        check(self.delay_min_ms >= 0, "delay_min_ms", "must be >= 0")
        check(
            self.delay_max_ms >= self.delay_min_ms,
            "delay_max_ms",
            f"must be >= delay_min_ms ({self.delay_max_ms} < {self.delay_min_ms})",
        )
        check(self.burst_size is None or self.burst_size > 0, "burst_size", "must be > 0")
        check(self.burst_interval_ms is None or self.burst_interval_ms >= 0, "burst_interval_ms", "must be >= 0")
        check(
            (self.burst_size is None) == (self.burst_interval_ms is None),
            "burst_interval_ms" if self.burst_interval_ms is None else "burst_size",
            "burst_size and burst_interval_ms go together (both or neither)",
        )

    @property
    def active(self) -> bool:
        return self.delay_max_ms > 0 or bool(self.burst_size and self.burst_interval_ms)


@dataclass(frozen=True)
class EnergyConfig:
    backend: Literal["auto", "nvml", "zeus", "codecarbon", "rapl", "none"] = "auto"
    country_iso_code: str = "USA"
    measure_power_secs: float = 1.0
    idle_baseline_s: float = 0.0
    carbon_intensity_g_per_kwh: float | None = None
    pue: float = 1.0
    allow_shared_host: bool = False  # TS side only (the runner's --max-parallel rule); never used by the worker

    def __post_init__(self) -> None:
        check(
            bool(_COUNTRY_RE.match(self.country_iso_code)),
            "country_iso_code",
            'expected a 3-letter ISO code, e.g. "USA"',
        )
        check(0 < self.measure_power_secs <= 3600, "measure_power_secs", "must be in (0, 3600] seconds")
        check(self.idle_baseline_s >= 0, "idle_baseline_s", "must be >= 0 (0 = no idle baseline)")
        check(
            self.carbon_intensity_g_per_kwh is None or self.carbon_intensity_g_per_kwh >= 0,
            "carbon_intensity_g_per_kwh",
            "must be >= 0",
        )
        check(self.pue >= 1, "pue", "must be >= 1")


@dataclass(frozen=True)
class RetryConfig:
    """TS side only: type-checked, never used by the worker."""

    max_retries: int = 3
    backoff_base_s: float = 2.0
    halve_batch_on_oom: bool = True
