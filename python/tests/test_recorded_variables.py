"""What a run records beside its numbers (rank-<r>.json ``environment``, the source of the
experiment's _2_experiment_variables.json): the effective generation config, how the FLOPs were
obtained, and the prompt-file rows that were skipped."""

import json
import shutil

import torch
from _helpers import run_in_process, schema_errors

# a generation_config.json whose defaults would change greedy tokens if they leaked into generate
LEAKY_DEFAULTS = {"repetition_penalty": 5.0, "no_repeat_ngram_size": 1, "num_beams": 3, "min_p": 0.5, "typical_p": 0.2}


def test_run_records_effective_generation_flops_source_and_skipped_rows(
    experiment, tiny_model_dir, tmp_path, raw_validator, tiny
):
    model_dir = tmp_path / "leaky-model"
    shutil.copytree(tiny_model_dir, model_dir)
    gen_path = model_dir / "generation_config.json"
    gen_path.write_text(json.dumps({**json.loads(gen_path.read_text()), **LEAKY_DEFAULTS}))
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"_provenance": "a test set", "_license": "none"},
                {"prompt": "the the the the"},
                {"prompt": "a b a b a b"},
            ]
        )
        + "\n"
    )
    experiment.update(
        model_name=str(model_dir),
        num_input_prompts=2,
        batch_size=1,
        max_output_tokens=6,
        min_output_tokens=6,
        warmup_iterations=0,
        save_token_ids=True,
        dataset={**experiment["dataset"], "source": "file", "path": str(prompts)},
    )
    out = tmp_path / "out"
    data, _ = run_in_process(experiment, out)
    assert schema_errors(raw_validator, data) == []
    environment = data["environment"]

    generation = environment["generation"]
    assert generation["mode"] == "greedy_search" and generation["do_sample"] is False
    assert (generation["num_beams"], generation["repetition_penalty"], generation["no_repeat_ngram_size"]) == (
        1,
        1.0,
        0,
    )
    assert generation["min_p"] is None and generation["typical_p"] == 1.0
    assert generation["eos_token_id"] == [2] and generation["max_new_tokens"] == 6
    assert generation["overridden_model_defaults"] == LEAKY_DEFAULTS

    model, tokenizer = tiny  # the same weights with a clean generation config: plain argmax
    rows = [json.loads(line) for line in (out / "token-ids-rank-0.jsonl").read_text().splitlines()]
    for row in rows:
        ids = tokenizer([row["prompt"]], return_tensors="pt")["input_ids"]
        with torch.inference_mode():
            for _ in range(6):
                ids = torch.cat([ids, model(input_ids=ids).logits[:, -1].argmax(-1, keepdim=True)], dim=1)
        assert row["token_ids"] == ids[0, -6:].tolist()

    assert environment["flops_source"] == {"method": "flop_counter", "fallback": False, "fallback_reason": None}
    assert environment["dataset"]["rows_skipped"] == {
        "count": 1,
        "lines": [1],
        "reason": "no prompt column (metadata record)",
    }
    assert data["tokens"]["num_prompts"] == 2
