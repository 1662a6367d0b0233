"""Engines: how an experiment's tokens are produced. ``transformers`` (Hugging Face generate on
fixed batches, the default) or ``server`` (an OpenAI-compatible server under request load)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:  # the config imports engines.settings: no import cycle at run time
    from joules_worker.config import ExperimentConfig
    from joules_worker.events import EventEmitter


class Engine(ABC):
    name: ClassVar[str]

    @abstractmethod
    def run(self, config: ExperimentConfig, output_dir: str | Path, events: EventEmitter) -> Path:
        """Run the experiment on this rank; returns the path of rank-<r>.json."""
