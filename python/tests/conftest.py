"""Shared fixtures: a tiny real model built once per session, valid experiments, contract schemas."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # nothing can be fetched from a hub here; children inherit it
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.pop("JOULES_POWERCAP_ROOT", None)
os.environ.pop("JOULES_WORKER_CPU_WITH_GPU_IDS", None)


# One temp root for the whole session (TMPDIR: tempfile, torch's elastic agent and every child
# process read it), removed at exit, so no run leaves folders in the machine's temp dir.
# A run killed before its exit leaves its root: the next run removes roots whose pid is gone.
def _sweep_dead_roots(parent: Path) -> None:
    for old in parent.glob("joules-pytest-*-*"):
        pid = old.name.split("-")[2]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(old, ignore_errors=True)
        except PermissionError:
            pass  # alive, another user's


_sweep_dead_roots(Path(tempfile.gettempdir()))
_TEMP_ROOT = tempfile.mkdtemp(prefix=f"joules-pytest-{os.getpid()}-")
os.environ["TMPDIR"] = _TEMP_ROOT
tempfile.tempdir = None  # re-read TMPDIR


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_TEMP_ROOT, ignore_errors=True)


def pytest_report_header(config: pytest.Config) -> str | None:
    from _vllm import ABSENT

    return f"vllm tests deselected: {ABSENT}" if ABSENT else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without the vLLM venv (and without JOULES_REQUIRE_VLLM=1) the vLLM tests are deselected, not
    skipped one by one: `npm test` then gives one notice for both test runners (the vitest one)."""
    from _vllm import ABSENT

    if not ABSENT:
        return
    deselected = [i for i in items if i.get_closest_marker("vllm")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [i for i in items if not i.get_closest_marker("vllm")]


PYTHON_DIR = Path(__file__).resolve().parent.parent
REPO = PYTHON_DIR.parent
CONTRACT = REPO / "contract"
FIXTURES = CONTRACT / "fixtures"
FAKE_PYNVML_DIR = Path(__file__).resolve().parent / "fake_pynvml"


def _load_builder() -> Any:
    spec = importlib.util.spec_from_file_location("build_tiny_model", REPO / "tools" / "build_tiny_model.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def builder() -> Any:
    return _load_builder()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, builder: Any) -> Path:
    out, _ = builder.build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-llama")
    return out


@pytest.fixture(scope="session")
def tiny(tiny_model_dir: Path) -> tuple[Any, Any]:
    """(model, tokenizer) loaded once, the way the worker loads them."""
    import torch

    from joules_worker.config import ModelConfig
    from joules_worker.engines.transformers.model_loading import load_model_and_tokenizer

    return load_model_and_tokenizer(str(tiny_model_dir), ModelConfig(), "fp32", torch.device("cpu"))


def base_experiment(model_name: str) -> dict[str, Any]:
    """A valid effective experiment; tests copy it and change what they need."""
    data = json.loads((FIXTURES / "experiment-minimal-greedy.json").read_text())
    data.update(
        config_name="test",
        model_name=model_name,
        num_input_prompts=8,
        max_output_tokens=8,
        batch_size=4,
        warmup_iterations=1,
    )
    data["energy"].update(backend="none")
    return data


@pytest.fixture
def experiment(tiny_model_dir: Path) -> dict[str, Any]:
    return copy.deepcopy(base_experiment(str(tiny_model_dir)))


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per test: a private idle-power cache, no availability probe remembered from another test, and
    CUDA_VISIBLE_DEVICES as it was."""
    from joules_worker.energy import reset_probes

    monkeypatch.setenv("JOULES_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    reset_probes()
    # The serving engine makes the server's GPUs the visible ones of its process (a worker of its
    # own); run in this process, it must not leave them set for the next test.
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible or "")
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES")


@pytest.fixture
def fake_nvml(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The fake pynvml (tests/fake_pynvml) injected at the import boundary: ``import pynvml``
    inside the worker gets it. Configure devices with ``fake_nvml.configure(devices=[...])``."""
    spec = importlib.util.spec_from_file_location("fake_pynvml_module", FAKE_PYNVML_DIR / "pynvml" / "__init__.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "pynvml", module)
    return module


def load_schema(name: str) -> dict[str, Any]:
    """A contract schema. Missing is a failure, not a skip: the worker must be checked against it."""
    path = CONTRACT / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: generate it with `npm run contract`")
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def raw_validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema("raw-measurement.schema.json"))


@pytest.fixture(scope="session")
def event_validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema("event.schema.json"))


@pytest.fixture(scope="session")
def worker_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for worker subprocesses: offline, quiet, the package importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PYTHON_DIR), env.get("PYTHONPATH")]))
    env.pop("JOULES_WORKER_FAULT", None)
    env["JOULES_CACHE_DIR"] = str(tmp_path_factory.mktemp("worker-cache"))
    return env


PYTHON = sys.executable


@pytest.fixture(scope="session")
def vllm_url(tmp_path_factory: pytest.TempPathFactory):
    """One real vLLM for the session's vLLM tests (tests/_vllm.py: prefix caching on, 32-token blocks)."""
    from _vllm import SERVER_FLAGS, vllm_server

    with vllm_server(tmp_path_factory.mktemp("vllm") / "server.log", *SERVER_FLAGS) as url:
        yield url


@pytest.fixture
def fake():
    """A fake OpenAI-style server (tests/_fake_openai.py) on a free port: (url, its handler class)."""
    from _fake_openai import FakeOpenAI
    from _helpers import http_server

    handler = FakeOpenAI.fresh()
    with http_server(handler) as url:
        yield url, handler
