import json

import pytest
import torch

from joules_worker.config import DecodingConfig
from joules_worker.engines.transformers.generate_arguments import (
    NEUTRAL_GENERATION,
    effective_generation_config,
    eos_token_ids,
    generate_kwargs,
)
from joules_worker.engines.transformers.generation import FirstTokenClock, count_output_tokens, run_batch

EOS, PAD = 2, 3


def test_output_tokens_stop_at_first_eos():
    new = torch.tensor(
        [
            [5, 6, 7, 8, 9],  # no EOS: all 5 count
            [5, EOS, PAD, PAD, PAD],  # EOS at 2nd position: 2 (EOS included, padding after not)
            [EOS, PAD, PAD, PAD, PAD],  # EOS first: 1
            [5, 6, EOS, 7, EOS],  # only the first EOS ends the sequence: 3
        ]
    )
    assert count_output_tokens(new, [EOS]).tolist() == [5, 2, 1, 3]


def test_output_tokens_with_pad_equal_to_eos_and_several_eos_ids():
    new = torch.tensor([[5, 9, 9, 9], [5, 6, 7, 8], [4, 2, 9, 9]])
    assert count_output_tokens(new, [9, 2]).tolist() == [2, 4, 2]


def test_output_tokens_edge_cases():
    assert count_output_tokens(torch.zeros((2, 0), dtype=torch.long), [EOS]).tolist() == [0, 0]
    assert count_output_tokens(torch.tensor([[EOS, 1]]), []).tolist() == [2]


def test_input_tokens_exclude_padding(tiny):
    model, tokenizer = tiny
    prompts = ["hi", "a longer prompt with several more words in it", "medium sized prompt"]
    lengths = [len(tokenizer(p)["input_ids"]) for p in prompts]
    kwargs = generate_kwargs(DecodingConfig(), 4, 4, tokenizer.pad_token_id)
    record, out = run_batch(model, tokenizer, prompts, kwargs, want_texts=True, want_token_ids=True)
    texts = out.texts
    assert record.size == 3
    assert record.input_tokens == sum(lengths)
    assert record.padded_input_length == max(lengths)
    assert record.generated_steps == 4
    assert record.output_tokens == 12  # min_new_tokens = 4 forbids EOS
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    assert [len(ids) for ids in out.token_ids] == [4, 4, 4]
    assert tokenizer.batch_decode(out.token_ids, skip_special_tokens=True) == texts
    assert 0 < record.ttft_s < record.latency_s


def test_token_ids_stop_at_the_first_eos(tiny):
    """With EOS forced early, the saved ids end at (and include) the first EOS, like output_tokens."""
    model, tokenizer = tiny
    kwargs = generate_kwargs(DecodingConfig(), 6, 0, tokenizer.pad_token_id)
    eos = tokenizer.eos_token_id

    class ForceEos:
        def __call__(self, input_ids, scores):
            scores[:] = -float("inf")
            scores[:, eos] = 0  # every sequence ends at its first step
            return scores

    from transformers import LogitsProcessorList

    record, out = run_batch(
        model,
        tokenizer,
        ["one", "two words"],
        {**kwargs, "logits_processor": LogitsProcessorList([ForceEos()])},
        want_token_ids=True,
    )
    assert out.token_ids == [[eos], [eos]] and record.output_tokens == 2 and out.texts is None


def test_first_token_clock_runs_once_per_generate(tiny):
    """The clock is called at every step but only the first call sets the time; it never stops generation."""
    model, tokenizer = tiny
    clock = FirstTokenClock(model.device)
    calls = []

    class Counting(FirstTokenClock):
        def __call__(self, input_ids, scores, **kw):
            calls.append(input_ids.shape[1])
            return clock(input_ids, scores, **kw)

    from transformers import StoppingCriteriaList

    enc = tokenizer(["count my steps"], return_tensors="pt")
    kwargs = generate_kwargs(DecodingConfig(), 5, 5, tokenizer.pad_token_id)
    with torch.inference_mode():
        out = model.generate(**enc, **kwargs, stopping_criteria=StoppingCriteriaList([Counting(model.device)]))
    prompt = enc["input_ids"].shape[1]
    assert out.shape[1] == prompt + 5
    assert calls == [prompt + 1 + i for i in range(5)]  # after each new token, the first right after the first token
    assert clock.first is not None


