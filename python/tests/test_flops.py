"""The analytic FLOPs must match what torch's FlopCounterMode counts in a real generate call."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from joules_worker.config import DecodingConfig
from joules_worker.flops import FlopModel, flops_block
from joules_worker.generation import BatchRecord, generate_kwargs
from joules_worker.model_loading import load_model


@pytest.fixture(scope="module")
def eager_model(tiny_model_dir):
    # sdpa attention is not counted by FlopCounterMode on CPU; eager attention is (plain bmm)
    return load_model(str(tiny_model_dir), "fp32", torch.device("cpu"), attn_implementation="eager")


@pytest.mark.parametrize(("batch", "prompt_len", "new_tokens"), [(1, 7, 5), (3, 20, 12), (4, 61, 16)])
def test_analytic_matches_flop_counter(eager_model, tiny, batch, prompt_len, new_tokens):
    _, tokenizer = tiny
    torch.manual_seed(0)
    ids = torch.randint(4, 1000, (batch, prompt_len))
    mask = torch.ones_like(ids)
    mask[0, : prompt_len // 3] = 0  # left padding is computed all the same
    kwargs = generate_kwargs(DecodingConfig(), new_tokens, new_tokens, tokenizer.pad_token_id)
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        out = eager_model.generate(input_ids=ids, attention_mask=mask, **kwargs)
    steps = out.shape[1] - prompt_len
    assert steps == new_tokens  # min_new_tokens forces the full length

    record = BatchRecord(batch, int(mask.sum()), batch * steps, prompt_len, steps, 0.0)
    analytic = flops_block(FlopModel.from_model(eager_model), [record])
    ratio = analytic["total"] / counter.get_total_flops()
    print(f"B={batch} L={prompt_len} S={new_tokens}: analytic/counter = {ratio:.5f}")
    assert abs(ratio - 1) < 0.02
    assert analytic["total"] == analytic["prefill"] + analytic["decode"]


def test_flop_model_of_the_tiny_llama(tiny):
    model, _ = tiny
    fm = FlopModel.from_model(model)
    # per layer: q, k, v, o (64x64 each) + gate, up, down (64x128 each)
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
