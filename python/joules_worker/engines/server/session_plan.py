"""What each session of a multi-turn load sends (``load.sessions``): its user turns in order, its
system message, and the think times before its turns after the first.

- A conversation dataset (``dataset.format`` sharegpt / openai_chat, workloads/conversations.py):
  a session is one conversation, its first ``load.sessions.turns`` user turns (null: all of them).
  The conversations are selected as the prompt plan selects prompts (the first ``num_input_prompts``
  whose first user turn fits ``max_input_tokens``); the warm-up sent the first ones' first turns, so
  session s is the conversation after them (warm-up + s), each once, unless ``load.prompt_reuse``
  (cycled from the first).
- A prompt dataset: a session's turns are ``turns`` consecutive prompts of the plan (required: a
  prompt file has no conversations), each prompt once unless ``load.prompt_reuse``.

A turn's answer length follows ``lengths.output`` where set (output_lengths.py): a prompt's drawn
length, or the conversation's own answer to that turn (``distribution: dataset``), held as the prompt
plan holds single requests (``lengths.enforce``); else ``load.max_tokens`` / ``max_output_tokens``.

Sessions are numbered from 0 in the order they start; ``script(s)`` is asked in that order, so the
think times, drawn from one seeded stream (``lengths.seed``, else ``seed``; workloads/distributions.py)
in session order, are the same whatever the server's speed. More sessions than the dataset holds is
a config error naming ``load.sessions.count``; a load bounded by ``load.duration_s`` alone stops
starting sessions when they run out (``ran_out``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from joules_worker.engines.server.prompt_plan import PromptPlan
from joules_worker.engines.server.request_fields import Prompt
from joules_worker.errors import BadConfigError

THINK_KEY = "load.sessions.think_time_s"
BLOCK = 1024  # think times drawn at a time


@dataclass(frozen=True)
class Script:
    turns: tuple[str, ...]  # the user turns, in order
    think_s: tuple[float, ...]  # the pause before each turn after the first
    system: str | None = None
    max_tokens: tuple[int | None, ...] = ()  # each turn's answer length (lengths.output); None: the load's


# A session's (user turns, system message, each turn's answer length or None).
Turns = tuple[tuple[str, ...], str | None, tuple[int | None, ...]]


class ThinkTimes:
    """The seeded stream of think times (a number: every pause that; else the distribution's draws,
    negative ones as 0), drawn in blocks of BLOCK (distributions.draw stratifies each block; block b
    on a seed of its own, ``seed + b·2³²``), so the stream is the same however far it is read."""

    def __init__(self, think: Any, seed: int) -> None:
        self.think, self.seed = think, seed
        self.drawn: list[float] = []
        self.used = 0

    def prime(self) -> None:
        """The first block drawn now (none taken): a distribution's file is read before the load."""
        used = self.used
        self.take(1)
        self.used = used

    def take(self, n: int) -> tuple[float, ...]:
        if isinstance(self.think, (int, float)):
            return (float(self.think),) * n
        from joules_worker.workloads.distributions import draw

        need = self.used + n
        while need > len(self.drawn):
            seed = self.seed + (len(self.drawn) // BLOCK) * 2**32
            self.drawn += [max(v, 0.0) for v in draw(self.think, BLOCK, seed, THINK_KEY, integers=False)]
        out, self.used = tuple(self.drawn[self.used : need]), need
        return out


class SessionPlan:
    def __init__(
        self, source: Callable[[int], Turns], capacity: int | None, think: ThinkTimes, plan: PromptPlan
    ) -> None:
        self.source = source
        self.plan = plan  # how a request is held to its answer length (lengths.enforce)
        self.limit = capacity  # sessions the dataset allows (None: unbounded, with reuse)
        self.think = think
        self.sent: dict[int, list[dict[str, str]]] = {}  # request index -> the messages it sent
        self.ran_out = False

    def capacity(self) -> int | None:
        return self.limit

    def script(self, session: int) -> Script | None:
        """Session ``session``'s turns (asked once, in session order); None when the dataset ran out."""
        if self.limit is not None and session >= self.limit:
            self.ran_out = True
            return None
        turns, system, lengths = self.source(session)
        return Script(turns, self.think.take(len(turns) - 1), system, lengths)

    def own_fields(self, max_tokens: int) -> dict[str, Any] | None:
        """A turn's own body fields holding it to its answer length (prompt_plan.PromptPlan.own_fields)."""
        return self.plan.own_fields(max_tokens)

    def prompt_of(self, index: int) -> Prompt:
        return self.sent[index]


def _too_many(count: int | None, capacity: int | None, what: str) -> None:
    if count is not None and capacity is not None and count > capacity:
        raise BadConfigError(
            f"load.sessions.count: {count} sessions need more than the dataset holds ({capacity} sessions of {what} "
            "after the warm-up). Raise num_input_prompts, lower load.sessions.count, or set load.prompt_reuse: true"
        )


def session_plan(
    config: Any,
    plan: PromptPlan,
    count: Callable[[list[str]], list[int]],
    count_output: Callable[[list[str]], list[int]],
) -> SessionPlan | None:
    """The experiment's sessions (None: ``load.sessions`` unset, single requests). ``count``: the
    tokens of a prompt with special tokens (selection), ``count_output``: of an answer's text."""
    load = config.load
    spec = load.sessions
    if spec is None:
        return None
    from joules_worker.workloads.conversations import load_conversations, resolved_format
    from joules_worker.workloads.distributions import lengths_seed

    think = ThinkTimes(spec.think_time_s, lengths_seed(config))
    think.prime()  # a think-time histogram read now: a bad file fails before the warm-up, not in the window
    if resolved_format(config.dataset) == "prompts":
        if spec.turns is None:
            raise BadConfigError(
                "load.sessions.turns: set it with a prompt dataset (a session's turns are that many consecutive "
                "prompts); it may be null only with a conversation dataset (dataset.format sharegpt or openai_chat)"
            )
        turns = spec.turns
        capacity = None if plan.reuse else (len(plan.prompts) - plan.warmup) // turns
        _too_many(spec.count, capacity, f"{turns} consecutive prompts")

        def from_prompts(s: int) -> Turns:
            keys = [s * turns + j for j in range(turns)]
            prompts = tuple(plan.prompt_for(k, None) for k in keys)
            out = plan.output
            return prompts, None, tuple(None if out is None else out.lengths[plan.sent_at[k]] for k in keys)

        return SessionPlan(from_prompts, capacity, think, plan)
    from joules_worker.prompts import select_indices
    from joules_worker.workloads.output_lengths import output_lengths

    if config.lengths.input is not None:
        raise BadConfigError(
            "lengths.input: not with sessions on a conversation dataset (each turn is the conversation's own); "
            "with a prompt dataset (dataset.format prompts) a session's turns are drawn-length prompts"
        )
    everything = load_conversations(config.dataset)
    firsts = [c.user_turns[0] for c in everything]
    chosen = [everything[i] for i in select_indices(firsts, count, config.max_input_tokens, config.num_input_prompts)]
    skip = 0 if load.prompt_reuse else min(plan.warmup, len(chosen))
    capacity = None if load.prompt_reuse else len(chosen) - skip
    _too_many(spec.count, capacity, "conversations")

    used = [len(c.user_turns) if spec.turns is None else min(spec.turns, len(c.user_turns)) for c in chosen]
    answers = [a for c, n in zip(chosen, used, strict=True) for a in c.answers[:n]]
    drawn = output_lengths(config, len(answers), answers, count_output)  # lengths.output: per turn
    starts = [sum(used[:k]) for k in range(len(chosen))]

    def from_conversations(s: int) -> Turns:
        k = (skip + s) % len(chosen)
        c, n = chosen[k], used[k]
        lengths = drawn.lengths[starts[k] : starts[k] + n] if drawn is not None else [None] * n
        return c.user_turns[:n], c.system, tuple(lengths)

    return SessionPlan(from_conversations, capacity, think, plan)


def messages_counter(tokenizer: Any, single: Callable[[list[str]], list[int]]) -> Callable[[list[Prompt]], list[int]]:
    """Token counts of prompts as the chat API sees them: a message list (a session's turn with its
    history) through the tokenizer's chat template of the whole list, the generation prompt added
    (without a template, its contents joined by newlines, as one text); a text by ``single``."""
    has_template = bool(getattr(tokenizer, "chat_template", None))

    def one(messages: list[dict[str, str]]) -> int:
        if not has_template:
            return single(["\n".join(m["content"] for m in messages)])[0]
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        return len(ids["input_ids"] if isinstance(ids, Mapping) else ids)

    def count(prompts: list[Prompt]) -> list[int]:
        texts = [p for p in prompts if isinstance(p, str)]
        counted = iter(single(texts) if texts else [])
        return [next(counted) if isinstance(p, str) else one(p) for p in prompts]

    return count
