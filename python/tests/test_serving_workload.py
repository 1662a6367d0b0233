"""The serving engine's prompts (issue 22, defect 1): each request a prompt of its own and the warm-up
apart by default, more requests than prompts an error naming both keys, reuse and a shared prefix
only when asked for, and the row's workload; token counts of the prompt each request sent (the
trace's nearest-length one) and through the chat template."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from _fake_openai import run_serving as run
from _fake_openai import serving_config

from joules_worker.errors import BadConfigError


def requests_of(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "requests-rank-0.jsonl").read_text().splitlines()]


def test_each_measured_request_gets_a_prompt_of_its_own_and_the_warm_up_others(tmp_path, tiny_model_dir, fake) -> None:
    url, handler = fake
    summary = run(serving_config(tiny_model_dir, url, num_requests=10, warmup_requests=2), tmp_path)
    assert len(handler.prompts) == 12
    assert len(set(handler.prompts)) == 12  # the old cycle sent the warm-up's two prompts again
    assert summary["prompt_reuse"] is False and summary["workload"] == "distinct"
    assert summary["prompts_ran_out"] is False


def test_more_requests_than_prompts_is_an_error_naming_both_keys(tmp_path, tiny_model_dir, fake) -> None:
    url, handler = fake
    config = serving_config(tiny_model_dir, url, num_requests=12, warmup_requests=2, top__num_input_prompts=8)
    with pytest.raises(BadConfigError, match=r"load.num_requests and num_input_prompts: .*load.prompt_reuse: true"):
        run(config, tmp_path)
    assert handler.prompts == []  # refused before anything was sent


def test_an_open_loop_schedule_longer_than_the_prompts_is_refused_too(tmp_path, tiny_model_dir, fake) -> None:
    url, _ = fake
    config = serving_config(
        tiny_model_dir, url, pattern="constant", concurrency=None, rate=100.0, num_requests=None, duration_s=1.0
    )
    with pytest.raises(BadConfigError, match=r"load.num_requests / load.duration_s and num_input_prompts: 100 "):
        run(config, tmp_path)


def test_prompt_reuse_cycles_and_the_row_says_so(tmp_path, tiny_model_dir, fake) -> None:
    url, handler = fake
    config = serving_config(tiny_model_dir, url, num_requests=12, prompt_reuse=True, top__num_input_prompts=8)
    summary = run(config, tmp_path)
    assert len(handler.prompts) == 14 and len(set(handler.prompts)) == 8
    assert summary["prompt_reuse"] is True and summary["workload"] == "reuse"


def test_a_shared_prefix_is_an_explicit_workload(tmp_path, tiny_model_dir, fake) -> None:
    url, handler = fake
    summary = run(serving_config(tiny_model_dir, url, shared_prefix_tokens=24), tmp_path)
    prefix = handler.prompts[0][: handler.prompts[0].index("\n\n") + 2]
    assert len(prefix) > 24 and all(p.startswith(prefix) for p in handler.prompts)
    assert len(set(handler.prompts)) == 12  # the rest differs
    assert summary["workload"] == "shared_prefix" and summary["shared_prefix_tokens"] == 24


def test_a_duration_bound_closed_loop_stops_when_the_prompts_run_out(tmp_path, tiny_model_dir, fake) -> None:
    url, handler = fake
    config = serving_config(
        tiny_model_dir,
        url,
        num_requests=None,
        duration_s=60.0,
        concurrency=1,
        warmup_requests=1,
        top__num_input_prompts=6,
    )
    summary = run(config, tmp_path)
    assert summary["num_requests"] == 5 and summary["prompts_ran_out"] is True
    assert len(set(handler.prompts)) == 6


def test_trace_requests_count_the_tokens_of_the_prompt_they_sent(tmp_path, tiny_model_dir, fake) -> None:
    """A trace picks the prompt nearest each arrival's input_tokens; counted tokens (no usage from the
    server) are that prompt's. The old count took prompts[index % P], another prompt."""
    from transformers import AutoTokenizer

    url, handler = fake
    trace = tmp_path / "trace.jsonl"
    trace.write_text("".join(json.dumps({"offset_s": i * 0.01, "input_tokens": 5 + 3 * i}) + "\n" for i in range(8)))
    config = serving_config(
        tiny_model_dir,
        url,
        pattern="trace",
        concurrency=None,
        num_requests=None,
        trace_file=str(trace),
        warmup_requests=1,
    )
    out = tmp_path / "out"
    run(config, out)
    tok = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    sent = [len(tok(p)["input_ids"]) for p in handler.prompts[1:]]
    assert sorted(r["input_tokens"] for r in requests_of(out)) == sorted(sent)
    assert len(set(handler.prompts)) == 9  # distinct: the nearest unused prompt


def test_chat_token_counts_go_through_the_chat_template(tmp_path, tiny_model_dir, fake) -> None:
    """server.api chat, a tokenizer with a chat template, a server sending no usage: the counted
    input is the templated conversation (as the server tokenizes it), not the bare prompt."""
    from transformers import AutoTokenizer

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    config_file = model / "tokenizer_config.json"
    tok_config = json.loads(config_file.read_text())
    tok_config["chat_template"] = (
        "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
    )
    config_file.write_text(json.dumps(tok_config))
    url, handler = fake
    out = tmp_path / "out"
    run(serving_config(model, url, num_requests=4, server__api="chat"), out)
    tok = AutoTokenizer.from_pretrained(str(model))
    templated = {
        p: len(tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True, return_dict=False))
        for p in handler.prompts
    }
    counted = [r["input_tokens"] for r in requests_of(out)]
    assert sorted(counted) == sorted(templated[p] for p in handler.prompts[2:])
    assert all(templated[p] > len(tok(p)["input_ids"]) for p in handler.prompts)


def test_a_trace_mixing_wanted_lengths_and_none_still_sends_each_prompt_once() -> None:
    """An arrival without input_tokens takes the first unused prompt, never one a nearest-length pick took."""
    from joules_worker.engines.server.prompt_plan import PromptPlan

    plan = PromptPlan([f"p{i}" for i in range(6)], [5, 10, 20, 30, 40, 50], warmup=1, reuse=False)
    sent = [plan.prompt_for(0, 20), plan.prompt_for(1, None), plan.prompt_for(2, None), plan.prompt_for(3, 49)]
    assert sent == ["p2", "p1", "p3", "p5"] and plan.warmup_prompts() == ["p0"]
    assert plan.prompt_for(4, None) == "p4"
    with pytest.raises(BadConfigError, match="every prompt was sent once"):
        plan.prompt_for(5, None)