def test_generate_kwargs_greedy_overrides_model_defaults():
    kwargs = generate_kwargs(DecodingConfig(), 16, 2, PAD, [EOS])
    assert {k: kwargs[k] for k in ("max_new_tokens", "min_new_tokens", "pad_token_id", "eos_token_id")} == {
        "max_new_tokens": 16,
        "min_new_tokens": 2,
        "pad_token_id": PAD,
        "eos_token_id": [EOS],
    }
    assert (kwargs["do_sample"], kwargs["temperature"], kwargs["top_k"], kwargs["top_p"]) == (False, None, None, None)
    for key in (
        "repetition_penalty",
        "no_repeat_ngram_size",
        "num_beams",
        "min_p",
        "typical_p",
        "length_penalty",
        "bad_words_ids",
        "encoder_repetition_penalty",
        "sequence_bias",
        "suppress_tokens",
        "stop_strings",
    ):
        assert kwargs[key] == NEUTRAL_GENERATION[key], key
    assert "eos_token_id" not in generate_kwargs(DecodingConfig(), 16, 2, PAD)


def test_generate_kwargs_sampling_defaults_and_values():
    kwargs = generate_kwargs(DecodingConfig(mode="sampling"), 8, 0, PAD)
    assert (kwargs["do_sample"], kwargs["temperature"], kwargs["top_k"], kwargs["top_p"]) == (True, 1.0, 0, 1.0)
    assert kwargs["repetition_penalty"] == 1.0 and kwargs["min_p"] is None  # plain sampling: no model extras
    kwargs = generate_kwargs(DecodingConfig(mode="sampling", temperature=0.7, top_k=50, top_p=0.9), 8, 0, PAD)
    assert (kwargs["temperature"], kwargs["top_k"], kwargs["top_p"]) == (0.7, 50, 0.9)


# generation_config.json defaults that change greedy tokens (every one of them alters this tiny model's output)
TOKEN_CHANGING_DEFAULTS = {
    "repetition_penalty": 5.0,
    "no_repeat_ngram_size": 1,
    "num_beams": 3,
    "length_penalty": 2.0,
    "bad_words_ids": None,
    "typical_p": 0.2,
    "min_p": 0.5,
    "encoder_repetition_penalty": 3.0,
    "return_dict_in_generate": True,
    "output_scores": True,  # would hand run_batch an object, not ids
}


