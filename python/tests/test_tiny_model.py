"""tools/build_tiny_model.py: offline, deterministic, atomic."""

import hashlib
import subprocess
import sys

from conftest import REPO


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_arguments_same_weights(builder, tmp_path, tiny_model_dir):
    out, params = builder.build_tiny_model(tmp_path / "again")
    assert params == 210240
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert sha256(out / name) == sha256(tiny_model_dir / name), name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left


def test_other_seed_other_weights(builder, tmp_path, tiny_model_dir):
    out, _ = builder.build_tiny_model(tmp_path / "seed1", seed=1)
    assert sha256(out / "model.safetensors") != sha256(tiny_model_dir / "model.safetensors")
    assert sha256(out / "tokenizer.json") == sha256(tiny_model_dir / "tokenizer.json")


def test_rebuild_replaces_in_place(builder, tmp_path):
    target = tmp_path / "m"
    builder.build_tiny_model(target, layers=1)
    out, params = builder.build_tiny_model(target, layers=2)
    assert out == target.resolve() and params == 210240
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_tokenizer_and_shape(tiny):
    model, tokenizer = tiny
    assert len(tokenizer) == 1000 and tokenizer.padding_side == "left"
    assert {tokenizer.pad_token, tokenizer.eos_token, tokenizer.bos_token} == {"<pad>", "</s>", "<s>"}
    assert model.config.hidden_size == 64 and model.config.num_hidden_layers == 2


def test_command_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "build_tiny_model.py"), "--out", str(tmp_path / "cli"), "--layers", "1"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip() == f"{(tmp_path / 'cli').resolve()} 169152 parameters"


def test_wide_preset_is_a_clearly_bigger_second_model(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "tools" / "build_tiny_model.py"),
            "--preset",
            "tiny-llama-wide",
            "--out",
            str(tmp_path / "wide"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip() == f"{(tmp_path / 'wide').resolve()} 584320 parameters"
    import json

    config = json.loads((tmp_path / "wide" / "config.json").read_text())
    assert (config["hidden_size"], config["num_hidden_layers"], config["intermediate_size"]) == (128, 2, 256)


def test_flags_override_the_preset(builder, tmp_path):
    assert builder.main(["--preset", "tiny-llama-wide", "--layers", "1", "--out", str(tmp_path / "w1")]) == 0
    import json

    config = json.loads((tmp_path / "w1" / "config.json").read_text())
    assert (config["hidden_size"], config["num_hidden_layers"]) == (128, 1)
