"""Each prompt's answer length (issue 23, ``lengths.output``) and how a server is held to it.

- Drawn: ``lengths.output`` a distribution (distributions.py), seeded, at most ``max_output_tokens``.
- ``{distribution: dataset}``: the length of the prompt's dataset answer in the model's tokens (no
  special tokens), at most ``cap`` and ``max_output_tokens``, at least 1; a prompt without an answer
  (a conversation's last turn unanswered) gets the cap (``missing`` counts them).

Enforcement (``lengths.enforce``): ``max_tokens`` is each request's own length; ``min_tokens`` (= max_tokens)
or ``ignore_eos: true`` in the request's own fields holds the server to it (vLLM's fields); ``none`` sends
max_tokens only (an answer may end early at EOS). ``auto`` = min_tokens where the dialect is vllm, else none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from joules_worker.errors import BadConfigError
from joules_worker.workloads.distributions import draw, lengths_seed


@dataclass(frozen=True)
class OutputLengths:
    lengths: list[int]  # per prompt
    missing: int | None = None  # dataset mode: prompts without an answer (given the cap); None when drawn


def output_lengths(
    config: Any, n: int, answers: Sequence[str | None], count_output: Callable[[list[str]], list[int]]
) -> OutputLengths | None:
    """The answer length of each of ``n`` prompts (``answers``: their dataset answers), or None
    where ``lengths.output`` is unset (every request max_output_tokens, as before)."""
    spec = config.lengths.output
    if spec is None:
        return None
    top = config.max_output_tokens
    if spec.distribution != "dataset":
        return OutputLengths([min(v, top) for v in draw(spec, n, lengths_seed(config), "lengths.output")])
    cap = min(spec.cap or top, top)
    if answers and all(a is None for a in answers):
        raise BadConfigError(
            "lengths.output.distribution: \"dataset\" takes each answer's length from the dataset's answers, and "
            "these prompts have none (a prompt dataset, or synthetic prompts of lengths.input): use a conversation "
            "dataset (dataset.format sharegpt or openai_chat) or a drawn distribution"
        )
    counts = count_output([a or "" for a in answers])
    out = [cap if a is None else max(1, min(c, cap)) for a, c in zip(answers, counts, strict=True)]
    return OutputLengths(out, sum(1 for a in answers if a is None))


def enforcement(lengths: Any, dialect: str | None, replayed: bool = False) -> str | None:
    """``min_tokens`` | ``ignore_eos`` | ``none``, or None where ``lengths.output`` is unset (and no
    public trace's output lengths are ``replayed``, engines/server/trace_prompts.py)."""
    if lengths.output is None and not replayed:
        return None
    mode = lengths.enforce
    if mode == "auto":
        return "min_tokens" if dialect == "vllm" else "none"
    if mode != "none" and dialect != "vllm":
        raise BadConfigError(
            f"lengths.enforce: {mode} is a vLLM request field and server.dialect is {dialect}; "
            "set server.dialect: vllm if the server accepts it, or lengths.enforce: none (max_tokens only)"
        )
    return mode


def own_fields(enforced: str | None, max_tokens: int, min_output_tokens: int, dialect: str | None) -> dict[str, Any]:
    """A request's own body fields holding it to ``max_tokens`` (request_fields.request_body ``own``)."""
    if enforced is None:
        return {}
    if enforced == "min_tokens":
        return {"min_tokens": max_tokens}
    own: dict[str, Any] = {"ignore_eos": True} if enforced == "ignore_eos" else {}
    if dialect == "vllm":  # the dialect's min_tokens (min_output_tokens) never above this request's max_tokens
        own["min_tokens"] = min(min_output_tokens, max_tokens)
    return own
