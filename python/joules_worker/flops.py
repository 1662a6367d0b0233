"""FLOPs of what generate executed: the analytic model, the 2·N·T estimate, and the ``flops`` block.

Analytic model, decoder-only. One forward of ``q`` new tokens over a context of ``k`` positions,
for a batch of ``B``:

    2 · (weights a token passes: nn.Linear, transformers' Conv1D, active experts) · B · q
  + 2 · (lm_head weights) · B · (positions whose logits are computed)
  + 4 · B · q · k · (num_heads · head_dim) · num_layers            QKᵀ and attention·V

Prefill is one forward with q = k = padded_input_length (left padding is computed too).
transformers 5 ``generate`` passes ``logits_to_keep=1`` when the model accepts it, so prefill
computes lm_head for the last position only. Decode is generated_steps - 1 forwards with q = 1 and
k = padded_input_length + j: the last generated token is never fed back.
Mixture of experts: a token passes its router and ``num_experts_per_tok`` of the ``E`` experts, so
expert weights count ``top_k / E`` of their total. Not modelled: norms, activations, softmax,
rotary (≈0.1 % on the tiny model) and sliding-window attention (full context is counted).

Encoder-decoder models (B, padded input L, S generated steps): the encoder runs once,
``2·enc·B·L + 4·B·L²·w·enc_layers``; decoder step t (t = 1..S, the decoder start token first)
costs ``2·(dec + lm_head)·B + 4·B·t·w·dec_layers`` (self-attention) ``+ 4·B·L·w·dec_layers``
(cross-attention), and the first step also projects the encoder output into the cross-attention
keys and values once, ``2·cross_kv·B·L`` (cached after). Prefill = encoder + step 1.

``analytic_2nt`` = 2 · N_non-embedding · T, T = executed positions (padded prompts + fed-back
tokens), the usual back-of-envelope figure. Quantized models: the counts are of the same matrix
shapes, but their kernels are not these dense matmuls, so ``quantized: true`` flags them.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class CostModel(Protocol):
    def batch_flops(self, batch: int, padded_input_length: int, generated_steps: int) -> tuple[int, int]: ...


@dataclass(frozen=True)
class FlopModel:
    linear_params: int  # weights every token passes in the body (linears, Conv1D, active experts)
    lm_head_params: int  # weights of the output projection
    num_layers: int
    attn_width: int  # num_attention_heads * head_dim
    last_token_logits: bool  # prefill computes lm_head for the last position only

    @classmethod
    def from_model(cls, model: Any) -> FlopModel:
        head = model.get_output_embeddings()
        config = _text_config(model)
        keeps = "logits_to_keep" in inspect.signature(model.forward).parameters
        layers = _first(config, "num_hidden_layers", "n_layer", "num_layers")
        return cls(dense_params(model, exclude=head), _weights(head), layers, _attn_width(config), keeps)

    def forward(self, batch: int, q: int, k: int, logit_positions: int) -> int:
        dense = 2 * self.linear_params * batch * q
        head = 2 * self.lm_head_params * batch * logit_positions
        attention = 4 * batch * q * k * self.attn_width * self.num_layers
        return dense + head + attention

    def batch_flops(self, batch: int, padded_input_length: int, generated_steps: int) -> tuple[int, int]:
        """(prefill, decode) FLOPs of one generate call."""
        L = padded_input_length
        prefill = self.forward(batch, L, L, 1 if self.last_token_logits else L)
        decode = sum(self.forward(batch, 1, L + j, 1) for j in range(1, generated_steps))
        return prefill, decode


# names of decoder cross-attention blocks (T5, BART/Marian/Pegasus/mBART, Whisper, BERT-style decoders)
CROSS_ATTENTION_NAMES = ("encdecattention", "encoder_attn", "crossattention", "cross_attn")
KV_NAMES = ("k", "v", "k_proj", "v_proj", "key", "value")


@dataclass(frozen=True)
class Seq2SeqFlopModel:
    encoder_params: int  # dense weights of the encoder (per input position)
    decoder_params: int  # dense weights of the decoder a generated position passes (cross k/v excluded)
    cross_kv_params: int  # cross-attention key/value projections (over the encoder output, once)
    lm_head_params: int
    encoder_layers: int
    decoder_layers: int
    attn_width: int

    @classmethod
    def from_model(cls, model: Any) -> Seq2SeqFlopModel:
        head = model.get_output_embeddings()
        encoder = model.get_encoder()
        decoder = model.get_decoder()
        cross_kv = sum(
            _weights(m)
            for name, m in decoder.named_modules()
            if name.rsplit(".", 1)[-1] in KV_NAMES and any(c in name.lower() for c in CROSS_ATTENTION_NAMES)
        )
        config = model.config
        enc_layers = _first(config, "num_layers", "encoder_layers", "num_hidden_layers")
        dec_layers = _first(config, "num_decoder_layers", "decoder_layers", "num_layers", "num_hidden_layers")
        return cls(
            dense_params(encoder),
            dense_params(decoder, exclude=head) - cross_kv,
            cross_kv,
            _weights(head),
            enc_layers,
            dec_layers,
            _attn_width(config),
        )

    def step(self, batch: int, t: int, input_length: int) -> int:
        """Decoder step t (1-based: t positions of decoder context) over an encoder output of input_length."""
        dense = 2 * (self.decoder_params + self.lm_head_params) * batch
        attention = 4 * batch * (t + input_length) * self.attn_width * self.decoder_layers
        return dense + attention + (2 * self.cross_kv_params * batch * input_length if t == 1 else 0)

    def batch_flops(self, batch: int, padded_input_length: int, generated_steps: int) -> tuple[int, int]:
        L = padded_input_length
        encoder = 2 * self.encoder_params * batch * L + 4 * batch * L * L * self.attn_width * self.encoder_layers
        first = self.step(batch, 1, L) if generated_steps > 0 else 0
        return encoder + first, sum(self.step(batch, t, L) for t in range(2, generated_steps + 1))


def _first(config: Any, *names: str) -> int:
    for name in names:
        value = getattr(config, name, None)
        if value is not None:
            return int(value)
    raise ValueError(f"model config has none of {', '.join(names)}")


def _text_config(model: Any) -> Any:
    return model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config


def _attn_width(config: Any) -> int:
    heads = _first(config, "num_attention_heads", "num_heads", "n_head", "encoder_attention_heads")
    head_dim = getattr(config, "head_dim", None) or getattr(config, "d_kv", None)
    hidden = _first(config, "hidden_size", "d_model", "n_embd")
    return heads * int(head_dim or hidden // heads)


def _weights(module: Any) -> int:
    """Matmul weights of one linear-like module (nn.Linear, transformers' Conv1D), else 0."""
    import torch

    if module is None:
        return 0
    if isinstance(module, torch.nn.Linear):
        return module.in_features * module.out_features
    if type(module).__name__ == "Conv1D" and hasattr(module, "nf"):  # GPT-2 family: weight (nx, nf)
        return int(module.weight.numel())
    return 0


def _experts_per_token(root: Any) -> int | None:
    config = getattr(root, "config", None)
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
    for name in ("num_experts_per_tok", "moe_topk"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def dense_params(module: Any, exclude: Any = None) -> int:
    """Weights one token passes through ``module``: every nn.Linear and Conv1D, a mixture-of-experts
    block's router and ``top_k / E`` of its experts (3-D expert tensors or a ModuleList of experts)."""
    import torch

    top_k = _experts_per_token(module)
    total = 0
    stack: list[tuple[str, Any]] = [("", module)]
    while stack:
        name, m = stack.pop()
        if m is exclude:
            continue
        own = _weights(m)
        if own:
            total += own
            continue
        experts = getattr(m, "num_experts", None)
        if isinstance(experts, int) and experts > 0:
            stacked = [p for p in m.parameters(recurse=False) if p.dim() == 3 and p.shape[0] == experts]
            if stacked:  # experts stored as (E, out, in) tensors
                total += sum(p.numel() for p in stacked) * (top_k or experts) // experts
                continue
            weight = getattr(m, "weight", None)
            if isinstance(weight, torch.nn.Parameter) and weight.dim() == 2 and weight.shape[0] == experts:
                total += weight.numel()  # a router: one logit per expert
                continue
        if isinstance(m, torch.nn.ModuleList) and name == "experts" and top_k and len(m) > top_k:
            total += sum(dense_params(e) for e in m) * top_k // len(m)  # one MLP module per expert
            continue
        stack.extend(m.named_children())
    return total


def analytic_model(model: Any) -> CostModel:
    return Seq2SeqFlopModel.from_model(model) if model.config.is_encoder_decoder else FlopModel.from_model(model)


def executed_positions(batches: Sequence[Any]) -> int:
    return sum(b.size * (b.padded_input_length + max(b.generated_steps - 1, 0)) for b in batches)


def flops_block(
    cost: CostModel,
    batches: Sequence[Any],
    method: str = "analytic",
    non_embedding_params: int | None = None,
    quantized: bool = False,
) -> dict[str, Any]:
    """The ``flops`` block of rank-<r>.json for the measured batches."""
    prefill = decode = 0
    for b in batches:
        p, d = cost.batch_flops(b.size, b.padded_input_length, b.generated_steps)
        prefill += p
        decode += d
    two_nt = 2 * non_embedding_params * executed_positions(batches) if non_embedding_params is not None else None
    return {
        "prefill": int(prefill),
        "decode": int(decode),
        "total": int(prefill + decode),
        "method": method,
        "analytic_2nt": two_nt,
        "quantized": quantized,
    }
