"""Prompts built to a drawn token length from the dataset's own text (issue 23, ``lengths.input``).

The dataset's prompts are tokenized (no special tokens) and joined into one stream of token ids; each
prompt is the next window of that stream, decoded. Decoding and re-encoding need not give back the
same number of tokens (merges across the cut, a leading space, the BOS token, a chat template), so
each window is fitted: its server-side count (``count``: the plain text with the tokenizer's special
tokens, or the chat template on the chat API, prompt_plan.input_counter) is compared with the wanted
one and the window widened or narrowed until they agree; where a window cannot (the tokenizer maps
two neighbouring widths to the same count), the stream is shifted by a token and tried again. The
count that still differs after that is kept as the nearest and logged (``misses``).

A prompt of length L counts L tokens as the server counts them (its BOS or template included). After
a ``head`` (a shared prefix), the prompt counts the head's own count plus L: L is the suffix's length.
Windows follow each other through the stream (wrapping around), so prompts share no text unless the
dataset is shorter than the tokens asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from joules_worker.errors import BadConfigError

logger = logging.getLogger(__name__)
FIT_STEPS = 8  # width corrections per window
SHIFTS = 8  # windows tried per prompt


def token_stream(texts: Sequence[str], tokenizer: Any) -> list[int]:
    """The dataset's text as one stream of token ids (each prompt followed by a newline)."""
    ids: list[int] = []
    for start in range(0, len(texts), 256):
        part = [t + "\n" for t in texts[start : start + 256]]
        for row in tokenizer(part, add_special_tokens=False)["input_ids"]:
            ids += row
    if not ids:
        raise BadConfigError("lengths.input: the dataset has no text to build prompts from")
    return ids


class SyntheticPrompts:
    """Prompts of exact server-side token counts, cut one after another from ``stream``."""

    def __init__(self, stream: list[int], decode: Callable[[list[int]], str], count: Callable[[list[str]], list[int]]):
        self.stream = stream
        self.decode = decode
        self.count = count
        self.pos = 0
        self.misses = 0  # prompts whose count could not be made exact (the nearest kept)

    def _window(self, start: int, width: int) -> str:
        n = len(self.stream)
        ids = [self.stream[(start + t) % n] for t in range(max(width, 0))]
        return self.decode(ids)

    def build(self, length: int, head: str = "") -> str:
        """A prompt of ``length`` tokens (after ``head``: the head's count plus ``length``)."""
        base = self.count([head])[0]
        want = base + length if head else length
        best: tuple[int, str, int] | None = None  # (|error|, text, width)
        for shift in range(SHIFTS):
            start = self.pos + shift
            width = want - base
            tried: set[int] = set()
            for _ in range(FIT_STEPS):
                width = max(width, 0)
                if width in tried:
                    break
                tried.add(width)
                text = head + self._window(start, width)
                got = self.count([text])[0]
                if best is None or abs(got - want) < best[0]:
                    best = (abs(got - want), text, width)
                if got == want:
                    self.pos = start + width
                    return text
                width += want - got
        assert best is not None
        self.misses += 1
        logger.debug("synthetic prompt of %d tokens: %d off", length, best[0])
        self.pos += best[2]
        return best[1]


def synthetic_prompts(
    texts: Sequence[str],
    tokenizer: Any,
    count: Callable[[list[str]], list[int]],
    lengths: Sequence[int],
    heads: Sequence[str] | None = None,
) -> list[str]:
    """One prompt per wanted length (``heads[i]`` before prompt i, where given); see the module docstring."""
    maker = SyntheticPrompts(token_stream(texts, tokenizer), tokenizer.decode, count)
    prompts = [maker.build(n, heads[i] if heads else "") for i, n in enumerate(lengths)]
    if maker.misses:
        logger.warning(
            "lengths.input: %d of %d synthetic prompts could not be made exactly their drawn length "
            "with this tokenizer (the nearest kept)",
            maker.misses,
            len(prompts),
        )
    return prompts
