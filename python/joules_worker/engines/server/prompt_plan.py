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
request; vLLM's ``prefix_repetition`` with ``load.shared_prefix_count: N``): N distinct texts of n
tokens each (as the tokenizer counts them alone), cut one after another from the dataset's last
prompts; prompt j starts with prefix j mod N (so measured request i, which sends prompt warm-up + i,
cycles through them), and prompts are selected to fit ``max_input_tokens`` − n, or built to
``lengths.input`` tokens after the prefix.

Issue 23 (workloads/prompt_set.py): prompts may be synthetic (``lengths.input``), and each may carry
its own answer length (``lengths.output``): that request's ``max_tokens``, held by ``min_tokens`` or
``ignore_eos`` in its own fields (workloads/output_lengths.py, ``enforce_with``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from joules_worker.errors import BadConfigError
from joules_worker.workloads.output_lengths import OutputLengths, enforcement, own_fields

# A trace arrival's wanted input length, or None.
Wanted = int | None


def workload_of(reuse: bool, shared_prefix_tokens: int | None) -> str:
    """The row's ``serving_workload``: ``shared_prefix``, ``reuse`` or ``distinct``."""
    if shared_prefix_tokens:
        return "shared_prefix"
    return "reuse" if reuse else "distinct"


def shared_prefix(all_prompts: Sequence[str], tokenizer: Any, tokens: int) -> str:
    """A text of ``tokens`` tokens from the dataset's last prompts (joined), plus a blank line."""
    return shared_prefixes(all_prompts, tokenizer, tokens, 1)[0]


def shared_prefixes(all_prompts: Sequence[str], tokenizer: Any, tokens: int, count: int) -> list[str]:
    """``count`` distinct texts of ``tokens`` tokens each (counted alone), cut one after another from
    the dataset's last prompts (joined), each plus a blank line."""
    from joules_worker.workloads.synthetic_prompts import SyntheticPrompts

    ids: list[int] = []
    for prompt in reversed(all_prompts):
        ids += tokenizer(prompt + "\n", add_special_tokens=False)["input_ids"]
        if len(ids) >= tokens * count + count:
            break
    else:
        raise BadConfigError(
            f"load.shared_prefix_tokens: {count} prefix(es) of {tokens} tokens is more than the whole dataset has "
            f"({len(ids)}); lower it (or load.shared_prefix_count)"
        )

    def alone(texts: list[str]) -> list[int]:
        return [len(row) for row in tokenizer(texts, add_special_tokens=False)["input_ids"]]

    cutter = SyntheticPrompts(ids, tokenizer.decode, alone)
    return [cutter.build(tokens) + "\n\n" for _ in range(count)]


class PromptPlan:
    def __init__(
        self,
        prompts: Sequence[str],
        lengths: Sequence[int],
        warmup: int,
        reuse: bool,
        output: OutputLengths | None = None,
    ) -> None:
        if not prompts:
            raise BadConfigError("num_input_prompts: no prompt to send")
        self.prompts = list(prompts)
        self.lengths = list(lengths)
        self.warmup = warmup
        self.reuse = reuse
        self.output = output  # each prompt's answer length (lengths.output), or None
        self.enforced: str | None = None  # how a server is held to it (enforce_with)
        self._hold: tuple[int, str | None] = (0, None)  # (min_output_tokens, dialect)
        self.sent: dict[int, str] = {}  # measured request index -> its prompt
        self.sent_at: dict[int, int] = {}  # measured request index -> its prompt's index
        self.drawn_input: list[int] | None = None  # lengths.input: each prompt's drawn length
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
        self.sent_at[index] = j
        return prompt

    def enforce_with(self, lengths: Any, dialect: str | None, min_output_tokens: int, replayed: bool = False) -> None:
        """Resolve ``lengths.enforce`` for the server's dialect (output_lengths.enforcement; ``replayed``:
        a public trace's output lengths are held too)."""
        self.enforced = enforcement(lengths, dialect, replayed)
        self._hold = (min_output_tokens, dialect)

    def max_tokens_of(self, index: int, default: int) -> int:
        """Measured request ``index``'s max_tokens: its prompt's answer length, else ``default``."""
        return default if self.output is None else self.output.lengths[self.sent_at[index]]

    def own_fields(self, max_tokens: int) -> dict[str, Any] | None:
        """The request's own body fields holding it to ``max_tokens`` (None: none)."""
        return own_fields(self.enforced, max_tokens, *self._hold) or None

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
    ``max_input_tokens``, or synthetic ones of ``lengths.input`` tokens, after a shared prefix where
    the load asks for one), their answer lengths, and who sends which."""
    from joules_worker.prompts import load_prompts_and_answers
    from joules_worker.workloads.prompt_set import prompt_set

    load = config.load
    texts = load_prompts_and_answers(config.dataset)
    budget, prefixes = config.max_input_tokens, [""]
    if load.shared_prefix_tokens:
        if load.shared_prefix_tokens >= budget:
            raise BadConfigError(
                f"load.shared_prefix_tokens: {load.shared_prefix_tokens} leaves no room under max_input_tokens {budget}"
            )
        prefixes = shared_prefixes(texts[0], tokenizer, load.shared_prefix_tokens, load.shared_prefix_count)
        budget -= load.shared_prefix_tokens
    server_count = input_counter(tokenizer, api)
    chosen = prompt_set(config, tokenizer, count, server_count, budget, lambda j: prefixes[j % len(prefixes)], texts)
    plan = PromptPlan(
        chosen.prompts, server_count(chosen.prompts), load.warmup_requests, load.prompt_reuse, chosen.output
    )
    plan.drawn_input = chosen.drawn_input
    return plan
