"""Reasoning tokens apart from answer tokens, per request, where the server separates them.

A reasoning model served with a reasoning parser (vLLM ``--reasoning-parser``, SGLang, DeepSeek's
API) streams its thinking in the chat deltas' ``reasoning_content`` (vLLM since 0.10: ``reasoning``)
and the answer in ``content``. Each request's ``reasoning_tokens`` come from, in this order:
- ``usage``: the server's own count (``usage.completion_tokens_details.reasoning_tokens``);
- ``stream``: the tokens of the reasoning-only chunks, where every chunk carried the server's running
  token count (``itl_source`` "usage": exact) or no reasoning was streamed at all (0);
- ``tokenizer``: the reasoning text counted with the model's tokenizer (one token per chunk is not
  exact where a server batches tokens into chunks, and a chunk may carry both).
``answer_tokens`` = output_tokens − reasoning_tokens. On the completions API nothing separates them:
both stay None. TTFT stays the first token of either (request_record.py); ``answer_ttft_s`` is the
wait for the answer's first chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from joules_worker.engines.server.request_record import RequestRecord


def split_answer_tokens(
    records: Sequence[RequestRecord], api: str, count_output: Callable[[list[str]], list[int]]
) -> None:
    """Fill reasoning_tokens, reasoning_source and answer_tokens of the successful records."""
    if api != "chat":
        for r in records:  # nothing tells reasoning from answer here: no answer-only figure either
            r.first_answer_unix_s = r.answer_ttft_s = None
        return
    todo: list[RequestRecord] = []
    for r in records:
        if not r.ok:
            continue
        if r.reasoning_source == "usage":
            pass
        elif not r.reasoning_text:
            r.reasoning_tokens, r.reasoning_source = 0, "stream"
        elif r.itl_source == "usage" and not r.reasoning_mixed:
            r.reasoning_tokens, r.reasoning_source = r.reasoning_stream_tokens, "stream"
        else:
            todo.append(r)
    for r, n in zip(todo, count_output([r.reasoning_text for r in todo]), strict=True):
        r.reasoning_tokens, r.reasoning_source = n, "tokenizer"
    for r in records:
        if r.ok and r.reasoning_tokens is not None and r.output_tokens is not None:
            r.reasoning_tokens = min(r.reasoning_tokens, r.output_tokens)
            r.answer_tokens = r.output_tokens - r.reasoning_tokens
