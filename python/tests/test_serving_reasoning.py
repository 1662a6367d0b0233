"""Reasoning apart from the answer (answer_tokens.py), through the whole serving engine, against a fake
reasoning server (tests/_fake_openai.py streams reasoning deltas: the tiny model cannot reason):
reasoning and answer tokens are counted apart, TTFT is the first token of either (the reasoning's),
and the answer's own first token is kept beside it."""

from __future__ import annotations

import json

import pytest
from _fake_openai import FakeOpenAI, run_serving, serving_config
from _helpers import http_server
from transformers import AutoTokenizer

from joules_worker.engines.server.answer_tokens import split_answer_tokens
from joules_worker.engines.server.request_record import RequestRecord

THOUGHTS = (" Let", " me", " think", " about", " it")


def test_reasoning_and_answer_tokens_are_counted_apart(tmp_path, tiny_model_dir) -> None:
    handler = FakeOpenAI.fresh(reasoning=THOUGHTS, chunk_pause_s=0.01)
    with http_server(handler) as url:
        summary = run_serving(
            serving_config(tiny_model_dir, url, num_requests=6, server__api="chat", server__dialect="openai"),
            tmp_path,
        )
    lines = [json.loads(x) for x in (tmp_path / summary["requests_file"]).read_text().splitlines()]
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    thinking = len(tok("".join(THOUGHTS), add_special_tokens=False)["input_ids"])
    answer = len(tok(" hello world again", add_special_tokens=False)["input_ids"])
    assert len(lines) == 6
    for r in lines:
        # the fake sends no usage: the tokenizer counts the whole output and the reasoning apart
        assert r["tokens_counted"] is True and r["reasoning_source"] == "tokenizer"
        assert (r["reasoning_tokens"], r["answer_tokens"]) == (thinking, answer)
        assert r["output_tokens"] == thinking + answer
        # TTFT at the first reasoning chunk (one pause in), the answer's first token 5 pauses later
        assert 0 < r["ttft_s"] < r["answer_ttft_s"]
        assert r["answer_ttft_s"] - r["ttft_s"] >= 4 * 0.01
        assert r["first_answer_unix_s"] == pytest.approx(r["send_unix_s"] + r["answer_ttft_s"])


def test_a_plain_chat_model_reasons_zero_tokens_and_completions_say_nothing(tmp_path, tiny_model_dir, fake) -> None:
    url, _ = fake
    run_serving(
        serving_config(tiny_model_dir, url, num_requests=3, server__api="chat", server__dialect="openai"),
        tmp_path / "chat",
    )
    run_serving(serving_config(tiny_model_dir, url, num_requests=3), tmp_path / "completions")
    chat = [json.loads(x) for x in (tmp_path / "chat" / "requests-rank-0.jsonl").read_text().splitlines()]
    plain = [json.loads(x) for x in (tmp_path / "completions" / "requests-rank-0.jsonl").read_text().splitlines()]
    assert all(r["reasoning_tokens"] == 0 and r["answer_tokens"] == r["output_tokens"] > 0 for r in chat)
    assert all(r["reasoning_source"] == "stream" and r["answer_ttft_s"] == r["ttft_s"] for r in chat)
    assert all(r["reasoning_tokens"] is None and r["answer_tokens"] is None for r in plain)


def _record(chunks: list[tuple[str, str, int]], itl_source: str) -> RequestRecord:
    """A record fed chunks of (reasoning, content, tokens), as http_stream feeds them."""
    r = RequestRecord(index=0, scheduled_s=None, send_unix_s=0.0)
    r.itl_source = itl_source
    for t, (thought, content, tokens) in enumerate(chunks, 1):
        r.add_chunk(float(t), tokens)
        r.add_reasoning(float(t), tokens, thought, thought + content)
        r.text += thought + content
    r.output_tokens, r.end_unix_s = sum(c[2] for c in chunks), float(len(chunks))
    return r


def test_the_stream_counts_reasoning_where_every_chunk_carried_the_running_count() -> None:
    exact = _record([("a b", "", 2), ("c", "", 1), ("", "yes", 1)], "usage")
    per_chunk = _record([("a b", "", 1), ("", "yes", 1)], "chunks")
    mixed = _record([("a", "", 1), ("b", "yes", 2)], "usage")
    split_answer_tokens([exact, per_chunk, mixed], "chat", lambda texts: [len(t.split()) * 10 for t in texts])
    assert (exact.reasoning_tokens, exact.answer_tokens, exact.reasoning_source) == (3, 1, "stream")
    assert (per_chunk.reasoning_tokens, per_chunk.reasoning_source) == (2, "tokenizer")  # min(20, 2 output)
    assert (mixed.reasoning_tokens, mixed.reasoning_source) == (3, "tokenizer")  # "ab" is 1 word: 10, capped at 3
    assert exact.answer_ttft_s == 3.0 and exact.ttft_s == 1.0 and mixed.answer_ttft_s == 2.0
