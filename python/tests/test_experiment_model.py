"""The worker's typed view of the experiment is generated, not written: joules_worker/experiment_model.py
is what tools/generate_experiment_model.py (the step `npm run contract` runs) makes of
contract/experiment.schema.json, and a field added to the zod schema reaches the worker through that
step alone."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import CONTRACT, FIXTURES, REPO

import joules_worker.experiment_model
from joules_worker import schema_validation
from joules_worker.config import parse_as, parse_experiment
from joules_worker.errors import BadConfigError

GENERATOR = REPO / "tools" / "generate_experiment_model.py"


def generate(schema: Path, out: Path) -> Path:
    subprocess.run([sys.executable, str(GENERATOR), "--schema", str(schema), "--out", str(out)], check=True)
    return out


def test_the_committed_module_is_a_fresh_generation(tmp_path):
    fresh = generate(CONTRACT / "experiment.schema.json", tmp_path / "experiment_model.py")
    committed = Path(joules_worker.experiment_model.__file__)
    assert fresh.read_text() == committed.read_text(), "stale: run `npm run contract`"


def with_new_fields(schema: dict[str, Any]) -> dict[str, Any]:
    """Two fields as zod fields with defaults appear in the output schema: a default, and required."""
    schema = copy.deepcopy(schema)
    schema["properties"]["run_label"] = {"default": "none", "type": "string", "minLength": 1}
    schema["required"].append("run_label")
    energy = schema["properties"]["energy"]
    energy["properties"]["settle_s"] = {"default": 0.5, "type": "number", "exclusiveMinimum": 0}
    energy["required"].append("settle_s")
    return schema


@pytest.fixture
def new_schema(tmp_path, monkeypatch):
    """The schema with the new fields, as the one the worker validates against, and its generated module."""
    schema_file = tmp_path / "experiment.schema.json"
    schema_file.write_text(json.dumps(with_new_fields(json.loads((CONTRACT / "experiment.schema.json").read_text()))))
    out = generate(schema_file, tmp_path / "experiment_model_new.py")
    spec = importlib.util.spec_from_file_location("experiment_model_new", out)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # typing.get_type_hints looks the module up
    spec.loader.exec_module(module)
    monkeypatch.setattr(schema_validation, "SCHEMA_FILE", schema_file)
    for cached in (schema_validation.experiment_schema, schema_validation._validator):
        cached.cache_clear()
    yield module
    for cached in (schema_validation.experiment_schema, schema_validation._validator):
        cached.cache_clear()


def experiment() -> dict[str, Any]:
    data = json.loads((FIXTURES / "experiment-minimal-greedy.json").read_text())
    data["run_label"] = "night-shift"
    data["energy"]["settle_s"] = 2.0
    return data


def test_a_field_added_to_the_schema_reaches_the_worker_through_the_generator_alone(new_schema):
    with pytest.raises(BadConfigError, match=r"^run_label: unknown key"):  # the committed module has no such field
        parse_experiment(experiment())
    config = parse_as(new_schema.ExperimentConfig, experiment())
    assert (config.run_label, config.energy.settle_s) == ("night-shift", 2.0)
    assert new_schema.Energy().settle_s == 0.5  # the zod default, for a section built in code


def test_the_new_fields_are_checked_like_the_others(new_schema):
    def bad(mutate, match):
        data = experiment()
        mutate(data)
        with pytest.raises(BadConfigError, match=match):
            parse_as(new_schema.ExperimentConfig, data)

    bad(lambda d: d.update(run_lable="x"), r"^run_lable: unknown key")
    bad(lambda d: d.pop("run_label"), r"^run_label: missing")
    bad(lambda d: d["energy"].update(settle_s="2"), r"^energy\.settle_s: expected float, got str")
    bad(lambda d: d["energy"].update(settle_s=0), r"^energy\.settle_s: 0 is less than or equal to the minimum of 0")
