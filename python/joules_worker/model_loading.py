"""Load tokenizer and causal LM onto this rank's device; map "not found" to ModelNotFoundError."""

from __future__ import annotations

import logging
import os
from typing import Any

from joules_worker.errors import ModelNotFoundError

logger = logging.getLogger(__name__)

PRECISION_DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


def torch_dtype(precision: str) -> Any:
    import torch

    return getattr(torch, PRECISION_DTYPES[precision])


def check_local_path(model_name: str) -> None:
    """An absolute or ./relative name is a local folder: say so plainly when it is missing."""
    if (os.path.isabs(model_name) or model_name.startswith(".")) and not os.path.isdir(model_name):
        raise ModelNotFoundError(f"model {model_name!r} not found: no such local folder")


def load_tokenizer(model_name: str) -> Any:
    from transformers import AutoTokenizer

    check_local_path(model_name)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_name, trust_remote_code=False)
    except (OSError, ValueError) as e:  # unknown hub id, gated repo, offline miss, folder without a tokenizer
        raise ModelNotFoundError(f"tokenizer for model {model_name!r} not found: {e}") from e
    tokenizer.padding_side = "left"  # decoder-only: new tokens follow the prompt directly
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ModelNotFoundError(f"tokenizer of {model_name!r} has neither a pad nor an eos token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(model_name: str, precision: str, device: Any, attn_implementation: str | None = None) -> Any:
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # stderr is for log lines
    check_local_path(model_name)
    kwargs: dict[str, Any] = {"dtype": torch_dtype(precision), "trust_remote_code": False}
    if attn_implementation is not None:
        kwargs["attn_implementation"] = attn_implementation
    try:
        model = AutoModelForCausalLM.from_pretrained(model_name, **kwargs)
    except (OSError, ValueError) as e:  # repo/entry not found, folder without a causal LM config
        raise ModelNotFoundError(f"causal LM {model_name!r} not found: {e}") from e
    model.to(device)
    model.eval()
    logger.info("loaded %s (%s) on %s", model_name, type(model).__name__, device)
    return model


def load_model_and_tokenizer(model_name: str, precision: str, device: Any, attn_implementation: str | None = None) -> tuple[Any, Any]:
    tokenizer = load_tokenizer(model_name)
    model = load_model(model_name, precision, device, attn_implementation)
    return model, tokenizer
