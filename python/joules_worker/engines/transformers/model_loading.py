"""Load tokenizer and model (causal LM or seq2seq) onto this rank's device.

Failures map to the contract's kinds: a missing model or tokenizer is ``model_not_found``, a hub
timeout or HTTP 5xx/429 is ``transient``, an option this machine cannot do (bitsandbytes
quantization without bitsandbytes or CUDA, flash attention without flash-attn or CUDA) is
``unsupported``, and a model type that contradicts ``model.is_encoder_decoder`` is ``bad_config``.
"""

from __future__ import annotations

import logging
import os
from importlib.util import find_spec
from typing import Any

from joules_worker.config import ModelConfig
from joules_worker.errors import BadConfigError, ModelNotFoundError, TransientError, UnsupportedError, transient_reason

logger = logging.getLogger(__name__)

PRECISION_DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


def torch_dtype(precision: str) -> Any:
    import torch

    return getattr(torch, PRECISION_DTYPES[precision])


def check_local_path(model_name: str) -> None:
    """An absolute or ./relative name is a local folder: say so plainly when it is missing."""
    if (os.path.isabs(model_name) or model_name.startswith(".")) and not os.path.isdir(model_name):
        raise ModelNotFoundError(f"model {model_name!r} not found: no such local folder")


def check_supported(mc: ModelConfig, device: Any) -> None:
    """Options this machine cannot do fail before anything is loaded."""
    on_cuda = getattr(device, "type", None) == "cuda"
    if mc.quantization != "none":
        if find_spec("bitsandbytes") is None:
            raise UnsupportedError(f"model.quantization {mc.quantization!r} needs bitsandbytes, which is not installed")
        if not on_cuda:
            raise UnsupportedError(f"model.quantization {mc.quantization!r} needs a CUDA device (bitsandbytes)")
    if mc.attn_implementation == "flash_attention_2":
        if find_spec("flash_attn") is None:
            raise UnsupportedError(
                "model.attn_implementation 'flash_attention_2' needs flash-attn, which is not installed"
            )
        if not on_cuda:
            raise UnsupportedError("model.attn_implementation 'flash_attention_2' needs a CUDA device")


def _load_error(e: BaseException, what: str) -> Exception:
    reason = transient_reason(e)
    if reason is not None:
        return TransientError(f"{what}: transient failure ({reason}): {e}")
    return ModelNotFoundError(f"{what} not found: {e}")


def load_tokenizer(model_name: str, mc: ModelConfig) -> Any:
    from transformers import AutoTokenizer

    check_local_path(model_name)
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            model_name, revision=mc.revision, trust_remote_code=mc.trust_remote_code
        )
    except (OSError, ValueError) as e:  # unknown hub id, gated repo, offline miss, folder without a tokenizer
        raise _load_error(e, f"tokenizer for model {model_name!r}") from e
    tokenizer.padding_side = "left"  # decoder-only: new tokens follow the prompt directly
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ModelNotFoundError(f"tokenizer of {model_name!r} has neither a pad nor an eos token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _quantization_config(mc: ModelConfig, precision: str) -> Any:
    from transformers import BitsAndBytesConfig

    if mc.quantization == "int8":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch_dtype(precision)
    )


def load_model(model_name: str, mc: ModelConfig, precision: str, device: Any) -> Any:
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # stderr is for log lines
    check_local_path(model_name)
    check_supported(mc, device)
    common: dict[str, Any] = {"revision": mc.revision, "trust_remote_code": mc.trust_remote_code}
    try:
        hf_config = AutoConfig.from_pretrained(model_name, **common)
    except (OSError, ValueError) as e:
        raise _load_error(e, f"model {model_name!r}") from e
    is_seq2seq = bool(getattr(hf_config, "is_encoder_decoder", False))
    if is_seq2seq != mc.is_encoder_decoder:
        kind = "an encoder-decoder" if is_seq2seq else "a decoder-only"
        raise BadConfigError(
            f"model.is_encoder_decoder: {model_name!r} is {kind} model; set it to {str(is_seq2seq).lower()}"
        )
    kwargs: dict[str, Any] = {**common, "dtype": torch_dtype(precision)}
    if mc.attn_implementation is not None:
        kwargs["attn_implementation"] = mc.attn_implementation
    quantized = mc.quantization != "none"
    if quantized:
        kwargs["quantization_config"] = _quantization_config(mc, precision)
        kwargs["device_map"] = {"": device}  # bitsandbytes weights are placed while loading
    auto = AutoModelForSeq2SeqLM if is_seq2seq else AutoModelForCausalLM
    try:
        model = auto.from_pretrained(model_name, **kwargs)
    except (OSError, ValueError) as e:  # repo/entry not found, folder without a model of that kind
        raise _load_error(e, f"{'seq2seq' if is_seq2seq else 'causal'} LM {model_name!r}") from e
    if not quantized:
        model.to(device)
    model.eval()
    logger.info("loaded %s (%s) on %s", model_name, type(model).__name__, device)
    return model


def load_model_and_tokenizer(model_name: str, mc: ModelConfig, precision: str, device: Any) -> tuple[Any, Any]:
    tokenizer = load_tokenizer(model_name, mc)
    model = load_model(model_name, mc, precision, device)
    return model, tokenizer
