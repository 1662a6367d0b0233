"""model.is_encoder_decoder: a tiny random T5 (built here, offline) through the whole transformers engine."""

import pytest
from _helpers import run_in_process, schema_errors


@pytest.fixture(scope="module")
def tiny_t5_dir(tmp_path_factory, tiny):
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    _, tokenizer = tiny
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=4,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = T5ForConditionalGeneration(config).eval()
    out = tmp_path_factory.mktemp("models") / "tiny-t5"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_encoder_decoder_run(tiny_t5_dir, experiment, tmp_path, raw_validator):
    experiment.update(
        model_name=str(tiny_t5_dir),
        num_input_prompts=4,
        max_output_tokens=6,
        min_output_tokens=6,
        save_outputs=True,
        save_token_ids=True,
    )
    experiment["model"]["is_encoder_decoder"] = True
    data, _ = run_in_process(experiment, tmp_path)
    assert schema_errors(raw_validator, data) == []
    assert data["model"]["is_encoder_decoder"] is True and data["model"]["architecture"] == "T5ForConditionalGeneration"
    assert data["tokens"]["output_tokens"] == 4 * 6  # min_new_tokens forbids an early EOS
    assert all(b["generated_steps"] == 6 for b in data["batches"])
    flops = data["flops"]
    assert flops["method"] == "flop_counter" and flops["total"] > 0
    assert data["environment"]["flops_source"] == {"method": "flop_counter", "fallback": False, "fallback_reason": None}
    assert data["environment"]["generation"]["eos_token_id"] == [2]
    assert len(data["outputs"]["texts"]) == 4
    ids = (tmp_path / "token-ids-rank-0.jsonl").read_text().splitlines()
    assert len(ids) == 4


def test_encoder_decoder_model_must_be_declared(tiny_t5_dir, experiment, tmp_path):
    from joules_worker.errors import BadConfigError

    experiment.update(model_name=str(tiny_t5_dir))
    with pytest.raises(BadConfigError, match="is an encoder-decoder model; set it to true"):
        run_in_process(experiment, tmp_path)
