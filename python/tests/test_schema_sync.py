"""The worker's typed view (config.py, config_sections.py, ...) against contract/experiment.schema.json.

Every schema property has a dataclass field and vice versa, at every level; nullability, Literal
values and nested objects agree. Adding a field is then: one zod edit, ``npm run contract`` (which
also writes the packaged copy the worker validates against), and the matching field here, or
these tests fail naming it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import types
import typing
from typing import Any, Literal, Union

import pytest
from conftest import CONTRACT, FIXTURES

from joules_worker import contract_schema
from joules_worker.config import ExperimentConfig
from joules_worker.errors import BadConfigError, UnsupportedError


def schema() -> dict[str, Any]:
    return json.loads((CONTRACT / "experiment.schema.json").read_text())


def options(node: dict[str, Any]) -> list[dict[str, Any]]:
    return node.get("anyOf", [node])


def literal_values(node: dict[str, Any]) -> set[Any] | None:
    """The values a (non-null) schema node allows, when it is an enum or const; else None."""
    values: set[Any] = set()
    for o in options(node):
        if o.get("type") == "null":
            continue
        if "enum" in o:
            values |= set(o["enum"])
        elif "const" in o:
            values.add(o["const"])
        else:
            return None
    return values


def type_args(tp: Any) -> tuple[bool, list[Any]]:
    """(nullable, the non-None alternatives) of a field type."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = typing.get_args(tp)
        return type(None) in args, [a for a in args if a is not type(None)]
    return False, [tp]


def mismatches(cls: type, node: dict[str, Any], path: str = "") -> list[str]:
    problems = []
    props = node.get("properties", {})
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for name in sorted(set(props) - set(fields)):
        problems.append(f"{path}{name}: in the schema, no field in {cls.__name__}")
    for name in sorted(set(fields) - set(props)):
        problems.append(f"{path}{name}: field of {cls.__name__}, not in the schema")
    if set(node.get("required", [])) != set(props):
        problems.append(
            f"{path or '<root>'}: the schema does not require every key (the worker gets the effective config)"
        )
    if node.get("additionalProperties") is not False:
        problems.append(f"{path or '<root>'}: the schema allows unknown keys; the worker does not")
    for name in sorted(set(props) & set(fields)):
        key, sub = f"{path}{name}", props[name]
        nullable, alts = type_args(hints[name])
        schema_nullable = any(o.get("type") == "null" for o in options(sub))
        if nullable != schema_nullable:
            problems.append(f"{key}: nullable {nullable} in {cls.__name__}, {schema_nullable} in the schema")
        literals = [a for a in alts if typing.get_origin(a) is Literal]
        if literals:
            mine = {v for a in literals for v in typing.get_args(a)}
            theirs = literal_values(sub)
            if theirs is not None and len(literals) == len(alts) and mine != theirs:
                problems.append(
                    f"{key}: values {sorted(map(str, mine))} in {cls.__name__}, {sorted(map(str, theirs))} in the schema"
                )
            elif theirs is None and not any(
                o.get("const") in mine or set(o.get("enum", [])) == mine for o in options(sub)
            ):
                problems.append(f"{key}: Literal {sorted(map(str, mine))} not in the schema")
        nested = [a for a in alts if dataclasses.is_dataclass(a)]
        if nested:
            objects = [o for o in options(sub) if o.get("type") == "object"]
            if not objects:
                problems.append(f"{key}: a section in {cls.__name__}, not an object in the schema")
            else:
                problems += mismatches(nested[0], objects[0], f"{key}.")
        elif any(o.get("type") == "object" and "properties" in o for o in options(sub)):
            problems.append(f"{key}: an object in the schema, not a section in {cls.__name__}")
    return problems


def test_every_schema_property_has_a_field_and_vice_versa():
    assert mismatches(ExperimentConfig, schema()) == []


def test_the_check_sees_a_missing_field():
    """The walk is not vacuous: drop a property from the schema and a field from a section."""
    broken = schema()
    del broken["properties"]["energy"]["properties"]["pue"]
    broken["properties"]["energy"]["required"].remove("pue")
    broken["properties"]["seed"] = {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    broken["properties"]["batching"]["properties"]["strategy"]["enum"] = ["fixed"]
    assert mismatches(ExperimentConfig, broken) == [
        "batching.strategy: values ['adaptive', 'fixed'] in BatchingConfig, ['fixed'] in the schema",
        "energy.pue: field of EnergyConfig, not in the schema",
        "seed: nullable False in ExperimentConfig, True in the schema",
    ]


def test_the_packaged_schema_is_the_contracts():
    """`npm run contract` writes both; the worker validates against the packaged copy."""
    assert json.loads(contract_schema.SCHEMA_FILE.read_text()) == schema()


def fixture() -> dict[str, Any]:
    return json.loads((FIXTURES / "experiment-minimal-greedy.json").read_text())


def test_the_worker_applies_rules_only_the_schema_has():
    data = fixture()
    data["launch"]["slurm"]["mem"] = "lots"  # the dataclass takes any string; the schema a size
    with pytest.raises(
        BadConfigError, match=r"^launch\.slurm\.mem: 'lots' does not match .*contract/experiment\.schema\.json"
    ) as info:
        ExperimentConfig.from_dict(data)
    assert info.value.exit_code == 3
    data["retry"]["max_retries"] = 1000
    with pytest.raises(
        BadConfigError, match=r"and 1 more: retry\.max_retries: 1000 is greater than the maximum of 100"
    ):
        ExperimentConfig.from_dict(data)


@pytest.fixture
def no_jsonschema(monkeypatch):
    """jsonschema absent, as on a bare GPU machine: the import fails (a fault we cannot cause here)."""
    monkeypatch.setitem(sys.modules, "jsonschema", None)
    contract_schema._validator.cache_clear()
    monkeypatch.setattr(contract_schema, "_warned", [])
    yield
    contract_schema._validator.cache_clear()


def test_without_jsonschema_the_dataclasses_still_check_and_one_warning_says_so(no_jsonschema, caplog, monkeypatch):
    monkeypatch.delenv(contract_schema.REQUIRE_ENV, raising=False)
    data = fixture()
    data["launch"]["slurm"]["mem"] = "lots"
    with caplog.at_level(logging.WARNING, logger="joules_worker.contract_schema"):
        ExperimentConfig.from_dict(data)  # only the schema would refuse it
        ExperimentConfig.from_dict(data)
    assert [r.getMessage() for r in caplog.records] == [
        "jsonschema is not installed: the experiment is checked by the worker's dataclasses only"
    ]
    data["batch_size"] = 0
    with pytest.raises(BadConfigError, match="^batch_size: must be > 0"):
        ExperimentConfig.from_dict(data)


def test_without_jsonschema_it_can_be_required(no_jsonschema, monkeypatch):
    monkeypatch.setenv(contract_schema.REQUIRE_ENV, "1")
    with pytest.raises(UnsupportedError, match="JOULES_WORKER_REQUIRE_SCHEMA is set but jsonschema is not installed"):
        ExperimentConfig.from_dict(fixture())
