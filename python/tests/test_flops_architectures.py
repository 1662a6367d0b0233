"""FLOPs for every architecture: random-weight GPT-2 (Conv1D), Qwen2 (GQA), Mixtral (MoE) and T5
(encoder-decoder), built here from the tiny tokenizer. Joules' flops_total, from the model as the
worker loads it (sdpa attention, grouped_mm experts), against torch's FlopCounterMode over the same
generate calls on an eager copy (eager attention and experts: FlopCounterMode counts neither sdpa on
CPU nor grouped_mm), and the analytic fallback against the same truth."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from joules_worker.config import ModelConfig
from joules_worker.engines.transformers.flop_counter import rank_flops
from joules_worker.engines.transformers.model_loading import load_model
from joules_worker.flops import analytic_model, dense_params, flops_block
from joules_worker.raw_measurement import BatchRecord

SHAPES = [(1, 7, 5), (3, 20, 9)]  # (batch, padded prompt length, generated steps)


def _configs(tokenizer):
    from transformers import GPT2Config, MixtralConfig, Qwen2Config, T5Config

    special = dict(pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    vocab = len(tokenizer)
    return {
        "gpt2": GPT2Config(
            vocab_size=vocab,
            n_embd=64,
            n_layer=2,
            n_head=4,
            n_positions=128,
            bos_token_id=tokenizer.bos_token_id,
            **special,
        ),
        "qwen2": Qwen2Config(
            vocab_size=vocab,
            hidden_size=64,
            intermediate_size=96,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=128,
            tie_word_embeddings=False,
            **special,
        ),
        "mixtral": MixtralConfig(
            vocab_size=vocab,
            hidden_size=64,
            intermediate_size=96,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            num_local_experts=4,
            num_experts_per_tok=2,
            max_position_embeddings=128,
            **special,
        ),
        "t5": T5Config(
            vocab_size=vocab,
            d_model=32,
            d_kv=8,
            d_ff=64,
            num_layers=2,
            num_decoder_layers=2,
            num_heads=4,
            decoder_start_token_id=tokenizer.pad_token_id,
            **special,
        ),
    }


@pytest.fixture(scope="module")
def arch_dirs(tmp_path_factory, tiny):
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    _, tokenizer = tiny
    dirs = {}
    for name, config in _configs(tokenizer).items():
        auto = AutoModelForSeq2SeqLM if config.is_encoder_decoder else AutoModelForCausalLM
        torch.manual_seed(0)
        model = auto.from_config(config).eval()
        out = tmp_path_factory.mktemp("models") / f"tiny-{name}"
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
        dirs[name] = out
    return dirs


@pytest.fixture(scope="module")
def truth(arch_dirs, tiny):
    """arch -> (eager model, FlopCounterMode total over the SHAPES generate calls, their batch records), once each."""
    cache = {}

    def get(arch):
        if arch not in cache:
            model = _load(arch_dirs[arch], eager=True)
            cache[arch] = (model, *_truth(model, tiny[1], SHAPES))
        return cache[arch]

    return get


def _load(path, eager):
    seq2seq = path.name == "tiny-t5"
    mc = (
        ModelConfig(attn_implementation="eager", is_encoder_decoder=seq2seq)
        if eager
        else ModelConfig(is_encoder_decoder=seq2seq)
    )
    model = load_model(str(path), mc, "fp32", torch.device("cpu"))
    if eager and hasattr(model, "set_experts_implementation") and model._can_set_experts_implementation():
        model.set_experts_implementation("eager")
    return model


def _truth(model, tokenizer, shapes):
    """FlopCounterMode over whole generate calls, and the batch records the worker would write."""
    total, records = 0, []
    for batch, length, steps in shapes:
        g = torch.Generator().manual_seed(batch * 100 + length)
        ids = torch.randint(4, len(tokenizer), (batch, length), generator=g)
        mask = torch.ones_like(ids)
        mask[0, : length // 3] = 0  # left padding is computed all the same
        with FlopCounterMode(display=False) as counter, torch.inference_mode():
            out = model.generate(
                input_ids=ids,
                attention_mask=mask,
                max_new_tokens=steps,
                min_new_tokens=steps,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
            )
        generated = out.shape[1] - (1 if model.config.is_encoder_decoder else length)
        assert generated == steps
        total += counter.get_total_flops()
        records.append(BatchRecord(batch, int(mask.sum()), batch * steps, length, steps, 0.0))
    return total, records


def _attention_of_every_config(model):
    return {
        n: m.config._attn_implementation
        for n, m in model.named_modules()
        if hasattr(getattr(m, "config", None), "_attn_implementation")
    }


def _non_embedding(model):
    return sum(p.numel() for p in model.parameters()) - model.get_input_embeddings().weight.numel()


@pytest.mark.parametrize("arch", ["gpt2", "qwen2", "mixtral", "t5"])
def test_flops_total_matches_flop_counter_over_generate(arch_dirs, truth, arch):
    _, total, records = truth(arch)
    worker_model = _load(arch_dirs[arch], eager=False)  # as the runner has it: sdpa, grouped_mm experts
    attention = _attention_of_every_config(worker_model)
    experts = getattr(worker_model.config, "_experts_implementation", None)
    block, source = rank_flops(worker_model, records, _non_embedding(worker_model), quantized=False)
    ratio = block["total"] / total
    print(f"{arch}: {block['method']} / FlopCounterMode = {ratio:.5f}")
    assert abs(ratio - 1) < 0.02
    assert block["total"] == block["prefill"] + block["decode"]
    # counting switched to eager and back, T5's stack configs (which set_attn_implementation misses) included
    assert _attention_of_every_config(worker_model) == attention and "sdpa" in attention.values()
    assert getattr(worker_model.config, "_experts_implementation", None) == experts
    assert source == {"method": "flop_counter", "fallback": False, "fallback_reason": None}


@pytest.mark.parametrize("arch", ["gpt2", "qwen2", "mixtral", "t5"])
def test_analytic_fallback_matches_flop_counter(truth, arch):
    model, total, records = truth(arch)
    ratio = flops_block(analytic_model(model), records)["total"] / total
    print(f"{arch}: analytic / FlopCounterMode = {ratio:.5f}")
    assert abs(ratio - 1) < 0.02


def test_moe_counts_active_experts_only(arch_dirs):
    model = _load(arch_dirs["mixtral"], eager=False)
    experts = [m for m in model.modules() if type(m).__name__ == "MixtralExperts"]
    all_expert_weights = sum(p.numel() for e in experts for p in e.parameters() if p.dim() == 3)
    routers = sum(m.weight.numel() for m in model.modules() if type(m).__name__ == "MixtralTopKRouter")
    attention = sum(
        m.in_features * m.out_features
        for n, m in model.named_modules()
        if isinstance(m, torch.nn.Linear) and ".self_attn." in f".{n}"
    )
    # 2 of 4 experts per token, plus the routers and attention projections
    assert dense_params(model.model) == all_expert_weights // 2 + routers + attention


def test_gpt2_conv1d_is_counted(arch_dirs):
    model = _load(arch_dirs["gpt2"], eager=False)
    conv = [m for m in model.modules() if type(m).__name__ == "Conv1D"]
    assert len(conv) == 2 * 4  # c_attn, c_proj, mlp.c_fc, mlp.c_proj per layer
    assert dense_params(model, exclude=model.get_output_embeddings()) == sum(m.weight.numel() for m in conv)


def test_fallback_is_said(arch_dirs, truth):
    model = _load(arch_dirs["qwen2"], eager=False)
    _, _, records = truth("qwen2")
    block, source = rank_flops(model, records, _non_embedding(model), quantized=True)
    assert block["method"] == "analytic" and block["quantized"] is True
    assert source["fallback"] is True and "quantized" in source["fallback_reason"]
    block, source = rank_flops(model, [], _non_embedding(model), quantized=False)
    assert block["total"] == 0 and source["fallback"] is True and source["fallback_reason"] == "no batch measured"


def test_moe_with_a_module_list_of_experts_counts_top_k_of_them():
    """Remote-code MoE models keep one MLP module per expert in ``experts`` (an nn.ModuleList)."""

    class Config:
        num_experts_per_tok = 2

    class Mlp(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.up, self.down = torch.nn.Linear(8, 16, bias=False), torch.nn.Linear(16, 8, bias=False)

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.config = Config()
            self.gate = torch.nn.Linear(8, 6, bias=False)  # the router, an ordinary linear
            self.experts = torch.nn.ModuleList([Mlp() for _ in range(6)])
            self.shared_expert = Mlp()  # always active

    assert dense_params(Block()) == 8 * 6 + 2 * (2 * 8 * 16) + 2 * 8 * 16
