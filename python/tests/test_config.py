import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from joules_worker.config import ExperimentConfig, load_experiment
from joules_worker.errors import BadConfigError

FIXTURES = Path(__file__).resolve().parents[2] / "contract" / "fixtures"
EXPERIMENTS = sorted(FIXTURES.glob("experiment-*.json"))


def fixture(name: str = "minimal-greedy") -> dict:
    return json.loads((FIXTURES / f"experiment-{name}.json").read_text())


def test_fixtures_exist():
    assert len(EXPERIMENTS) >= 3


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_valid_fixtures_load(path):
    config = load_experiment(path)
    assert config.to_dict() == json.loads(path.read_text())


def test_fixtures_match_the_experiment_schema():
    import jsonschema

    schema_path = FIXTURES.parent / "experiment.schema.json"
    assert schema_path.is_file(), f"{schema_path} is missing: generate it with `npm run contract`"
    validator = jsonschema.Draft202012Validator(json.loads(schema_path.read_text()))
    for path in EXPERIMENTS:
        assert not list(validator.iter_errors(json.loads(path.read_text()))), path


def bad(mutate, match):
    data = copy.deepcopy(fixture())
    mutate(data)
    with pytest.raises(BadConfigError, match=match) as info:
        ExperimentConfig.from_dict(data)
    assert info.value.exit_code == 3 and info.value.kind == "bad_config"


def test_unknown_key():
    bad(lambda d: d.update(max_new_tokens=3), r"^max_new_tokens: unknown key")


def test_unknown_nested_key():
    bad(lambda d: d["decoding"].update(beams=2), r"^decoding\.beams: unknown key")


def test_missing_key():
    bad(lambda d: d.pop("seed"), r"^seed: missing")


def test_wrong_type():
    bad(lambda d: d.update(batch_size="4"), r"^batch_size: expected int, got str")


def test_bool_is_not_an_int():
    bad(lambda d: d.update(seed=True), r"^seed: expected int")


def test_float_for_int():
    bad(lambda d: d.update(num_input_prompts=2.5), r"^num_input_prompts: expected int")


def test_non_finite_float():
    bad(lambda d: d["energy"].update(measure_power_secs=float("nan")), r"^energy\.measure_power_secs: must be a finite")


def test_literal():
    bad(lambda d: d.update(precision="int8"), r"^precision: expected one of 'fp32', 'fp16', 'bf16'")


def test_min_above_max():
    bad(lambda d: d.update(min_output_tokens=17, max_output_tokens=16), r"^min_output_tokens: must be <= max_output_tokens")


def test_temperature_with_greedy():
    bad(lambda d: d["decoding"].update(temperature=0.7), r'^decoding\.temperature: only valid when decoding\.mode is "sampling"')


def test_file_source_needs_path():
    bad(lambda d: d["dataset"].update(source="file"), r"^dataset\.path: required")


def test_gpu_fit():
    bad(lambda d: d.update(num_processes=2, gpu_ids=[0]), r"^num_processes: 2 processes do not fit 1 GPU")


def test_non_positive():
    bad(lambda d: d.update(max_input_tokens=0), r"^max_input_tokens: must be > 0")


def test_not_an_object():
    with pytest.raises(BadConfigError, match="expected an object"):
        ExperimentConfig.from_dict([1, 2])


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
