"""The experiment the worker runs: a validated dataclass of contract/experiment.schema.json.

The TypeScript CLI sends the *effective* experiment (every key present, paths absolute). The worker
checks it again: unknown or missing keys, wrong types and broken cross-field rules raise
BadConfigError with the field's dotted path in the message. No torch import here.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, Union

from joules_worker.errors import BadConfigError

_NAME_RE = re.compile(r"^[\w.-]+$")
_COUNTRY_RE = re.compile(r"^[A-Z]{3}$")


def _check(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ValueError(f"{key}: {message}")


@dataclass(frozen=True)
class DatasetConfig:
    source: Literal["builtin", "file", "hub"] = "builtin"
    path: Optional[str] = None
    name: Optional[str] = None
    split: str = "train"
    column: Optional[str] = None

    def __post_init__(self) -> None:
        _check(self.source != "file" or self.path is not None, "path", 'required when source is "file"')
        _check(self.source == "file" or self.path is None, "path", 'only valid when source is "file"')
        _check(self.source != "hub" or self.name is not None, "name", 'required when source is "hub"')
        _check(self.source == "hub" or self.name is None, "name", 'only valid when source is "hub"')
        for key in ("path", "name", "split", "column"):
            value = getattr(self, key)
            _check(value is None or value != "", key, "must not be empty")


@dataclass(frozen=True)
class DecodingConfig:
    mode: Literal["greedy", "sampling"] = "greedy"
    temperature: Optional[float] = None
    top_k: Optional[int] = None
    top_p: Optional[float] = None

    def __post_init__(self) -> None:
        if self.mode == "greedy":
            for key in ("temperature", "top_k", "top_p"):
                _check(getattr(self, key) is None, key, 'only valid when decoding.mode is "sampling" (mode is "greedy")')
        _check(self.temperature is None or self.temperature > 0, "temperature", "must be > 0")
        _check(self.top_k is None or self.top_k >= 0, "top_k", "must be >= 0 (0 = no top-k filter)")
        _check(self.top_p is None or 0 < self.top_p <= 1, "top_p", "must be in (0, 1]")


@dataclass(frozen=True)
class EnergyConfig:
    backend: Literal["codecarbon", "none"] = "codecarbon"
    country_iso_code: str = "USA"
    measure_power_secs: float = 1.0

    def __post_init__(self) -> None:
        _check(bool(_COUNTRY_RE.match(self.country_iso_code)), "country_iso_code", 'expected a 3-letter ISO code, e.g. "USA"')
        _check(0 < self.measure_power_secs <= 3600, "measure_power_secs", "must be in (0, 3600] seconds")


@dataclass(frozen=True)
class ExperimentConfig:
    config_name: str
    model_name: str
    task_type: Literal["text_generation"] = "text_generation"
    suite: Optional[str] = None
    cycle_id: Optional[int] = None
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    num_input_prompts: int = 64
    max_input_tokens: int = 128
    max_output_tokens: int = 32
    min_output_tokens: int = 0
    batch_size: int = 8
    precision: Literal["fp32", "fp16", "bf16"] = "fp32"
    decoding: DecodingConfig = field(default_factory=DecodingConfig)
    num_processes: int = 1
    gpu_ids: list[int] = field(default_factory=list)
    warmup_iterations: int = 2
    energy: EnergyConfig = field(default_factory=EnergyConfig)
    save_outputs: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        _check(bool(_NAME_RE.match(self.config_name)), "config_name", 'use letters, digits, ".", "_" or "-"')
        _check(self.model_name != "", "model_name", "must not be empty")
        _check(self.suite is None or self.suite != "", "suite", "must not be empty")
        _check(self.cycle_id is None or self.cycle_id >= 0, "cycle_id", "must be >= 0")
        for key in ("num_input_prompts", "max_input_tokens", "max_output_tokens", "batch_size", "num_processes"):
            _check(getattr(self, key) > 0, key, "must be > 0")
        _check(self.num_processes <= 1024, "num_processes", "must be <= 1024")
        _check(self.min_output_tokens >= 0, "min_output_tokens", "must be >= 0")
        _check(
            self.min_output_tokens <= self.max_output_tokens,
            "min_output_tokens",
            f"must be <= max_output_tokens ({self.min_output_tokens} > {self.max_output_tokens})",
        )
        _check(0 <= self.warmup_iterations <= 100, "warmup_iterations", "must be in [0, 100]")
        _check(self.seed >= 0, "seed", "must be >= 0")
        _check(all(i >= 0 for i in self.gpu_ids), "gpu_ids", "GPU indices must be >= 0")
        _check(len(set(self.gpu_ids)) == len(self.gpu_ids), "gpu_ids", "must not repeat a GPU")
        _check(
            not self.gpu_ids or self.num_processes <= len(self.gpu_ids),
            "num_processes",
            f"{self.num_processes} processes do not fit {len(self.gpu_ids)} GPU(s) in gpu_ids",
        )

    @classmethod
    def from_dict(cls, data: Any) -> "ExperimentConfig":
        """Build and validate from parsed JSON; raises BadConfigError naming the field."""
        return _build(cls, data, "")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_experiment(path: str | Path) -> ExperimentConfig:
    """Read and validate an experiment JSON file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise BadConfigError(f"cannot read experiment file {path}: {e}") from e
    except json.JSONDecodeError as e:
        raise BadConfigError(f"experiment file {path} is not valid JSON: {e}") from e
    return ExperimentConfig.from_dict(data)


def _build(cls: type, data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise BadConfigError(f"{prefix.rstrip('.') or '<root>'}: expected an object, got {_type_name(data)}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise BadConfigError(f"{prefix}{unknown[0]}: unknown key (known keys: {', '.join(names)})")
    missing = [n for n in names if n not in data]
    if missing:
        raise BadConfigError(f"{prefix}{missing[0]}: missing (the worker expects the effective config, every key present)")
    values = {n: _coerce(hints[n], data[n], f"{prefix}{n}") for n in names}
    try:
        return cls(**values)
    except ValueError as e:
        raise BadConfigError(f"{prefix}{e}") from e


def _coerce(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(inner, value, key)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            raise BadConfigError(f"{key}: expected one of {', '.join(map(repr, allowed))}, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise BadConfigError(f"{key}: expected a list, got {_type_name(value)}")
        (item,) = typing.get_args(tp)
        return [_coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, f"{key}.")
    ok = {
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        str: lambda v: isinstance(v, str),
    }[tp](value)
    if not ok:
        raise BadConfigError(f"{key}: expected {tp.__name__}, got {_type_name(value)} {value!r}")
    if tp is float:
        if not math.isfinite(value):
            raise BadConfigError(f"{key}: must be a finite number, got {value!r}")
        return float(value)
    return value


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__
