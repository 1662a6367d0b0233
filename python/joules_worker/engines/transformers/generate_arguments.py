"""What ``generate`` is asked for: every knob that changes the tokens explicit (a model's
``generation_config`` defaults cannot leak in), the EOS ids it stops on, and the decoding it really
ran with (recorded in the raw measurement's environment)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from joules_worker.config import DecodingConfig

# Every GenerationConfig field (transformers 5.17/5.18) besides do_sample/temperature/top_k/top_p that
# changes which tokens generate picks or when it stops, with the value that switches it off. A model's
# generation_config.json may set any of them (repetition_penalty=1.1, no_repeat_ngram_size=3,
# num_beams=4, bad_words_ids...); passed explicitly to generate they override it. Fields an older
# transformers lacks are left out (generate would hand unknown keys to the model's forward).
NEUTRAL_GENERATION: dict[str, Any] = {
    # search strategy: one greedy/sampled sequence, no beams, no contrastive/DoLa/assisted/constrained search
    "num_beams": 1,
    "num_beam_groups": 1,
    "diversity_penalty": 0.0,
    "length_penalty": 1.0,
    "early_stopping": False,
    "penalty_alpha": None,
    "dola_layers": None,
    "constraints": None,
    "force_words_ids": None,
    "prompt_lookup_num_tokens": None,
    "assistant_early_exit": None,
    "use_mtp": None,
    "num_return_sequences": 1,
    # logits processors
    "repetition_penalty": 1.0,
    "encoder_repetition_penalty": 1.0,
    "no_repeat_ngram_size": 0,
    "encoder_no_repeat_ngram_size": 0,
    "bad_words_ids": None,
    "sequence_bias": None,
    "suppress_tokens": None,
    "begin_suppress_tokens": None,
    "forced_bos_token_id": None,
    "forced_eos_token_id": None,
    "exponential_decay_length_penalty": None,
    "guidance_scale": None,
    "watermarking_config": None,
    "min_p": None,
    "top_h": None,
    "typical_p": 1.0,
    "epsilon_cutoff": 0.0,
    "eta_cutoff": 0.0,
    "renormalize_logits": False,
    "remove_invalid_values": False,
    "token_healing": None,
    # stopping: only max_new_tokens and the EOS ids end a sequence
    "stop_strings": None,
    "max_time": None,
    # what generate returns and computes: token ids only, with the KV cache the FLOPs models assume
    "return_dict_in_generate": False,
    "output_scores": False,
    "output_logits": False,
    "output_attentions": False,
    "output_hidden_states": False,
    "use_cache": True,
}


def _supported(fields: dict[str, Any]) -> dict[str, Any]:
    from transformers import GenerationConfig

    known = GenerationConfig()
    return {k: v for k, v in fields.items() if hasattr(known, k)}


def generate_kwargs(
    decoding: DecodingConfig,
    max_new_tokens: int,
    min_new_tokens: int,
    pad_token_id: int,
    eos_token_id: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Arguments for ``model.generate``; every knob that changes tokens explicit, so that a model's
    ``generation_config`` defaults (do_sample=True, temperature=0.6, repetition_penalty=1.2,
    num_beams=4...) cannot leak in. ``eos_token_id``: the ids generate stops on (see eos_token_ids)."""
    kwargs: dict[str, Any] = {
        "max_new_tokens": max_new_tokens,
        "min_new_tokens": min_new_tokens,
        "pad_token_id": pad_token_id,
    }
    if eos_token_id is not None:
        kwargs["eos_token_id"] = list(eos_token_id)
    if decoding.mode == "greedy":
        kwargs.update(do_sample=False, temperature=None, top_k=None, top_p=None)
    else:
        kwargs.update(
            do_sample=True,
            temperature=1.0 if decoding.temperature is None else decoding.temperature,
            top_k=0 if decoding.top_k is None else decoding.top_k,  # 0 = no top-k filter
            top_p=1.0 if decoding.top_p is None else decoding.top_p,
        )
    kwargs.update(_supported(NEUTRAL_GENERATION))
    return kwargs


def _ids(value: Any) -> list[int]:
    if value is None:
        return []
    if isinstance(value, int):
        return [value]
    return sorted({int(v) for v in value})


def eos_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """The ids that end a sequence: the model's generation config's (an int or a list), else the
    tokenizer's. The worker passes them to generate explicitly, so generate stops on exactly these."""
    return _ids(getattr(model.generation_config, "eos_token_id", None)) or _ids(tokenizer.eos_token_id)


def stop_token_ids(model: Any, gen_kwargs: dict[str, Any]) -> list[int]:
    """The EOS ids this generate call really stops on: the call's, else the model's generation config's."""
    if gen_kwargs.get("eos_token_id") is not None:
        return _ids(gen_kwargs["eos_token_id"])
    return _ids(getattr(model.generation_config, "eos_token_id", None))


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return repr(value)


def effective_generation_config(model: Any, gen_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The decoding generate really runs with (the model's generation_config merged with our
    arguments, as generate merges them), and the model defaults the worker overrode."""
    import copy

    from transformers import GenerationConfig

    passed = {k: v for k, v in gen_kwargs.items() if k not in ("logits_processor", "stopping_criteria")}
    try:
        config, _ = model._prepare_generation_config(None, **passed)  # what generate itself calls
    except Exception:  # noqa: BLE001 - private API; the plain merge is the same for these fields
        config = copy.deepcopy(model.generation_config)
        config.update(**passed)
    fields = [
        "do_sample",
        "temperature",
        "top_k",
        "top_p",
        "max_new_tokens",
        "min_new_tokens",
        "pad_token_id",
        "eos_token_id",
        "cache_implementation",
        *sorted(_supported(NEUTRAL_GENERATION)),
    ]
    effective = {k: _json_safe(getattr(config, k, None)) for k in fields}
    effective["eos_token_id"] = stop_token_ids(model, gen_kwargs)
    try:
        effective["mode"] = str(getattr(config.get_generation_mode(), "value", config.get_generation_mode()))
    except Exception:  # noqa: BLE001
        effective["mode"] = None
    defaults = GenerationConfig._get_default_generation_params()
    own = model.generation_config
    overridden = {}
    for k in fields:
        if k in ("max_new_tokens", "min_new_tokens", "pad_token_id", "eos_token_id"):
            continue
        mine = getattr(own, k, None)
        if mine is not None and mine != defaults.get(k) and _json_safe(mine) != effective[k]:
            overridden[k] = _json_safe(mine)
    effective["overridden_model_defaults"] = overridden
    return effective
