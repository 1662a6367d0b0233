"""Issue 23 without a server: each prompt's answer length (drawn, or its dataset answer's, capped),
how a request is held to it, the shared prefixes of the prompt plan, and the transformers engine
generating each prompt to its drawn input and output lengths (batch_size 1)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from _helpers import run_in_process

from joules_worker.config import parse_experiment
from joules_worker.engines.server.prompt_plan import input_counter, plan_for
from joules_worker.errors import BadConfigError
from joules_worker.workloads.distributions import draw
from joules_worker.workloads.output_lengths import enforcement, output_lengths, own_fields


def Lengths(output=None, enforce="auto"):  # noqa: N802 - the config section's shape
    return SimpleNamespace(input=None, output=output, enforce=enforce, seed=None)


def Output5(**params):  # noqa: N802
    return SimpleNamespace(**({"cap": None} | params))


def Output1(**params):  # noqa: N802
    return SimpleNamespace(**({"min": None, "max": None} | params))


def _config(output, max_output_tokens=50):
    return SimpleNamespace(lengths=Lengths(output=output), max_output_tokens=max_output_tokens, seed=3)


def test_dataset_answer_lengths_are_capped_and_missing_answers_get_the_cap():
    words = {"a b c": 3, "x" * 0: 0, "long " * 80: 80}

    def count(texts):
        return [words.get(t, len(t.split())) for t in texts]

    got = output_lengths(_config(Output5(distribution="dataset", cap=40)), 4, ["a b c", "", "long " * 80, None], count)
    assert got.lengths == [3, 1, 40, 40] and got.missing == 1  # an empty answer still asks for 1 token
    uncapped = output_lengths(_config(Output5(distribution="dataset"), 30), 1, ["long " * 80], count)
    assert uncapped.lengths == [30]  # max_output_tokens caps too
    assert output_lengths(_config(None), 2, [None, None], count) is None


def test_drawn_answer_lengths_are_seeded_and_capped():
    spec = Output1(distribution="uniform", mean=40, range_ratio=0.5)
    got = output_lengths(_config(spec, 50), 100, [None] * 100, len)
    assert got.lengths == [min(v, 50) for v in draw(spec, 100, 3, "lengths.output")]
    assert max(got.lengths) == 50 and min(got.lengths) >= 20


def test_enforcement_and_own_fields():
    drawn = Lengths(output=Output1(distribution="uniform", mean=8, range_ratio=0.5))
    assert enforcement(Lengths(), "vllm") is None
    assert enforcement(drawn, "vllm") == "min_tokens" and enforcement(drawn, "openai") == "none"
    ignore = Lengths(output=drawn.output, enforce="ignore_eos")
    assert enforcement(ignore, "vllm") == "ignore_eos"
    with pytest.raises(BadConfigError, match=r"^lengths.enforce: ignore_eos is a vLLM request field"):
        enforcement(ignore, "openai")
    assert own_fields("min_tokens", 12, 4, "vllm") == {"min_tokens": 12}
    assert own_fields("ignore_eos", 3, 4, "vllm") == {"ignore_eos": True, "min_tokens": 3}
    assert own_fields("none", 12, 4, "vllm") == {"min_tokens": 4}
    assert own_fields("none", 12, 0, "openai") == {} and own_fields(None, 12, 4, "vllm") == {}


def test_the_prompt_plan_rotates_shared_prefixes_and_builds_suffixes_to_length(tiny, tiny_model_dir):
    from conftest import base_experiment

    tokenizer = tiny[1]
    data = base_experiment(str(tiny_model_dir))
    data["engine"] = "server"
    data["server"].update(url="http://127.0.0.1:1", devices=[])
    data["load"].update(num_requests=10, concurrency=2, shared_prefix_tokens=32, shared_prefix_count=3)
    data["lengths"]["input"] = {"distribution": "uniform", "mean": 20, "range_ratio": 0.5, "min": None, "max": None}
    data.update(num_input_prompts=12, max_input_tokens=64)
    config = parse_experiment(data)
    plan = plan_for(config, tokenizer, None, "completions")
    prefixes = [p[: p.index("\n\n") + 2] for p in plan.prompts]
    assert len(set(prefixes)) == 3 and all(prefixes[j] == prefixes[j % 3] for j in range(12))

    def alone(texts):
        return [len(r) for r in tokenizer(texts, add_special_tokens=False)["input_ids"]]

    assert alone([p[:-2] for p in prefixes[:3]]) == [32, 32, 32]
    count = input_counter(tokenizer, "completions")
    drawn = draw(config.lengths.input, 12, config.seed, "lengths.input")
    assert plan.drawn_input == drawn
    assert plan.lengths == [count([prefixes[j]])[0] + drawn[j] for j in range(12)]


def test_transformers_engine_generates_each_prompt_to_its_drawn_lengths(tmp_path, tiny_model_dir):
    from conftest import base_experiment

    exp = base_experiment(str(tiny_model_dir))
    uniform = {"distribution": "uniform", "min": None, "max": None}
    exp["lengths"].update(
        input={**uniform, "mean": 24, "range_ratio": 0.5}, output={**uniform, "mean": 10, "range_ratio": 0.5}, seed=5
    )
    exp.update(num_input_prompts=6, batch_size=1, max_input_tokens=64, max_output_tokens=16)
    config = parse_experiment(exp)
    data, _ = run_in_process(exp, tmp_path)
    want_in = draw(config.lengths.input, 6, 5, "lengths.input")
    want_out = draw(config.lengths.output, 6, 5, "lengths.output")
    assert [b["input_tokens"] for b in data["batches"]] == want_in
    assert [b["output_tokens"] for b in data["batches"]] == want_out
    assert len(set(want_out)) > 1 and json.dumps(data)  # lengths differ per prompt
