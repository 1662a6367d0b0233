"""Engine "transformers": the worker's batched ``generate`` (joules_worker.runner)."""

from __future__ import annotations

from pathlib import Path

from joules_worker.config import ExperimentConfig
from joules_worker.engines.base import Engine
from joules_worker.events import EventEmitter


class TransformersEngine(Engine):
    name = "transformers"

    def run(self, config: ExperimentConfig, output_dir: str | Path, events: EventEmitter) -> Path:
        from joules_worker.runner import run

        return run(config, output_dir, events)
