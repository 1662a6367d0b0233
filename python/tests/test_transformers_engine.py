"""The transformers engine in-process on the tiny model: the measurement it writes and the events it emits."""

import json
import math

import pytest
from _helpers import run_in_process, schema_errors

from joules_worker.errors import BadConfigError, DatasetError, ModelNotFoundError, UnsupportedError


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
    assert flops["method"] == "flop_counter" and flops["total"] == flops["prefill"] + flops["decode"] > 0
    assert flops["quantized"] is False and 0.5 < flops["analytic_2nt"] / flops["total"] < 1.5
    assert data["window"]["duration_s"] >= sum(b["latency_s"] for b in batches) * 0.9
    for b in batches:
        assert 0 < b["ttft_s"] <= b["latency_s"] and b["delay_before_s"] == 0


def test_model_memory_energy_environment_blocks(greedy_run):
    data, _ = greedy_run
    assert data["model"]["num_parameters"] == 210240
    assert data["model"]["num_embedding_parameters"] == 64000
    assert data["model"]["dtype"] == "float32" and data["model"]["architecture"] == "LlamaForCausalLM"
    assert data["memory"]["kind"] in ("rss_peak", "rss_lifetime_peak") and data["memory"]["peak_bytes"] > 0
    energy = data["energy"]
    assert energy["backend"] == "none" and energy["readings"] == []
    assert (energy["samples"], energy["idle"], energy["timeseries_file"], energy["throttling"]) == (
        None,
        None,
        None,
        None,
    )
    assert data["device"] == {"type": "cpu", "id": "cpu", "name": data["device"]["name"], "uuid": None}
    environment = data["environment"]
    assert {"python", "torch", "transformers", "accelerate", "codecarbon", "platform", "cuda"} <= set(environment)
    assert environment["git_commit"] is None or len(environment["git_commit"]) == 40
    assert environment["gpus"] == [] and environment["host"] == data["host"]
    assert environment["dataset"]["source"] == "builtin" and len(environment["dataset"]["sha256"]) == 64
    assert set(environment["energy_backend_versions"]) == {"nvml", "zeus", "codecarbon"}


def test_outputs_are_the_first_prompts_that_fit(greedy_run, tiny):
    data, _ = greedy_run
    _, tokenizer = tiny
    from joules_worker.config import DatasetConfig
    from joules_worker.prompts import load_prompts

    fitting = [p for p in load_prompts(DatasetConfig()) if len(tokenizer(p)["input_ids"]) <= 128]
    assert len(data["outputs"]["prompts"]) == len(data["outputs"]["texts"]) == 6
    assert data["outputs"]["prompts"] == fitting[:6]


def test_adaptive_batches_sorted_prompts_and_traffic_outside_the_window(experiment, tmp_path, tiny):
    _, tokenizer = tiny
    experiment.update(
        num_input_prompts=10,
        batch_size=4,
        max_output_tokens=4,
        prompt_ordering="sorted_by_length",
        batching={"strategy": "adaptive", "max_tokens_per_batch": 120},
        save_outputs=True,
        save_token_ids=True,
        traffic={
            "delay_min_ms": 100,
            "delay_max_ms": 150,
            "burst_size": 2,
            "burst_interval_ms": 100,
            "inside_energy_window": False,
        },
        warmup_iterations="auto",
    )
    data, events = run_in_process(experiment, tmp_path)
    batches = data["batches"]
    prompts = data["outputs"]["prompts"]
    lengths = [len(tokenizer(p)["input_ids"]) for p in prompts]
    assert lengths == sorted(lengths, reverse=True)  # adaptive: longest first
    at = 0
    for b in batches:
        assert b["size"] <= 4 and b["size"] * (b["padded_input_length"] + 4) <= 120 or b["size"] == 1
        assert b["padded_input_length"] == max(lengths[at : at + b["size"]])
        at += b["size"]
    assert at == 10
    delays = [b["delay_before_s"] for b in batches]
    assert all(d >= 0.1 for d in delays) and delays[2] >= 0.2  # a new burst starts at the third batch
    window = data["window"]
    waits = sum(delays)
    assert window["duration_s"] == pytest.approx(window["end_unix_s"] - window["start_unix_s"] - waits, abs=0.05)
    assert window["duration_s"] >= sum(b["latency_s"] for b in batches) * 0.9
    assert [(e["i"], e["n"]) for e in events if e["event"] == "warmup"] == [(1, 2), (2, 2)]  # "auto" below 1e9 params
    rows = [json.loads(line) for line in (tmp_path / "token-ids-rank-0.jsonl").read_text().splitlines()]
    assert [r["prompt"] for r in rows] == prompts
    assert tokenizer.batch_decode([r["token_ids"] for r in rows], skip_special_tokens=True) == data["outputs"]["texts"]


def test_traffic_inside_the_window_counts_the_waits(experiment, tmp_path):
    experiment.update(
        num_input_prompts=4,
        batch_size=2,
        max_output_tokens=2,
        warmup_iterations=0,
        traffic={
            "delay_min_ms": 150,
            "delay_max_ms": 150,
            "burst_size": None,
            "burst_interval_ms": None,
            "inside_energy_window": True,
        },
    )
    data, _ = run_in_process(experiment, tmp_path)
    window = data["window"]
    assert window["duration_s"] == pytest.approx(window["end_unix_s"] - window["start_unix_s"], abs=1e-6)
    assert window["duration_s"] >= 0.3


