"""The kit's log: every line timestamped from the start, to stderr as it comes and into gpu-check.log."""

from __future__ import annotations

import sys
import time


class Log:
    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.lines: list[str] = []

    def __call__(self, text: str) -> None:
        line = f"[{time.monotonic() - self.t0:7.1f} s] {text}"
        self.lines.append(line)
        print(line, file=sys.stderr, flush=True)
