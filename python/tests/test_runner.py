"""The runner in-process on the tiny model: the measurement it writes and the events it emits."""

import math

import pytest

from _helpers import run_in_process, schema_errors
from joules_worker.errors import DatasetError, ModelNotFoundError


@pytest.fixture(scope="module")
def greedy_run(tmp_path_factory, tiny_model_dir):
    from conftest import base_experiment

    exp = base_experiment(str(tiny_model_dir))
    exp.update(num_input_prompts=6, save_outputs=True)
    return run_in_process(exp, tmp_path_factory.mktemp("greedy"))


def test_measurement_validates(greedy_run, raw_validator):
    data, _ = greedy_run
    assert schema_errors(raw_validator, data) == []


def test_events_validate_and_follow_the_stages(greedy_run, event_validator):
    _, events = greedy_run
    for event in events:
        assert schema_errors(event_validator, event) == [], event
    stages = [e["stage"] for e in events if e["event"] == "stage"]
    assert stages == ["loading_model", "loading_prompts", "warmup", "measuring", "writing"]
    assert [(e["i"], e["n"]) for e in events if e["event"] == "warmup"] == [(1, 1)]
    assert [(e["i"], e["n"], e["size"]) for e in events if e["event"] == "batch"] == [(1, 2, 4), (2, 2, 2)]
    assert events[-1]["event"] == "result"


def test_tokens_batches_and_flops_add_up(greedy_run):
    data, _ = greedy_run
    batches = data["batches"]
    assert data["tokens"] == {
        "num_prompts": 6,
        "input_tokens": sum(b["input_tokens"] for b in batches),
        "output_tokens": sum(b["output_tokens"] for b in batches),
    }
    for b in batches:
        assert b["input_tokens"] <= b["size"] * b["padded_input_length"]
        assert b["output_tokens"] <= b["size"] * b["generated_steps"] <= b["size"] * 8
    flops = data["flops"]
    assert flops["method"] == "analytic" and flops["total"] == flops["prefill"] + flops["decode"] > 0
    assert data["window"]["duration_s"] >= sum(b["latency_s"] for b in batches) * 0.9


def test_model_memory_energy_environment_blocks(greedy_run):
    data, _ = greedy_run
    assert data["model"]["num_parameters"] == 210240
    assert data["model"]["num_embedding_parameters"] == 64000
    assert data["model"]["dtype"] == "float32" and data["model"]["architecture"] == "LlamaForCausalLM"
    assert data["memory"]["kind"] in ("rss_peak", "rss_lifetime_peak") and data["memory"]["peak_bytes"] > 0
    assert data["energy"]["backend"] == "none" and data["energy"]["readings"] == []
    assert data["device"] == {"type": "cpu", "id": "cpu", "name": data["device"]["name"], "uuid": None}
    assert {"python", "torch", "transformers", "accelerate", "codecarbon", "platform", "cuda"} <= set(data["environment"])


def test_outputs_are_the_first_prompts_that_fit(greedy_run, tiny):
    data, _ = greedy_run
    _, tokenizer = tiny
    from joules_worker.config import DatasetConfig
    from joules_worker.prompts import load_prompts

    fitting = [p for p in load_prompts(DatasetConfig()) if len(tokenizer(p)["input_ids"]) <= 128]
    assert len(data["outputs"]["prompts"]) == len(data["outputs"]["texts"]) == 6
    assert data["outputs"]["prompts"] == fitting[:6]


def run_texts(experiment, tmp_path, name):
    data, _ = run_in_process(experiment, tmp_path / name)
    return data["outputs"]["texts"]


def test_greedy_is_deterministic_sampling_follows_the_seed(experiment, tmp_path):
    experiment.update(num_input_prompts=4, warmup_iterations=0, save_outputs=True, max_output_tokens=12, min_output_tokens=12)
    greedy = [run_texts(experiment, tmp_path, f"g{i}") for i in range(2)]
    assert greedy[0] == greedy[1]

    experiment["decoding"] = {"mode": "sampling", "temperature": 1.0, "top_k": None, "top_p": None}
    seed0 = run_texts(experiment, tmp_path, "s0")
    assert run_texts(experiment, tmp_path, "s0-again") == seed0
    experiment["seed"] = 1
    seed1 = run_texts(experiment, tmp_path, "s1")
    assert seed1 != seed0
    assert seed0 != greedy[0]


def test_fewer_prompts_than_batch_and_min_tokens(experiment, tmp_path):
    experiment.update(num_input_prompts=3, batch_size=8, min_output_tokens=8, max_output_tokens=8)
    data, _ = run_in_process(experiment, tmp_path)
    assert [b["size"] for b in data["batches"]] == [3]
    assert data["tokens"]["output_tokens"] == 3 * 8


def test_zero_warmup(experiment, tmp_path):
    experiment.update(warmup_iterations=0)
    _, events = run_in_process(experiment, tmp_path)
    assert not [e for e in events if e["event"] == "warmup"]


def test_no_prompt_fits(experiment, tmp_path):
    experiment.update(max_input_tokens=1)
    with pytest.raises(DatasetError, match="no prompt fits"):
        run_in_process(experiment, tmp_path)


def test_missing_model(experiment, tmp_path):
    experiment.update(model_name=str(tmp_path / "missing"))
    with pytest.raises(ModelNotFoundError, match="missing"):
        run_in_process(experiment, tmp_path)


def test_folder_without_a_model(experiment, tmp_path):
    experiment.update(model_name=str(tmp_path))
    with pytest.raises(ModelNotFoundError):
        run_in_process(experiment, tmp_path)


def test_numbers_are_finite(greedy_run):
    data, _ = greedy_run

    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        elif isinstance(x, float):
            assert math.isfinite(x)

    walk(data)
