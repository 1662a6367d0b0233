"""Load the experiment the worker runs (contract v2, contract/V2.md). No torch import here.

The TypeScript CLI sends the *effective* experiment (every key present, paths absolute). The loader
builds the dataclasses that ``npm run contract`` generates from contract/experiment.schema.json
(experiment_model.py): an unknown, missing or mistyped key raises BadConfigError naming its dotted
path. It then validates the JSON against that schema (enums, ranges, patterns). The cross-field
rules are @joules/config's only: contract/README.md says what a hand-written experiment is checked for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from joules_worker.dataclass_builder import build
from joules_worker.errors import BadConfigError
from joules_worker.experiment_model import Batching as BatchingConfig
from joules_worker.experiment_model import Dataset as DatasetConfig
from joules_worker.experiment_model import Decoding as DecodingConfig
from joules_worker.experiment_model import Energy as EnergyConfig
from joules_worker.experiment_model import ExperimentConfig
from joules_worker.experiment_model import Launch as LaunchConfig
from joules_worker.experiment_model import Load as LoadConfig
from joules_worker.experiment_model import Machines as MachinesConfig
from joules_worker.experiment_model import Model as ModelConfig
from joules_worker.experiment_model import Retry as RetryConfig
from joules_worker.experiment_model import Server as ServerConfig
from joules_worker.experiment_model import Sharding as ShardingConfig
from joules_worker.experiment_model import Slo as SloConfig
from joules_worker.experiment_model import Slurm as SlurmConfig
from joules_worker.experiment_model import Traffic as TrafficConfig
from joules_worker.schema_validation import check_against_schema

__all__ = [
    "BatchingConfig",
    "DatasetConfig",
    "DecodingConfig",
    "EnergyConfig",
    "ExperimentConfig",
    "LaunchConfig",
    "LoadConfig",
    "MachinesConfig",
    "ModelConfig",
    "RetryConfig",
    "ServerConfig",
    "ShardingConfig",
    "SloConfig",
    "SlurmConfig",
    "TrafficConfig",
    "load_experiment",
    "parse_as",
    "parse_experiment",
]

T = TypeVar("T")


def parse_experiment(data: Any) -> ExperimentConfig:
    """The experiment in parsed JSON; raises BadConfigError naming the field."""
    return parse_as(ExperimentConfig, data)


def parse_as(model: type[T], data: Any) -> T:
    """``data`` as ``model``, a dataclass generated from the schema the worker validates against (a
    test passes one generated from a schema with a new field)."""
    config = build(model, data)
    check_against_schema(data)
    return config


def load_experiment(path: str | Path) -> ExperimentConfig:
    """Read and validate an experiment JSON file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise BadConfigError(f"cannot read experiment file {path}: {e}") from e
    except json.JSONDecodeError as e:
        raise BadConfigError(f"experiment file {path} is not valid JSON: {e}") from e
    return parse_experiment(data)