def test_nvml_backend_end_to_end_on_a_faked_gpu(experiment, tmp_path, fake_nvml, monkeypatch, raw_validator):
    """gpu_ids name a (faked) GPU that the energy backend reads while the model runs on the CPU."""
    monkeypatch.setenv("JOULES_WORKER_CPU_WITH_GPU_IDS", "1")
    fake_nvml.configure(devices=[{"uuid": "GPU-fake-0", "name": "NVIDIA H200", "power_w": 250.0, "throttle": 0x4}])
    experiment.update(gpu_ids=[0], num_input_prompts=4, warmup_iterations=0)
    experiment["energy"].update(backend="nvml", idle_baseline_s=0.2, measure_power_secs=0.05)
    data, _ = run_in_process(experiment, tmp_path)
    assert schema_errors(raw_validator, data) == []
    energy = data["energy"]
    (reading,) = energy["readings"]
    host = data["host"]
    assert reading["device_id"] == f"{host}/gpu/GPU-fake-0" and energy["method"] == "counter"
    duration = energy["end_unix_s"] - energy["start_unix_s"]
    assert reading["energy_j"] == pytest.approx(250.0 * duration, rel=0.05)
    assert reading["idle_power_w"] == pytest.approx(250.0, rel=0.05)
    assert energy["idle"]["cached"] is False and energy["idle"]["duration_s"] >= 0.2
    assert energy["throttling"] == {"observed": True, "reasons": ["sw_power_cap"]}
    assert energy["timeseries_file"] == "timeseries-rank-0.jsonl"
    rows = [json.loads(line) for line in (tmp_path / "timeseries-rank-0.jsonl").read_text().splitlines()]
    assert len(rows) == energy["samples"] >= 2 and rows[0]["power_w"] == 250.0
    assert data["environment"]["gpus"][0]["name"] == "NVIDIA H200" and data["environment"]["gpu_driver"]


def test_auto_backend_on_a_fake_rapl_tree_with_idle_baseline(experiment, tmp_path, monkeypatch):
    root = tmp_path / "powercap" / "intel-rapl:0"
    root.mkdir(parents=True)
    (root / "name").write_text("package-0")
    (root / "energy_uj").write_text("1000")
    (root / "max_energy_range_uj").write_text(str(2**32 - 1))
    monkeypatch.setenv("JOULES_POWERCAP_ROOT", str(tmp_path / "powercap"))
    experiment.update(num_input_prompts=2, warmup_iterations=0)
    experiment["energy"].update(backend="auto", idle_baseline_s=0.1)
    data, _ = run_in_process(experiment, tmp_path / "out")
    energy = data["energy"]
    assert energy["backend"] == "rapl" and energy["method"] == "counter"
    assert "auto chose rapl (nvml skipped: no gpu_ids)" in energy["note"]
    assert [r["device_id"] for r in energy["readings"]] == [f"{data['host']}/cpu/package-0"]
    assert (
        energy["readings"][0]["idle_power_w"] == 0.0 and energy["idle"]["cached"] is False
    )  # a counter that never moves


def test_unsupported_options(experiment, tmp_path):
    experiment.update(num_processes=2)
    experiment["sharding"]["strategy"] = "fsdp"
    with pytest.raises(UnsupportedError, match="fsdp"):
        run_in_process(experiment, tmp_path)


def test_quantization_without_bitsandbytes_is_unsupported(tiny_model_dir):
    import torch

    from joules_worker.config import ModelConfig
    from joules_worker.engines.transformers.model_loading import load_model

    with pytest.raises(
        UnsupportedError, match="model.quantization 'int8' needs bitsandbytes, which is not installed"
    ) as info:
        load_model(str(tiny_model_dir), ModelConfig(quantization="int8"), "fp16", torch.device("cpu"))
    assert info.value.exit_code == 8


def test_decoder_only_model_declared_encoder_decoder(experiment, tmp_path):
    experiment["model"]["is_encoder_decoder"] = True
    with pytest.raises(BadConfigError, match="model.is_encoder_decoder: .* is a decoder-only model; set it to false"):
        run_in_process(experiment, tmp_path)


def run_texts(experiment, tmp_path, name):
    data, _ = run_in_process(experiment, tmp_path / name)
    return data["outputs"]["texts"]


def test_greedy_is_deterministic_sampling_follows_the_seed(experiment, tmp_path):
    experiment.update(
        num_input_prompts=4, warmup_iterations=0, save_outputs=True, max_output_tokens=12, min_output_tokens=12
    )
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


def test_auto_warmup_grows_with_the_parameters():
    from joules_worker.engines.transformers.experiment_run import resolve_warmup

    assert [resolve_warmup("auto", n) for n in (5e8, 9.9e9, 7e10)] == [2, 3, 5]
    assert resolve_warmup(0, 7e10) == 0


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
