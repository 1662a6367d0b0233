"""The model the check runs: a random-weight Llama built from a config, with the tiny tokenizer.

Nothing is downloaded. The tokenizer is the project's tiny BPE tokenizer (vocab 1000), trained on
the worker's bundled prompts by ``tools/build_tiny_model.py`` (deterministic, a second or two).

Sizing: with a 1000-token vocabulary the embedding and the untied lm_head hold only
2 × 1000 × hidden parameters (4.1 M at hidden 2048), so the billion has to sit in the transformer
layers. The "1b" shape is Llama-3.2-1B's body: hidden 2048, MLP 8192, 16 layers, 32 query heads and
8 key/value heads = 60.8 M per layer, 0.973 B non-embedding parameters, 0.977 B in all (977,242,112) (Llama-3.2-1B
itself has 1.24 B, 0.26 B of them in its 128 k-token embedding). "tiny" is the embedded tiny model's
shape (tools/build_tiny_model.py's default), for the CPU rehearsal.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path
from typing import Any

SHAPES: dict[str, dict[str, int]] = {
    "1b": {
        "hidden_size": 2048,
        "intermediate_size": 8192,
        "num_hidden_layers": 16,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
    },
    "tiny": {
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
    },
}
DTYPES = {"bf16": "bfloat16", "fp32": "float32", "fp16": "float16"}


def _tiny_builder(repo: Path) -> Any:
    path = repo / "tools" / "build_tiny_model.py"
    spec = importlib.util.spec_from_file_location("build_tiny_model", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"{path}: the tiny tokenizer's builder is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def llama_config(shape: str, tokenizer: Any, dtype: str) -> Any:
    from transformers import LlamaConfig

    b = _special_ids(tokenizer)
    return LlamaConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=1024,
        tie_word_embeddings=False,
        **SHAPES[shape],
        **b,
        dtype=DTYPES[dtype],
    )


def _special_ids(tokenizer: Any) -> dict[str, int]:
    return {
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }


def count_parameters(shape: str, repo: Path) -> int:
    """Parameters of ``shape`` with the tiny tokenizer's vocabulary, on the meta device (no memory)."""
    import torch
    from transformers import LlamaForCausalLM

    tokenizer = build_tokenizer(repo)
    with torch.device("meta"):
        model = LlamaForCausalLM(llama_config(shape, tokenizer, "fp32"))
    return sum(p.numel() for p in model.parameters())


def build_tokenizer(repo: Path) -> Any:
    builder = _tiny_builder(repo)
    return builder.build_tokenizer(builder._read_prompts(builder.DEFAULT_PROMPTS), 1000)


def build_model(out: Path, shape: str, device: str, dtype: str, repo: Path, seed: int = 0) -> dict[str, Any]:
    """Write model + tokenizer into ``out`` (replaced); returns what was built."""
    import torch
    from transformers import GenerationConfig, LlamaForCausalLM

    tokenizer = build_tokenizer(repo)
    config = llama_config(shape, tokenizer, dtype)
    torch.manual_seed(seed)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, DTYPES[dtype]))
    try:
        with torch.device(device):  # random init straight on the GPU: seconds, not minutes
            model = LlamaForCausalLM(config).eval()
    finally:
        torch.set_default_dtype(previous)
    model.generation_config = GenerationConfig(**_special_ids(tokenizer))
    params = sum(p.numel() for p in model.parameters())
    embedding = model.get_input_embeddings().weight.numel() + model.get_output_embeddings().weight.numel()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return {
        "path": str(out),
        "shape": shape,
        **SHAPES[shape],
        "vocab_size": len(tokenizer),
        "dtype": dtype,
        "num_parameters": params,
        "num_embedding_parameters": embedding,
        "built_on": device,
    }
