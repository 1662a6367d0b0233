"""The experiment the worker runs (contract v2, contract/V2.md): validated frozen dataclasses.

The TypeScript CLI sends the *effective* experiment (every key present, paths absolute). The worker
checks it again: unknown or missing keys, wrong types and broken cross-field rules raise
BadConfigError with the field's dotted path in the message. Sections the worker does not use
(``launch``, ``retry``) are only type-checked. No torch import here.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from joules_worker._schema import build, check
from joules_worker.config_sections import (
    BatchingConfig,
    DatasetConfig,
    DecodingConfig,
    EnergyConfig,
    LaunchConfig,
    MachinesConfig,
    ModelConfig,
    RetryConfig,
    ShardingConfig,
    SlurmConfig,
    TrafficConfig,
)
from joules_worker.contract_schema import check_against_schema
from joules_worker.engines.settings import LoadConfig, ServerConfig, SloConfig, check_load
from joules_worker.errors import BadConfigError

__all__ = [
    "BatchingConfig",
    "DatasetConfig",
    "DecodingConfig",
    "EnergyConfig",
    "ExperimentConfig",
    "LaunchConfig",
    "MachinesConfig",
    "ModelConfig",
    "RetryConfig",
    "ShardingConfig",
    "SlurmConfig",
    "TrafficConfig",
    "config_warnings",
    "load_experiment",
    "resolve_warmup",
]

logger = logging.getLogger(__name__)

_NAME_RE = re.compile(r"^[\w.-]+$")


@dataclass(frozen=True)
class ExperimentConfig:
    config_name: str
    model_name: str
    task_type: Literal["text_generation"] = "text_generation"
    suite: str | None = None
    cycle_id: int | None = None
    model: ModelConfig = field(default_factory=ModelConfig)
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    prompt_ordering: Literal["as_given", "sorted_by_length", "shuffle"] = "as_given"
    num_input_prompts: int = 64
    max_input_tokens: int = 128
    max_output_tokens: int = 32
    min_output_tokens: int = 0
    batch_size: int = 8
    batching: BatchingConfig = field(default_factory=BatchingConfig)
    precision: Literal["fp32", "fp16", "bf16"] = "fp32"
    decoding: DecodingConfig = field(default_factory=DecodingConfig)
    sharding: ShardingConfig = field(default_factory=ShardingConfig)
    num_processes: int = 1
    gpu_ids: list[int] = field(default_factory=list)
    launch: LaunchConfig = field(default_factory=LaunchConfig)
    traffic: TrafficConfig = field(default_factory=TrafficConfig)
    energy: EnergyConfig = field(default_factory=EnergyConfig)
    warmup_iterations: int | Literal["auto"] = 2
    save_outputs: bool = False
    save_token_ids: bool = False
    retry: RetryConfig = field(default_factory=RetryConfig)
    seed: int = 0
    engine: Literal["transformers", "server"] = "transformers"
    server: ServerConfig = field(default_factory=ServerConfig)
    load: LoadConfig = field(default_factory=LoadConfig)
    slo: SloConfig = field(default_factory=SloConfig)

    def __post_init__(self) -> None:
        check(bool(_NAME_RE.match(self.config_name)), "config_name", 'use letters, digits, ".", "_" or "-"')
        check(self.model_name != "", "model_name", "must not be empty")
        check(self.suite is None or self.suite != "", "suite", "must not be empty")
        check(self.cycle_id is None or self.cycle_id >= 0, "cycle_id", "must be >= 0")
        for key in ("num_input_prompts", "max_input_tokens", "max_output_tokens", "batch_size", "num_processes"):
            check(getattr(self, key) > 0, key, "must be > 0")
        check(self.num_processes <= 1024, "num_processes", "must be <= 1024")
        check(self.min_output_tokens >= 0, "min_output_tokens", "must be >= 0")
        check(
            self.min_output_tokens <= self.max_output_tokens,
            "min_output_tokens",
            f"must be <= max_output_tokens ({self.min_output_tokens} > {self.max_output_tokens})",
        )
        check(
            self.warmup_iterations == "auto" or 0 <= self.warmup_iterations <= 100,
            "warmup_iterations",
            'must be in [0, 100] or "auto"',
        )
        check(self.seed >= 0, "seed", "must be >= 0")
        _cross_field_rules(self)

    @property
    def on_gpu(self) -> bool:
        return bool(self.gpu_ids)

    @classmethod
    def from_dict(cls, data: Any) -> ExperimentConfig:
        """Build and validate from parsed JSON (the dataclasses, then the contract's JSON Schema);
        raises BadConfigError naming the field."""
        config = build(cls, data, "")
        check_against_schema(data)
        check_against_schema(data)
        for warning in config_warnings(config):
            logger.warning("config: %s", warning)
        return config

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _cross_field_rules(c: ExperimentConfig) -> None:
    check(all(i >= 0 for i in c.gpu_ids), "gpu_ids", "GPU indices must be >= 0")
    check(len(set(c.gpu_ids)) == len(c.gpu_ids), "gpu_ids", "must not repeat a GPU")
    check(
        not c.gpu_ids or c.num_processes <= len(c.gpu_ids),
        "num_processes",
        f"{c.num_processes} processes do not fit {len(c.gpu_ids)} GPU(s) in gpu_ids",
    )
    check(
        c.model.quantization == "none" or bool(c.gpu_ids),
        "model.quantization",
        f"{c.model.quantization} needs gpu_ids (bitsandbytes runs on CUDA only)",
    )
    check(c.sharding.strategy != "fsdp" or c.num_processes > 1, "sharding.strategy", "fsdp needs num_processes > 1")
    check(
        c.energy.backend not in ("nvml", "zeus") or bool(c.gpu_ids),
        "energy.backend",
        f"{c.energy.backend} measures GPUs: it needs gpu_ids",
    )
    if c.engine == "server":
        check_load(c.load)
        check(c.num_processes == 1, "num_processes", "must be 1 with engine 'server'")


def config_warnings(c: ExperimentConfig) -> list[str]:
    """Rules that warn rather than fail (the same warnings the TS side gives)."""
    warnings = []
    if c.gpu_ids and c.num_processes < len(c.gpu_ids):
        warnings.append(f"num_processes: {len(c.gpu_ids) - c.num_processes} GPU(s) in gpu_ids stay unused")
    if not c.gpu_ids and c.precision == "fp16":
        warnings.append("precision: fp16 on CPU is slow and unrepresentative; consider bf16 or fp32")
    return warnings


def resolve_warmup(warmup: int | str, num_parameters: int) -> int:
    """``"auto"``: 2 warm-up batches below 1e9 parameters, 3 below 1e10, 5 above."""
    if warmup != "auto":
        return int(warmup)
    if num_parameters < 1e9:
        return 2
    return 3 if num_parameters < 1e10 else 5


def load_experiment(path: str | Path) -> ExperimentConfig:
    """Read and validate an experiment JSON file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise BadConfigError(f"cannot read experiment file {path}: {e}") from e
    except json.JSONDecodeError as e:
        raise BadConfigError(f"experiment file {path} is not valid JSON: {e}") from e
    return ExperimentConfig.from_dict(data)
