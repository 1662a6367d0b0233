import copy
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from joules_worker.config import ExperimentConfig, load_experiment, resolve_warmup
from joules_worker.errors import BadConfigError

FIXTURES = Path(__file__).resolve().parents[2] / "contract" / "fixtures"
EXPERIMENTS = sorted(FIXTURES.glob("experiment-*.json"))


def fixture(name: str = "minimal-greedy") -> dict:
    return json.loads((FIXTURES / f"experiment-{name}.json").read_text())


def test_fixtures_exist():
    assert len(EXPERIMENTS) >= 4


def test_fixtures_are_v2_with_every_key():
    for path in EXPERIMENTS:
        data = json.loads(path.read_text())
        assert set(data) == {f for f in ExperimentConfig.__dataclass_fields__}, path
        assert set(data["model"]) >= {"revision", "quantization", "attn_implementation"}


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
    bad(
        lambda d: d.update(min_output_tokens=17, max_output_tokens=16),
        r"^min_output_tokens: must be <= max_output_tokens",
    )


def test_temperature_with_greedy():
    bad(
        lambda d: d["decoding"].update(temperature=0.7),
        r'^decoding\.temperature: only valid when decoding\.mode is "sampling"',
    )


def test_file_source_needs_path():
    bad(lambda d: d["dataset"].update(source="file"), r"^dataset\.path: required")


def test_gpu_fit():
    bad(lambda d: d.update(num_processes=2, gpu_ids=[0]), r"^num_processes: 2 processes do not fit 1 GPU")


def test_non_positive():
    bad(lambda d: d.update(max_input_tokens=0), r"^max_input_tokens: must be > 0")


def test_adaptive_batching_needs_a_budget():
    bad(
        lambda d: d["batching"].update(strategy="adaptive"),
        r'^batching\.max_tokens_per_batch: required when strategy is "adaptive"',
    )
    bad(
        lambda d: d["batching"].update(max_tokens_per_batch=512),
        r'^batching\.max_tokens_per_batch: only valid when strategy is "adaptive"',
    )


def test_traffic_rules():
    bad(
        lambda d: d["traffic"].update(delay_min_ms=20, delay_max_ms=10),
        r"^traffic\.delay_max_ms: must be >= delay_min_ms",
    )
    bad(
        lambda d: d["traffic"].update(burst_size=4),
        r"^traffic\.burst_interval_ms: burst_size and burst_interval_ms go together",
    )
    bad(
        lambda d: d["traffic"].update(burst_interval_ms=100),
        r"^traffic\.burst_size: burst_size and burst_interval_ms go together",
    )


def test_gpu_only_options_need_gpu_ids():
    bad(lambda d: d["model"].update(quantization="int4"), r"^model\.quantization: int4 needs gpu_ids")
    bad(lambda d: d["energy"].update(backend="nvml"), r"^energy\.backend: nvml measures GPUs: it needs gpu_ids")
    bad(lambda d: d["energy"].update(backend="zeus"), r"^energy\.backend: zeus measures GPUs")


def test_fsdp_needs_several_processes():
    bad(lambda d: d["sharding"].update(strategy="fsdp"), r"^sharding\.strategy: fsdp needs num_processes > 1")


def test_energy_v2_ranges():
    bad(lambda d: d["energy"].update(pue=0.9), r"^energy\.pue: must be >= 1")
    bad(lambda d: d["energy"].update(idle_baseline_s=-1), r"^energy\.idle_baseline_s: must be >= 0")
    bad(lambda d: d["energy"].update(backend="joulescope"), r"^energy\.backend: expected one of 'auto', 'nvml'")


def test_warmup_auto():
    data = fixture()
    data["warmup_iterations"] = "auto"
    assert ExperimentConfig.from_dict(data).warmup_iterations == "auto"
    bad(lambda d: d.update(warmup_iterations="fast"), r"^warmup_iterations: expected int or 'auto', got str 'fast'")
    bad(lambda d: d.update(warmup_iterations=101), r"^warmup_iterations: must be in \[0, 100\]")
    assert [resolve_warmup("auto", n) for n in (5e8, 9.9e9, 7e10)] == [2, 3, 5]
    assert resolve_warmup(0, 7e10) == 0


