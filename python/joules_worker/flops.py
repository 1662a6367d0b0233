"""FLOPs of what generate executed: the analytic model, the 2·N·T estimate, and the ``flops`` block.

Analytic model, decoder-only. One forward of ``q`` new tokens over a context of ``k`` positions,
for a batch of ``B``:

    2 · (weights of every nn.Linear a token passes) · B · q        projections and MLP
  + 2 · (lm_head weights) · B · (positions whose logits are computed)
  + 4 · B · q · k · (num_heads · head_dim) · num_layers            QKᵀ and attention·V

Prefill is one forward with q = k = padded_input_length (left padding is computed too).
transformers 5 ``generate`` passes ``logits_to_keep=1`` when the model accepts it, so prefill
computes lm_head for the last position only. Decode is generated_steps - 1 forwards with q = 1 and
k = padded_input_length + j: the last generated token is never fed back.
Not modelled: norms, activations, softmax, rotary (≈0.1 % on the tiny model), MoE routing
(every expert would be counted) and sliding-window attention (full context is counted).

Encoder-decoder models: encoder linears over the padded input, decoder linears and lm_head per
generated position; attention and cross-attention are not counted (a lower bound).

``analytic_2nt`` = 2 · N_non-embedding · T, T = executed positions (padded prompts + fed-back
tokens), the usual back-of-envelope figure. Quantized models: the counts are of the same matrix
shapes, but their kernels are not these dense matmuls, so ``quantized: true`` flags them.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Protocol, Sequence


class CostModel(Protocol):
    def batch_flops(self, batch: int, padded_input_length: int, generated_steps: int) -> tuple[int, int]: ...


@dataclass(frozen=True)
class FlopModel:
    linear_params: int  # weights of the body's nn.Linear layers (every token goes through each)
    lm_head_params: int  # weights of the output projection
    num_layers: int
    attn_width: int  # num_attention_heads * head_dim
    last_token_logits: bool  # prefill computes lm_head for the last position only

    @classmethod
    def from_model(cls, model: Any) -> "FlopModel":
        head = model.get_output_embeddings()
        config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
        heads = config.num_attention_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        keeps = "logits_to_keep" in inspect.signature(model.forward).parameters
        head_params = head.weight.numel() if head is not None else 0
        return cls(_linear_params(model, exclude=head), head_params, config.num_hidden_layers, heads * head_dim, keeps)

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


@dataclass(frozen=True)
class Seq2SeqFlopModel:
    encoder_params: int
    decoder_params: int  # decoder linears + lm_head

    @classmethod
    def from_model(cls, model: Any) -> "Seq2SeqFlopModel":
        encoder = _linear_params(model.get_encoder())
        return cls(encoder, _linear_params(model) - encoder)

    def batch_flops(self, batch: int, padded_input_length: int, generated_steps: int) -> tuple[int, int]:
        first = 2 * self.decoder_params * batch if generated_steps > 0 else 0
        prefill = 2 * self.encoder_params * batch * padded_input_length + first
        return prefill, 2 * self.decoder_params * batch * max(generated_steps - 1, 0)


def _linear_params(module: Any, exclude: Any = None) -> int:
    import torch

    return sum(
        m.in_features * m.out_features for m in module.modules() if isinstance(m, torch.nn.Linear) and m is not exclude
    )


def analytic_model(model: Any) -> CostModel:
    return Seq2SeqFlopModel.from_model(model) if model.config.is_encoder_decoder else FlopModel.from_model(model)


def executed_positions(batches: Sequence[Any]) -> int:
    return sum(b.size * (b.padded_input_length + max(b.generated_steps - 1, 0)) for b in batches)


def flops_block(
    cost: CostModel, batches: Sequence[Any], method: str = "analytic", non_embedding_params: int | None = None,
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
        "prefill": int(prefill), "decode": int(decode), "total": int(prefill + decode), "method": method,
        "analytic_2nt": two_nt, "quantized": quantized,
    }
