"""Which prompt each request of the serving load sends.

By default (``load.prompt_reuse: false``) every request gets a prompt of its own: the warm-up takes
the first ``load.warmup_requests`` prompts and measured request i the prompt after them (warm-up +
i), so the server has seen no measured prompt in this run and its prefix cache (vLLM's is on by
default) cannot serve one from a repeat. More requests than prompts is a config error naming
``load.num_requests`` and ``num_input_prompts``; a load bounded by ``load.duration_s`` alone stops
sending when the prompts run out (the summary says ``prompts_ran_out``). A trace request gets the
unused prompt nearest its ``input_tokens``.

``load.prompt_reuse: true`` is the old cycle, and an explicit choice: request i gets prompt
i mod P, the warm-up the first prompts again, a trace request the nearest of all prompts; repeats
are then what a prefix cache serves.

``load.shared_prefix_tokens: n`` is the prefix-sharing workload (a system prompt shared by every
request): each prompt starts with the same text of n tokens (as the tokenizer counts it alone),
cut from the dataset's last prompts, and prompts are selected to fit ``max_input_tokens`` − n.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from joules_worker.errors import BadConfigError

# A trace arrival's wanted input length, or None.
Wanted = int | None


def workload_of(reuse: bool, shared_prefix_tokens: int | None) -> str:
    """The row's ``serving_workload``: ``shared_prefix``, ``reuse`` or ``distinct``."""
    if shared_prefix_tokens:
        return "shared_prefix"
    return "reuse" if reuse else "distinct"


def shared_prefix(all_prompts: Sequence[str], tokenizer: Any, tokens: int) -> str:
    """A text of ``tokens`` tokens from the dataset's last prompts (joined), plus a blank line."""
    ids: list[int] = []
    for prompt in reversed(all_prompts):
        ids += tokenizer(prompt + "\n", add_special_tokens=False)["input_ids"]
        if len(ids) >= tokens:
            return tokenizer.decode(ids[:tokens]) + "\n\n"
    raise BadConfigError(
        f"load.shared_prefix_tokens: {tokens} tokens is more than the whole dataset has ({len(ids)}); lower it"
    )


class PromptPlan:
    def __init__(self, prompts: Sequence[str], lengths: Sequence[int], warmup: int, reuse: bool) -> None:
        if not prompts:
            raise BadConfigError("num_input_prompts: no prompt to send")
        self.prompts = list(prompts)
        self.lengths = list(lengths)
        self.warmup = warmup
        self.reuse = reuse
        self.sent: dict[int, str] = {}  # measured request index -> its prompt
        self._unused = set(range(warmup, len(prompts))) if not reuse else set()
        self._next = warmup  # the first prompt that may still be unused
        self.ran_out = False

    def check(self, wanted: int | None, what: str) -> None:
        """A config error when ``wanted`` measured requests (plus the warm-up) need more prompts
        than there are (``what`` names the key that sets the count)."""
        if self.reuse or wanted is None:
            return
        have = len(self.prompts)
        if self.warmup + wanted > have:
            raise BadConfigError(
                f"{what} and num_input_prompts: {wanted} measured requests + {self.warmup} warm-up requests need "
                f"{self.warmup + wanted} distinct prompts, and only {have} were selected (num_input_prompts, "
                "max_input_tokens and the dataset decide). Raise num_input_prompts, lower the request count, or set "
                "load.prompt_reuse: true to cycle through the prompts (the server's prefix cache then serves repeats)"
            )

    def capacity(self) -> int | None:
        """How many measured requests the prompts allow (None: unbounded, with reuse)."""
        return None if self.reuse else len(self.prompts) - self.warmup

    def warmup_prompts(self) -> list[str]:
        return [self.prompts[i % len(self.prompts)] for i in range(self.warmup)]

    def prompt_for(self, index: int, wanted: Wanted) -> str:
        """Measured request ``index``'s prompt (remembered for token counting): with reuse the cycle's,
        else the first unused one, or for a trace arrival the unused one nearest its input length."""
        if wanted is not None:
            pool = [k for k in range(len(self.prompts)) if self.reuse or k in self._unused]
            if not pool:
                raise BadConfigError("load.trace_file and num_input_prompts: the trace has more arrivals than prompts")
            j = min(pool, key=lambda k: (abs(self.lengths[k] - wanted), k))
        elif self.reuse:
            j = index % len(self.prompts)
        else:
            while self._next not in self._unused:
                if self._next >= len(self.prompts):
                    raise BadConfigError("num_input_prompts: every prompt was sent once (set load.prompt_reuse: true)")
                self._next += 1
            j = self._next
        self._unused.discard(j)
        prompt = self.prompts[j]
        self.sent[index] = prompt
        return prompt

    def prompt_of(self, index: int) -> str:
        return self.sent[index]


def input_counter(tokenizer: Any, api: str) -> Callable[[list[str]], list[int]]:
    """Token counts of prompts as the server sees them: with ``server.api: chat`` through the
    tokenizer's chat template (one user message, the generation prompt added) where it has one;
    else the plain text with the tokenizer's special tokens."""
    if api == "chat" and getattr(tokenizer, "chat_template", None):

        def chat(texts: list[str]) -> list[int]:
            out = []
            for t in texts:
                ids = tokenizer.apply_chat_template(
                    [{"role": "user", "content": t}], add_generation_prompt=True, tokenize=True
                )
                out.append(len(ids["input_ids"] if isinstance(ids, Mapping) else ids))
            return out

        return chat

    def plain(texts: list[str]) -> list[int]:
        return [len(ids) for ids in tokenizer(texts, add_special_tokens=True)["input_ids"]] if texts else []

    return plain


def plan_for(config: Any, tokenizer: Any, count: Callable[[list[str]], list[int]], api: str) -> PromptPlan:
    """The experiment's prompts (the dataset's first ``num_input_prompts`` that fit
    ``max_input_tokens``, after a shared prefix where the load asks for one) and who sends which."""
    from joules_worker.prompts import load_prompts, select_prompts

    load = config.load
    everything = load_prompts(config.dataset)
    budget, prefix = config.max_input_tokens, ""
    if load.shared_prefix_tokens:
        if load.shared_prefix_tokens >= budget:
            raise BadConfigError(
                f"load.shared_prefix_tokens: {load.shared_prefix_tokens} leaves no room under max_input_tokens {budget}"
            )
        prefix = shared_prefix(everything, tokenizer, load.shared_prefix_tokens)
        budget -= load.shared_prefix_tokens
    prompts = [prefix + p for p in select_prompts(everything, count, budget, config.num_input_prompts)]
    return PromptPlan(prompts, input_counter(tokenizer, api)(prompts), load.warmup_requests, load.prompt_reuse)
