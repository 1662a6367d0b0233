"""What the worker's loader checks in an experiment JSON (contract/README.md): every key present, no
unknown key, the types (the generated dataclasses), and the enums, ranges and patterns of
contract/experiment.schema.json. Each refusal names the field's dotted path. The cross-field rules
are @joules/config's only."""

import copy
import dataclasses
import json
import logging
import subprocess
import sys

import pytest
from conftest import CONTRACT, FIXTURES

from joules_worker import schema_validation
from joules_worker.config import ExperimentConfig, load_experiment, parse_experiment
from joules_worker.errors import BadConfigError, UnsupportedError

EXPERIMENTS = sorted(FIXTURES.glob("experiment-*.json"))


def fixture(name: str = "minimal-greedy") -> dict:
    return json.loads((FIXTURES / f"experiment-{name}.json").read_text())


def test_fixtures_exist():
    assert len(EXPERIMENTS) >= 4


def test_fixtures_are_v2_with_every_key():
    for path in EXPERIMENTS:
        data = json.loads(path.read_text())
        assert set(data) == {f.name for f in dataclasses.fields(ExperimentConfig)}, path
        assert set(data["model"]) >= {"revision", "quantization", "attn_implementation"}


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_valid_fixtures_load(path):
    config = load_experiment(path)
    assert dataclasses.asdict(config) == json.loads(path.read_text())


def test_the_packaged_schema_is_the_contracts():
    """`npm run contract` writes both; the worker validates against the packaged copy."""
    assert json.loads(schema_validation.SCHEMA_FILE.read_text()) == json.loads(
        (CONTRACT / "experiment.schema.json").read_text()
    )


def bad(mutate, match):
    data = copy.deepcopy(fixture())
    mutate(data)
    with pytest.raises(BadConfigError, match=match) as info:
        parse_experiment(data)
    assert info.value.exit_code == 3 and info.value.kind == "bad_config"


def test_unknown_keys():
    bad(lambda d: d.update(max_new_tokens=3), r"^max_new_tokens: unknown key \(known keys: batch_size, ")
    bad(lambda d: d["decoding"].update(beams=2), r"^decoding\.beams: unknown key")
    bad(lambda d: d["launch"]["slurm"].update(node=2), r"^launch\.slurm\.node: unknown key")


def test_missing_keys():
    bad(lambda d: d.pop("seed"), r"^seed: missing \(the worker expects the effective config")
    bad(lambda d: d["launch"]["slurm"].pop("qos"), r"^launch\.slurm\.qos: missing")
    bad(lambda d: d["launch"].pop("machines"), r"^launch\.machines: missing")


def test_types():
    bad(lambda d: d.update(batch_size="4"), r"^batch_size: expected int, got str")
    bad(lambda d: d.update(seed=True), r"^seed: expected int")  # a bool is not an int
    bad(lambda d: d.update(num_input_prompts=2.5), r"^num_input_prompts: expected int")
    bad(lambda d: d["energy"].update(measure_power_secs=float("nan")), r"^energy\.measure_power_secs: must be a finite")
    bad(lambda d: d["retry"].update(halve_batch_on_oom="yes"), r"^retry\.halve_batch_on_oom: expected bool")
    bad(lambda d: d["launch"]["slurm"].update(time_limit=1.5), r"^launch\.slurm\.time_limit: expected int or str")
    bad(lambda d: d["launch"]["slurm"].update(extra_args="--exclusive"), r"^launch\.slurm\.extra_args: expected a list")
    bad(lambda d: d.update(gpu_ids=[0, "1"]), r"^gpu_ids\[1\]: expected int, got str")
    bad(lambda d: d["server"].update(extra_body=[1]), r"^server\.extra_body: expected an object")
    bad(lambda d: d.update(model=None), r"^model: expected an object, got null")


