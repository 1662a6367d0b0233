"""FLOPs of encoder-decoder models counted by FlopCounterMode on representative forwards.

Per sequence, over a padded input of L positions:

    encoder (once):              E(L) = e·L + f·L²                 dense layers, self-attention
    decoder step t (t = 1..S):   D(t, L) = d + s·t + x·L  (+ v·L at t = 1)

d: the decoder's dense layers and lm_head for one position; s·t: self-attention over t decoder
positions; x·L: cross-attention over the encoder output; v·L: the cross-attention keys and values,
projected once from the encoder output at the first step and cached after. Counted at batch 1 on
random ids: the encoder at L1 and L2, decoder steps 1-3 at L1 and steps 1-2 at L2; the fit is
checked against the encoder at L2 + 1 and step 1 at L2 (2 %), else the caller falls back to the
analytic model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from joules_worker.engines.transformers.flop_count import count_flops

MAX_FIT_ERROR = 0.02


@dataclass(frozen=True)
class CountedSeq2SeqCost:
    e: float  # encoder, per input position
    f: float  # encoder self-attention, per (position × position)
    d: float  # decoder dense + lm_head, per step
    s: float  # decoder self-attention, per decoder position of context
    x: float  # cross-attention, per encoder position, every step
    v: float  # cross-attention keys/values, per encoder position, first step only

    def encoder(self, L: int) -> float:
        return self.e * L + self.f * L * L

    def step(self, t: int, L: int) -> float:
        return self.d + self.s * t + self.x * L + (self.v * L if t == 1 else 0.0)

    def batch_flops(self, batch: int, padded_input_length: int, generated_steps: int) -> tuple[int, int]:
        L, S = padded_input_length, generated_steps
        prefill = self.encoder(L) + (self.step(1, L) if S > 0 else 0.0)
        decode = sum(self.step(t, L) for t in range(2, S + 1))
        return round(batch * prefill), round(batch * decode)


def _measure(model: Any, length: int, steps: int) -> tuple[int, list[int]]:
    """Counted FLOPs of the encoder over ``length`` random ids and of decoder steps 1..steps."""
    import torch

    start = getattr(model.generation_config, "decoder_start_token_id", None)
    start = start if start is not None else model.config.decoder_start_token_id
    if start is None:
        raise ValueError("no decoder_start_token_id in the model's generation or model config")
    g = torch.Generator().manual_seed(length)
    vocab = model.get_input_embeddings().weight.shape[0]
    ids = torch.randint(0, vocab, (1, length), generator=g).to(model.device)
    mask = torch.ones_like(ids)
    encoder, encoded = count_flops(lambda: model.get_encoder()(input_ids=ids, attention_mask=mask))
    token = torch.tensor([[int(start)]], device=model.device)
    past, flops = None, []
    for _ in range(steps):
        n, out = count_flops(
            lambda token=token, past=past: model(
                encoder_outputs=encoded,
                attention_mask=mask,
                decoder_input_ids=token,
                past_key_values=past,
                use_cache=True,
            )
        )
        flops.append(n)
        past, token = out.past_key_values, out.logits[:, -1:].argmax(-1)
    return encoder, flops


def fit_seq2seq(model: Any, long_length: int) -> CountedSeq2SeqCost:
    L2 = max(long_length, 4)
    L1 = max(2, L2 // 2)
    e1, (a1, b1, c1) = _measure(model, L1, 3)
    e2, (a2, b2) = _measure(model, L2, 2)
    f = (e2 / L2 - e1 / L1) / (L2 - L1)  # E(L)/L = e + f·L
    e = e1 / L1 - f * L1
    s = c1 - b1  # D(3) - D(2) at L1
    x = (b2 - b1) / (L2 - L1)  # D(2, L2) - D(2, L1)
    d = b1 - 2 * s - x * L1
    v = (a1 - d - s - x * L1) / L1
    cost = CountedSeq2SeqCost(e, f, d, s, x, v)
    e3, (a3,) = _measure(model, L2 + 1, 1)
    for what, predicted, counted in (
        ("encoder", cost.encoder(L2 + 1), e3),
        ("first decoder step", cost.step(1, L2 + 1), a3),
    ):
        error = abs(predicted - counted) / counted if counted else 1.0
        if error > MAX_FIT_ERROR:
            raise ValueError(
                f"counted FLOPs do not follow the encoder-decoder model ({what} at {L2 + 1} off by {error:.1%})"
            )
    return cost
