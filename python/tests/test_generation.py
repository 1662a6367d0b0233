import pytest
import torch

from joules_worker.config import DecodingConfig
from joules_worker.generation import FirstTokenClock, count_output_tokens, eos_token_ids, generate_kwargs, run_batch

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

    record, out = run_batch(model, tokenizer, ["one", "two words"], {**kwargs, "logits_processor": LogitsProcessorList([ForceEos()])},
                            want_token_ids=True)
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
    kwargs = generate_kwargs(DecodingConfig(), 16, 2, PAD)
    assert kwargs == {
        "max_new_tokens": 16, "min_new_tokens": 2, "pad_token_id": PAD,
        "do_sample": False, "temperature": None, "top_k": None, "top_p": None,
    }


def test_generate_kwargs_sampling_defaults_and_values():
    assert generate_kwargs(DecodingConfig(mode="sampling"), 8, 0, PAD) == {
        "max_new_tokens": 8, "min_new_tokens": 0, "pad_token_id": PAD,
        "do_sample": True, "temperature": 1.0, "top_k": 0, "top_p": 1.0,
    }
    kwargs = generate_kwargs(DecodingConfig(mode="sampling", temperature=0.7, top_k=50, top_p=0.9), 8, 0, PAD)
    assert (kwargs["temperature"], kwargs["top_k"], kwargs["top_p"]) == (0.7, 50, 0.9)


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


def test_eos_ids_union(tiny):
    model, tokenizer = tiny
    assert eos_token_ids(model, tokenizer) == [tokenizer.eos_token_id]


def test_fault_hook_raises_torch_oom(tiny, monkeypatch):
    model, tokenizer = tiny
    monkeypatch.setenv("JOULES_WORKER_FAULT", "oom")
    with pytest.raises(torch.OutOfMemoryError, match="test-only"):
        run_batch(model, tokenizer, ["x"], generate_kwargs(DecodingConfig(), 2, 0, tokenizer.pad_token_id))
