"""NDJSON progress events on stdout (contract v1): one JSON object per line.

Each event is written with a single ``write`` and a flush, so lines stay whole when several
ranks share one pipe. Everything else (logs) goes to stderr.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, TextIO

EVENT_VERSION = 1


class EventEmitter:
    """Writes events for one rank. ``rank`` may be updated once the distributed state is known.
    Safe from several threads (the NVML sampler's thread emits ``power`` events)."""

    _write_lock = threading.Lock()

    def __init__(self, rank: int = 0, stream: TextIO | None = None) -> None:
        self.rank = rank
        self._stream = stream

    def emit(self, event: str, **fields: Any) -> dict[str, Any]:
        record = {"v": EVENT_VERSION, "event": event, "rank": self.rank, "time": time.time(), **fields}
        line = json.dumps(record, allow_nan=False, separators=(",", ":"))
        stream = self._stream if self._stream is not None else sys.stdout
        with self._write_lock:
            stream.write(line + "\n")
            stream.flush()
        return record

    def stage(self, stage: str) -> None:
        self.emit("stage", stage=stage)


class RecordingEmitter(EventEmitter):
    """Keeps events in a list (in-process use from tests)."""

    def __init__(self, rank: int = 0) -> None:
        super().__init__(rank)
        self.events: list[dict[str, Any]] = []

    def emit(self, event: str, **fields: Any) -> dict[str, Any]:
        record = {"v": EVENT_VERSION, "event": event, "rank": self.rank, "time": time.time(), **fields}
        json.dumps(record, allow_nan=False)  # same serialisability check as the real emitter
        self.events.append(record)
        return record
