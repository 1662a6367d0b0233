#!/usr/bin/env python3
"""Build a tiny random-weight Llama model with its own BPE tokenizer, offline and deterministic.

    python/.venv/bin/python tools/build_tiny_model.py --out .joules/models/tiny-llama
    python/.venv/bin/python tools/build_tiny_model.py --preset tiny-llama-wide --out .joules/models/tiny-llama-wide

The tokenizer is trained on the worker's bundled prompts; the weights come from a seeded init.
Same arguments, same files (model.safetensors is byte-identical). The model is written into a
temporary sibling folder and renamed into place, so a crash never leaves half a model.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PROMPTS = REPO / "python" / "joules_worker" / "data" / "prompts.jsonl"
MAX_POSITIONS = 1024
SPECIAL_TOKENS = {
    "unk_token": "<unk>",
    "bos_token": "<s>",
    "eos_token": "</s>",
    "pad_token": "<pad>",
}
# Named shapes. "tiny-llama" is the default build; "tiny-llama-wide" is a clearly bigger second
# model (hidden 128, 2 layers, ~2.8x the parameters) for two-model demo suites.
PRESETS: dict[str, dict[str, int]] = {
    "tiny-llama": {
        "hidden_size": 64,
        "layers": 2,
        "heads": 4,
        "vocab_size": 1000,
        "intermediate_size": 128,
    },
    "tiny-llama-wide": {
        "hidden_size": 128,
        "layers": 2,
        "heads": 4,
        "vocab_size": 1000,
        "intermediate_size": 256,
    },
}


def _read_prompts(path: Path) -> list[str]:
    texts = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                text = row.get("prompt", row.get("text"))
                if isinstance(text, str):
                    texts.append(text)
    if not texts:
        raise ValueError(f"no prompts in {path}")
    return texts


def build_tokenizer(prompts: list[str], vocab_size: int):
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import PreTrainedTokenizerFast

    specials = list(SPECIAL_TOKENS.values())
    tok = Tokenizer(models.BPE(unk_token=SPECIAL_TOKENS["unk_token"]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(prompts, trainer=trainer)
    bos = SPECIAL_TOKENS["bos_token"]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A",
        pair=f"{bos} $A {bos} $B",
        special_tokens=[(bos, tok.token_to_id(bos))],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        padding_side="left",
        model_max_length=MAX_POSITIONS,
        **SPECIAL_TOKENS,
    )


def build_tiny_model(
    out_dir: str | os.PathLike,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    vocab_size: int = 1000,
    intermediate_size: int = 128,
    seed: int = 0,
    prompts_path: str | os.PathLike = DEFAULT_PROMPTS,
) -> tuple[Path, int]:
    """Write tokenizer + model into ``out_dir``; returns (absolute path, parameter count)."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    out = Path(out_dir).resolve()
    tokenizer = build_tokenizer(_read_prompts(Path(prompts_path)), vocab_size)
    ids = {
        k.removesuffix("_token") + "_token_id": tokenizer.convert_tokens_to_ids(v) for k, v in SPECIAL_TOKENS.items()
    }
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=MAX_POSITIONS,
        tie_word_embeddings=False,
        bos_token_id=ids["bos_token_id"],
        eos_token_id=ids["eos_token_id"],
        pad_token_id=ids["pad_token_id"],
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    model.generation_config = GenerationConfig(
        bos_token_id=ids["bos_token_id"],
        eos_token_id=ids["eos_token_id"],
        pad_token_id=ids["pad_token_id"],
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        tmp.chmod(0o755)  # mkdtemp makes it private
        for f in tmp.iterdir():
            f.chmod(0o644)
        old = None
        if out.exists():
            old = out.parent / f"{tmp.name}.old"
            out.rename(old)
        tmp.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out, sum(p.numel() for p in model.parameters())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="output folder (created or replaced)")
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="tiny-llama",
        help="named shape (flags below override it)",
    )
    p.add_argument("--hidden-size", type=int)
    p.add_argument("--layers", type=int)
    p.add_argument("--heads", type=int)
    p.add_argument("--vocab-size", type=int)
    p.add_argument("--intermediate-size", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--prompts",
        default=str(DEFAULT_PROMPTS),
        help="JSONL the tokenizer is trained on",
    )
    a = p.parse_args(argv)
    shape = {k: v if (v := getattr(a, k)) is not None else default for k, default in PRESETS[a.preset].items()}
    out, n = build_tiny_model(a.out, **shape, seed=a.seed, prompts_path=a.prompts)
    print(f"{out} {n} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