def test_enums():
    bad(lambda d: d.update(precision="int8"), r"^precision: expected one of 'fp32', 'fp16', 'bf16'")
    bad(lambda d: d["energy"].update(backend="joulescope"), r"^energy\.backend: expected one of 'auto', 'nvml'")
    bad(lambda d: d.update(warmup_iterations="fast"), r"^warmup_iterations: expected int or 'auto', got str 'fast'")


def test_ranges_and_patterns_are_the_schemas():
    schema = r".*\(contract/experiment\.schema\.json\)"
    bad(
        lambda d: d.update(max_input_tokens=0),
        r"^max_input_tokens: 0 is less than or equal to the minimum of 0" + schema,
    )
    bad(lambda d: d.update(warmup_iterations=101), r"^warmup_iterations: 101 is greater than the maximum of 100")
    bad(lambda d: d["energy"].update(pue=0.9), r"^energy\.pue: 0\.9 is less than the minimum of 1")
    bad(lambda d: d["launch"].update(timeout_s=-5), r"^launch\.timeout_s: -5 is less than or equal to the minimum of 0")
    bad(lambda d: d["launch"]["slurm"].update(mem="lots"), r"^launch\.slurm\.mem: 'lots' does not match")
    bad(lambda d: d.update(config_name="a b"), r"^config_name: 'a b' does not match")


def test_every_schema_violation_is_named():
    data = fixture()
    data["launch"]["slurm"]["mem"] = "lots"
    data["retry"]["max_retries"] = 1000
    with pytest.raises(
        BadConfigError, match=r"and 1 more: retry\.max_retries: 1000 is greater than the maximum of 100"
    ):
        parse_experiment(data)


def test_cross_field_rules_are_left_to_joules_config():
    """What the schema allows loads: these are refused by @joules/config before the worker starts."""
    data = fixture()
    data.update(min_output_tokens=17, max_output_tokens=16)
    data["decoding"].update(temperature=0.7)  # with mode "greedy"
    data["dataset"].update(source="file")  # without a path
    config = parse_experiment(data)
    assert (config.min_output_tokens, config.decoding.temperature, config.dataset.path) == (17, 0.7, None)


def test_not_an_object():
    with pytest.raises(BadConfigError, match="^<root>: expected an object"):
        parse_experiment([1, 2])


def test_unreadable_file(tmp_path):
    with pytest.raises(BadConfigError, match="cannot read"):
        load_experiment(tmp_path / "nope.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(BadConfigError, match="not valid JSON"):
        load_experiment(tmp_path / "broken.json")


def test_config_import_does_not_import_torch():
    code = "import sys, joules_worker, joules_worker.config, joules_worker.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.fixture
def no_jsonschema(monkeypatch):
    """jsonschema absent, as on a bare GPU machine: the import fails (a fault we cannot cause here)."""
    monkeypatch.setitem(sys.modules, "jsonschema", None)
    schema_validation._validator.cache_clear()
    monkeypatch.setattr(schema_validation, "_warned", [])
    yield
    schema_validation._validator.cache_clear()


def test_without_jsonschema_keys_and_types_are_still_checked_and_one_warning_says_so(
    no_jsonschema, caplog, monkeypatch
):
    monkeypatch.delenv(schema_validation.REQUIRE_ENV, raising=False)
    data = fixture()
    data["launch"]["slurm"]["mem"] = "lots"
    with caplog.at_level(logging.WARNING, logger="joules_worker.schema_validation"):
        parse_experiment(data)  # only the schema would refuse it
        parse_experiment(data)
    assert [r.getMessage() for r in caplog.records] == [
        "jsonschema is not installed: the experiment is checked for its keys and types only"
    ]
    data["batch_size"] = "4"
    with pytest.raises(BadConfigError, match="^batch_size: expected int"):
        parse_experiment(data)


def test_without_jsonschema_it_can_be_required(no_jsonschema, monkeypatch):
    monkeypatch.setenv(schema_validation.REQUIRE_ENV, "1")
    with pytest.raises(UnsupportedError, match="JOULES_WORKER_REQUIRE_SCHEMA is set but jsonschema is not installed"):
        parse_experiment(fixture())
