import pytest
import torch

from joules_worker.config import DecodingConfig
from joules_worker.generation import batches, count_output_tokens, eos_token_ids, generate_kwargs, run_batch

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
    record, texts = run_batch(model, tokenizer, prompts, kwargs, want_texts=True)
    assert record.size == 3
    assert record.input_tokens == sum(lengths)
    assert record.padded_input_length == max(lengths)
    assert record.generated_steps == 4
    assert record.output_tokens == 12  # min_new_tokens = 4 forbids EOS
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    assert record.latency_s > 0


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
            outs.append(run_batch(model, tokenizer, ["greedy or not"], kwargs, want_texts=True)[1])
        assert outs[0] == outs[1]
    finally:
        for key in ("do_sample", "temperature"):
            setattr(model.generation_config, key, saved.get(key))


def test_eos_ids_union(tiny):
    model, tokenizer = tiny
    assert eos_token_ids(model, tokenizer) == [tokenizer.eos_token_id]


def test_batches():
    assert batches(list("abcde"), 2) == [["a", "b"], ["c", "d"], ["e"]]
    assert batches([], 4) == []


def test_fault_hook_raises_torch_oom(tiny, monkeypatch):
    model, tokenizer = tiny
    monkeypatch.setenv("JOULES_WORKER_FAULT", "oom")
    with pytest.raises(torch.OutOfMemoryError, match="test-only"):
        run_batch(model, tokenizer, ["x"], generate_kwargs(DecodingConfig(), 2, 0, tokenizer.pad_token_id))
