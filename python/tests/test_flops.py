"""FLOPs: the counted (FlopCounterMode) and analytic figures against FlopCounterMode over whole generate calls."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from joules_worker.config import DecodingConfig, ModelConfig
from joules_worker.engines.transformers.flop_counter import counted_cost
from joules_worker.engines.transformers.flop_counter_decoder import CountedCost
from joules_worker.engines.transformers.generate_arguments import generate_kwargs
from joules_worker.engines.transformers.model_loading import load_model
from joules_worker.flops import FlopModel, executed_positions, flops_block
from joules_worker.raw_measurement import BatchRecord

SHAPES = [(1, 7, 5), (3, 20, 12), (4, 61, 16)]


@pytest.fixture(scope="module")
def eager_model(tiny_model_dir):
    # sdpa attention is not counted by FlopCounterMode on CPU; eager attention is (plain bmm)
    return load_model(str(tiny_model_dir), ModelConfig(attn_implementation="eager"), "fp32", torch.device("cpu"))


@pytest.fixture(scope="module")
def counted(tiny):
    """Fitted on the worker's own (sdpa) model: counted_cost switches to eager and back."""
    model, _ = tiny
    cost = counted_cost(model, 40)
    assert model.config._attn_implementation == "sdpa"
    return cost


def whole_generate(model, tokenizer, batch, prompt_len, new_tokens):
    torch.manual_seed(0)
    ids = torch.randint(4, 1000, (batch, prompt_len))
    mask = torch.ones_like(ids)
    mask[0, : prompt_len // 3] = 0  # left padding is computed all the same
    kwargs = generate_kwargs(DecodingConfig(), new_tokens, new_tokens, tokenizer.pad_token_id)
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=mask, **kwargs)
    steps = out.shape[1] - prompt_len
    assert steps == new_tokens  # min_new_tokens forces the full length
    return counter.get_total_flops(), BatchRecord(batch, int(mask.sum()), batch * steps, prompt_len, steps, 0.0)


@pytest.mark.parametrize(("batch", "prompt_len", "new_tokens"), SHAPES)
def test_both_methods_match_flop_counter_over_generate(eager_model, tiny, counted, batch, prompt_len, new_tokens):
    _, tokenizer = tiny
    truth, record = whole_generate(eager_model, tokenizer, batch, prompt_len, new_tokens)
    for cost in (counted, FlopModel.from_model(eager_model)):
        block = flops_block(cost, [record])
        ratio = block["total"] / truth
        print(f"{type(cost).__name__} B={batch} L={prompt_len} S={new_tokens}: / counter = {ratio:.5f}")
        assert abs(ratio - 1) < 0.02
        assert block["total"] == block["prefill"] + block["decode"]


def test_two_nt_is_reported_beside(eager_model, tiny, counted):
    _, tokenizer = tiny
    truth, record = whole_generate(eager_model, tokenizer, 4, 61, 16)
    n = sum(p.numel() for p in eager_model.parameters()) - eager_model.get_input_embeddings().weight.numel()
    block = flops_block(counted, [record], "flop_counter", n, quantized=False)
    assert block["analytic_2nt"] == 2 * n * executed_positions([record]) == 2 * n * 4 * (61 + 15)
    assert block["method"] == "flop_counter" and block["quantized"] is False
    assert 0.5 < block["analytic_2nt"] / truth < 1.5  # a rough estimate, by design


def test_counted_cost_of_the_tiny_llama(counted):
    # per token: q, k, v, o (64x64 each) + gate, up, down (64x128 each), x2 layers, x2 FLOPs
    assert counted.a == pytest.approx(2 * 2 * (4 * 64 * 64 + 3 * 64 * 128), rel=1e-3)
    assert counted.h == 2 * 64 * 1000 and counted.last_token_logits
    assert counted.c == 4 * 64 * 2  # 4 · attn_width · layers


def test_flop_model_of_the_tiny_llama(tiny):
    model, _ = tiny
    fm = FlopModel.from_model(model)
    assert fm.linear_params == 2 * (4 * 64 * 64 + 3 * 64 * 128)
    assert fm.lm_head_params == 64 * 1000
    assert (fm.num_layers, fm.attn_width, fm.last_token_logits) == (2, 64, True)


def test_prefill_and_decode_by_hand():
    fm = FlopModel(linear_params=10, lm_head_params=3, num_layers=2, attn_width=4, last_token_logits=True)
    # B=2, L=5: prefill = 2*10*2*5 + 2*3*2*1 + 4*2*5*5*4*2
    assert fm.batch_flops(2, 5, 1) == (200 + 12 + 1600, 0)
    # decode step j=1 (k=6) and j=2 (k=7): 2*10*2 + 2*3*2 + 4*2*k*4*2
    prefill, decode = fm.batch_flops(2, 5, 3)
    assert decode == (40 + 12 + 64 * 6) + (40 + 12 + 64 * 7)
    cost = CountedCost(a=20, c=32, h=6, last_token_logits=True)  # the same model, fitted form
    assert cost.batch_flops(2, 5, 3) == fm.batch_flops(2, 5, 3)


def test_a_session_fits_once_per_model_and_length(tiny, monkeypatch):
    """A worker session measures many experiments on one model: the counted fit (eight forwards)
    is done once per longest input length, and a new length or another model is fitted anew."""
    from joules_worker.engines.transformers import flop_counter

    model, _ = tiny
    calls = []
    real = flop_counter.fit
    monkeypatch.setattr(flop_counter, "fit", lambda m, n: calls.append(n) or real(m, n))
    first = counted_cost(model, 23)
    assert counted_cost(model, 23) is first and calls == [23]
    other = counted_cost(model, 31)
    assert calls == [23, 31]
    assert other == flop_counter._count_or_reason(model, 31)[0]  # what an uncached count gives
