"""Analytic FLOPs of what generate executed, from the model's shape and each batch's shapes.

One forward of ``q`` new tokens over a context of ``k`` positions, for a batch of ``B``:

    2 · (weights of every nn.Linear a token passes) · B · q        projections and MLP
  + 2 · (lm_head weights) · B · (positions whose logits are computed)
  + 4 · B · q · k · (num_heads · head_dim) · num_layers            QKᵀ and attention·V

Prefill is one forward with q = k = padded_input_length (left padding is computed too).
transformers 5 ``generate`` passes ``logits_to_keep=1`` when the model accepts it, so prefill
computes lm_head for the last position only. Decode is generated_steps - 1 forwards with q = 1 and
k = padded_input_length + j: the last generated token is never fed back.
Not modelled: norms, activations, softmax, rotary (≈0.1 % on the tiny model), MoE routing
(every expert would be counted) and sliding-window attention (full context is counted).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FlopModel:
    linear_params: int  # weights of the body's nn.Linear layers (every token goes through each)
    lm_head_params: int  # weights of the output projection
    num_layers: int
    attn_width: int  # num_attention_heads * head_dim
    last_token_logits: bool  # prefill computes lm_head for the last position only

    @classmethod
    def from_model(cls, model: Any) -> "FlopModel":
        import torch

        head = model.get_output_embeddings()
        linear = sum(
            m.in_features * m.out_features
            for m in model.modules()
            if isinstance(m, torch.nn.Linear) and m is not head
        )
        head_params = head.weight.numel() if head is not None else 0
        config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
        heads = config.num_attention_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        keeps = "logits_to_keep" in inspect.signature(model.forward).parameters
        return cls(linear, head_params, config.num_hidden_layers, heads * head_dim, keeps)

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


def flops_block(flop_model: FlopModel, batches: list[Any]) -> dict[str, Any]:
    """The ``flops`` block of rank-<r>.json for the measured batches."""
    prefill = decode = 0
    for b in batches:
        p, d = flop_model.batch_flops(b.size, b.padded_input_length, b.generated_steps)
        prefill += p
        decode += d
    return {"prefill": prefill, "decode": decode, "total": prefill + decode, "method": "analytic"}