def _greedy_reference(model, tokenizer, prompt, n):
    """Plain argmax decoding by hand: no generate, no generation_config."""
    ids = tokenizer([prompt], return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        for _ in range(n):
            ids = torch.cat([ids, model(input_ids=ids).logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    return ids[0, -n:].tolist()


def test_greedy_neutralises_token_changing_generation_config(tiny):
    """A model whose generation_config sets penalties, n-gram blocking, beams, min_p... still decodes
    exactly argmax; the effective config says what ran and which model defaults were overridden."""
    model, tokenizer = tiny
    prompt = "the the the the the"
    reference = _greedy_reference(model, tokenizer, prompt, 8)
    saved = model.generation_config.to_dict()
    bad = tokenizer(" the", add_special_tokens=False)["input_ids"]
    defaults = {**TOKEN_CHANGING_DEFAULTS, "bad_words_ids": [[reference[0]]] + [[i] for i in bad]}
    try:
        for key, value in defaults.items():
            setattr(model.generation_config, key, value)
        with torch.inference_mode():  # today's arguments let the model's defaults change the tokens
            leaked = model.generate(
                **tokenizer([prompt], return_tensors="pt"),
                max_new_tokens=8,
                min_new_tokens=8,
                pad_token_id=tokenizer.pad_token_id,
                do_sample=False,
                temperature=None,
                top_k=None,
                top_p=None,
            )
        assert leaked.sequences[0, -8:].tolist() != reference  # and an output object, not ids
        kwargs = generate_kwargs(DecodingConfig(), 8, 8, tokenizer.pad_token_id, eos_token_ids(model, tokenizer))
        _, out = run_batch(model, tokenizer, [prompt], kwargs, want_token_ids=True)
        assert out.token_ids == [reference]
        effective = effective_generation_config(model, kwargs)
        assert effective["mode"] == "greedy_search" and effective["do_sample"] is False
        assert (
            effective["num_beams"] == 1
            and effective["repetition_penalty"] == 1.0
            and effective["bad_words_ids"] is None
        )
        assert effective["eos_token_id"] == [tokenizer.eos_token_id]
        assert effective["overridden_model_defaults"]["repetition_penalty"] == 5.0
        assert effective["overridden_model_defaults"]["num_beams"] == 3
        json.dumps(effective)
    finally:
        for key in defaults:
            setattr(model.generation_config, key, saved.get(key))


def test_output_tokens_count_only_the_eos_ids_generate_stops_on(tiny):
    """generation_config.eos_token_id is a list that does not hold the tokenizer's EOS: a tokenizer-EOS
    token mid-sequence does not stop generate, so it does not end the count either; a listed id does."""
    model, tokenizer = tiny
    tok_eos = tokenizer.eos_token_id
    stop_a, stop_b = 7, 11  # two ordinary ids made the model's EOS ids
    saved = model.generation_config.eos_token_id

    class Emit:
        """Step 1: the tokenizer's EOS; step 3: stop_b (for the second sequence only)."""

        def __init__(self, start):
            self.start = start

        def __call__(self, input_ids, scores):
            step = input_ids.shape[1] - self.start
            if step in (0, 2):
                scores[:] = -float("inf")
                scores[:, tok_eos] = 0
                if step == 2:
                    scores[1, tok_eos] = -float("inf")
                    scores[1, stop_b] = 0
            return scores

    from transformers import LogitsProcessorList

    try:
        model.generation_config.eos_token_id = [stop_a, stop_b]
        assert eos_token_ids(model, tokenizer) == [stop_a, stop_b]
        kwargs = generate_kwargs(DecodingConfig(), 6, 0, tokenizer.pad_token_id, eos_token_ids(model, tokenizer))
        prompts = ["one two", "three four"]
        width = tokenizer(prompts, return_tensors="pt", padding=True)["input_ids"].shape[1]
        record, out = run_batch(
            model,
            tokenizer,
            prompts,
            {**kwargs, "logits_processor": LogitsProcessorList([Emit(width)])},
            want_token_ids=True,
        )
        assert record.generated_steps == 6  # the first sequence ran to max_new_tokens
        assert [len(ids) for ids in out.token_ids] == [6, 3]  # not [1, 1]: the tokenizer's EOS did not stop it
        assert out.token_ids[0][0] == tok_eos and out.token_ids[1][-1] == stop_b
        assert record.output_tokens == 9
    finally:
        model.generation_config.eos_token_id = saved


def test_greedy_ignores_sampling_generation_config(tiny):
    """A model whose generation_config says do_sample=True must still decode greedily."""
    model, tokenizer = tiny
    saved = model.generation_config.to_dict()
    model.generation_config.do_sample = True
    model.generation_config.temperature = 1.5
    try:
        kwargs = generate_kwargs(DecodingConfig(), 8, 8, tokenizer.pad_token_id)
        outs = []
        for seed in (1, 2):
            torch.manual_seed(seed)
            outs.append(run_batch(model, tokenizer, ["greedy or not"], kwargs, want_texts=True)[1].texts)
        assert outs[0] == outs[1]
    finally:
        for key in ("do_sample", "temperature"):
            setattr(model.generation_config, key, saved.get(key))


def test_eos_ids_fall_back_to_the_tokenizer(tiny):
    model, tokenizer = tiny
    assert eos_token_ids(model, tokenizer) == [tokenizer.eos_token_id]
    saved = model.generation_config.eos_token_id
    try:
        model.generation_config.eos_token_id = None
        assert eos_token_ids(model, tokenizer) == [tokenizer.eos_token_id]
    finally:
        model.generation_config.eos_token_id = saved


def test_fault_hook_raises_torch_oom(tiny, monkeypatch):
    model, tokenizer = tiny
    monkeypatch.setenv("JOULES_WORKER_FAULT", "oom")
    with pytest.raises(torch.OutOfMemoryError, match="test-only"):
        run_batch(model, tokenizer, ["x"], generate_kwargs(DecodingConfig(), 2, 0, tokenizer.pad_token_id))


def test_fault_hook_oom_above_a_batch_size(tiny, monkeypatch):
    model, tokenizer = tiny
    kwargs = generate_kwargs(DecodingConfig(), 2, 0, tokenizer.pad_token_id)
    monkeypatch.setenv("JOULES_WORKER_FAULT", "oom_above_batch:2")
    run_batch(model, tokenizer, ["x", "y"], kwargs)  # 2 prompts: fits
    with pytest.raises(torch.OutOfMemoryError, match="oom_above_batch:2"):
        run_batch(model, tokenizer, ["x", "y", "z"], kwargs)