def test_launch_and_retry_are_type_checked_only():
    data = fixture()
    data["launch"].update(launcher="./anything.mjs", timeout_s=5)
    data["retry"].update(max_retries=100)
    ExperimentConfig.from_dict(data)
    # their ranges are the contract schema's (the same rules as the TS side), not the dataclasses'
    bad(
        lambda d: d["launch"].update(timeout_s=-5),
        r"^launch\.timeout_s: -5 is less than or equal to the minimum of 0 .*contract/experiment\.schema\.json",
    )
    bad(lambda d: d["retry"].update(max_retries=1000), r"^retry\.max_retries: 1000 is greater than the maximum of 100")
    bad(lambda d: d["launch"].update(launcher=5), r"^launch\.launcher: expected str, got int")
    bad(lambda d: d["retry"].update(halve_batch_on_oom="yes"), r"^retry\.halve_batch_on_oom: expected bool")


def test_launch_slurm_is_type_checked_only():
    data = fixture()
    data["launch"]["slurm"].update(nodes=2, time_limit=90, extra_args=["--anything"])
    assert ExperimentConfig.from_dict(data).launch.slurm.time_limit == 90
    data["launch"]["slurm"].update(time_limit="1-12:00:00", mem="64G")
    slurm = ExperimentConfig.from_dict(data).launch.slurm
    assert (slurm.time_limit, slurm.mem, slurm.extra_args) == ("1-12:00:00", "64G", ["--anything"])
    bad(lambda d: d["launch"]["slurm"].update(nodes="2"), r"^launch\.slurm\.nodes: expected int, got str")
    bad(
        lambda d: d["launch"]["slurm"].update(time_limit=1.5),
        r"^launch\.slurm\.time_limit: expected int or str, got float",
    )
    bad(lambda d: d["launch"]["slurm"].update(extra_args="--exclusive"), r"^launch\.slurm\.extra_args: expected a list")
    bad(lambda d: d["launch"]["slurm"].update(node=2), r"^launch\.slurm\.node: unknown key")
    bad(lambda d: d["launch"]["slurm"].pop("qos"), r"^launch\.slurm\.qos: missing")
    bad(lambda d: d["launch"].pop("slurm"), r"^launch\.slurm: missing")


def test_launch_machines_is_type_checked_only():
    data = fixture()
    assert ExperimentConfig.from_dict(data).launch.machines.num_machines == 1
    data["launch"]["machines"].update(
        num_machines=2, machine_rank=5, main_process_ip="10.0.0.1", main_process_port=29500
    )
    machines = ExperimentConfig.from_dict(data).launch.machines  # ranges and rules: the TS side's
    assert (machines.machine_rank, machines.main_process_ip, machines.main_process_port) == (5, "10.0.0.1", 29500)
    bad(
        lambda d: d["launch"]["machines"].update(machine_rank="1"),
        r"^launch\.machines\.machine_rank: expected int, got str",
    )
    bad(
        lambda d: d["launch"]["machines"].update(main_process_port=29500.5),
        r"^launch\.machines\.main_process_port: expected int, got float",
    )
    bad(
        lambda d: d["launch"]["machines"].update(main_process_ip=10),
        r"^launch\.machines\.main_process_ip: expected str, got int",
    )
    bad(lambda d: d["launch"]["machines"].update(rank=1), r"^launch\.machines\.rank: unknown key")
    bad(lambda d: d["launch"].pop("machines"), r"^launch\.machines: missing")


def test_warnings_are_logged(caplog):
    data = fixture()
    data.update(precision="fp16")
    with caplog.at_level(logging.WARNING, logger="joules_worker.config"):
        ExperimentConfig.from_dict(data)
    assert "precision: fp16 on CPU is slow" in caplog.text


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
