"""One measured request as the load generator records it, and how its streamed chunks become
per-token timings.

TTFT is stamped on the first chunk that carries output, as ``vllm bench serve`` stamps it on the first
chunk with ``choices``: a completions chunk counts even with empty text (vLLM streams some tokens so),
a chat chunk counts with ``content`` or reasoning (``reasoning_content`` / ``reasoning``), not when it
only announces the role. Inter-token latency is per token: a chunk that carries k tokens after a gap g
adds k gaps of g/k (the first chunk's further tokens arrived with it: gaps of 0), so a request of N
tokens has N − 1 gaps summing to its decode time. The tokens per chunk come from the server's running
count where it sends one on every chunk (vLLM's ``continuous_usage_stats``: ``itl_source`` "usage"),
else each chunk with output is one token (``itl_source`` "chunks": exact where a server streams one
token per chunk; a closing chunk with empty text is a token only when the final count says so).
``chunk_gaps_s`` and ``chunk_tokens`` keep the chunks as they came.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# not written to the requests file
_PRIVATE = (
    "text",
    "sent",
    "rejected_fields",
    "last_chunk_unix_s",
    "usage_tokens",
    "closing_unix_s",
    "reasoning_text",
    "reasoning_stream_tokens",
    "reasoning_mixed",
)


@dataclass
class RequestRecord:
    index: int
    scheduled_s: float | None  # planned send offset from the load start (open loop), else None
    send_unix_s: float
    first_token_unix_s: float | None = None
    end_unix_s: float | None = None
    ttft_s: float | None = None
    itl_s: list[float] = field(default_factory=list)  # per token (see the module's docstring)
    input_tokens: int | None = None
    output_tokens: int | None = None
    tokens_counted: bool = False  # True: no usage from the server, counted with the tokenizer
    status: int | None = None  # HTTP status; None when no response came
    error: str | None = None  # why it failed; None = success
    error_kind: str | None = None  # "http" | "garbage" | "truncated" | "stall" | "unreachable"
    reasoning_tokens: int | None = None  # of output_tokens, the reasoning's (answer_tokens.py)
    chunk_gaps_s: list[float] = field(default_factory=list)  # between successive chunks with output
    chunk_tokens: list[int] = field(default_factory=list)  # tokens of each chunk with output
    itl_source: str | None = None  # "usage" | "chunks": where the tokens per chunk came from
    send_lag_s: float | None = None  # open loop: how late the send ran behind its schedule
    # issue 23: reasoning apart from the answer (chat deltas' reasoning_content / reasoning)
    answer_tokens: int | None = None  # output_tokens − reasoning_tokens
    reasoning_source: str | None = None  # "usage" | "stream" | "tokenizer": where reasoning_tokens came from
    first_answer_unix_s: float | None = None  # the first answer (not reasoning) chunk
    answer_ttft_s: float | None = None  # send to the first answer chunk: what a reader of the answer waits
    # issue 23: multi-turn sessions (session_load.py) and each request's energy (energy_attribution.py)
    session: int | None = None  # the session it belongs to (0-based, in start order); None outside sessions
    turn: int | None = None  # its turn within the session (1-based); None outside sessions
    energy_j: float | None = None  # its share of the window's energy; None without an energy reading
    text: str = field(default="", repr=False)  # the output (reasoning and content), to count tokens
    sent: bool = field(default=False, repr=False)  # send_unix_s was restamped by the trace
    rejected_fields: list[str] = field(default_factory=list, repr=False)  # named by a 4xx answer
    last_chunk_unix_s: float | None = field(default=None, repr=False)
    usage_tokens: int = field(default=0, repr=False)  # the running count of continuous usage
    closing_unix_s: float | None = field(default=None, repr=False)  # a closing chunk with empty text
    reasoning_text: str = field(default="", repr=False)
    reasoning_stream_tokens: int = field(default=0, repr=False)  # tokens of reasoning-only chunks
    reasoning_mixed: bool = field(default=False, repr=False)  # a chunk carried reasoning and answer

    @property
    def ok(self) -> bool:
        return self.error is None

    def add_chunk(self, now: float, tokens: int) -> None:
        """A chunk with ``tokens`` output tokens reached the client at ``now``."""
        if tokens <= 0:
            return
        if self.last_chunk_unix_s is None:
            self.first_token_unix_s = now
            self.ttft_s = now - self.send_unix_s
            self.itl_s.extend([0.0] * (tokens - 1))
        else:
            gap = now - self.last_chunk_unix_s
            self.chunk_gaps_s.append(gap)
            self.itl_s.extend([gap / tokens] * tokens)
        self.chunk_tokens.append(tokens)
        self.last_chunk_unix_s = now

    def add_reasoning(self, now: float, tokens: int, thought: str, text: str) -> None:
        """A chunk's reasoning (``thought``) and whole text: reasoning-only chunks' tokens are the
        reasoning's; the first chunk with answer text stamps the answer's first token."""
        if thought:
            self.reasoning_text += thought
            if len(thought) == len(text):
                self.reasoning_stream_tokens += max(tokens, 0)
            else:
                self.reasoning_mixed = True
        if self.first_answer_unix_s is None and len(text) > len(thought):
            self.first_answer_unix_s = now
            self.answer_ttft_s = now - self.send_unix_s

    def close_chunks(self) -> None:
        """The stream is whole: a closing chunk with empty text was a token (vLLM's EOS) when the
        server's final count has exactly one token more than the chunks counted."""
        if self.closing_unix_s is not None and self.output_tokens == sum(self.chunk_tokens) + 1:
            self.add_chunk(self.closing_unix_s, 1)
        self.closing_unix_s = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in _PRIVATE:
            out.pop(key)
        out["e2e_s"] = None if self.end_unix_s is None else self.end_unix_s - self.send_unix_s
        return out
