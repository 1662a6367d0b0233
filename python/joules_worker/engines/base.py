"""The base class of the engines (how an experiment's tokens are produced) and the traits each
declares. ``transformers``: Hugging Face ``generate`` on planned batches in the worker (the
default); ``server``: an OpenAI-compatible server under a request load. Register an engine in
``ENGINES`` (engines/__init__.py): the worker's entry point reaches it only through ``engine_for``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

from joules_worker.errors import UnsupportedError

if TYPE_CHECKING:
    from joules_worker.config import ExperimentConfig
    from joules_worker.events import EventEmitter


class EngineSession(Protocol):
    """A model-reuse session (``--session``): the first experiment, then more from stdin."""

    output_dir: Path | None  # the folder of the experiment running now: a failure's error file goes there

    def serve(self, config: ExperimentConfig, output_dir: str | Path) -> int: ...


class Engine(ABC):
    name: ClassVar[str]  # the experiment's ``engine`` value
    starts_server: ClassVar[bool]  # drives an inference server the TypeScript side starts (or attaches to)
    supports_sessions: ClassVar[bool]  # ``--session``: one loaded model, many experiments

    @abstractmethod
    def run(self, config: ExperimentConfig, output_dir: str | Path, events: EventEmitter) -> Path:
        """Run the experiment on this rank; returns the path of rank-<r>.json."""

    def start(self, config: ExperimentConfig, config_path: str, output_dir: Path, events: EventEmitter) -> int:
        """The worker's one-shot run (``python -m joules_worker --config config_path``); returns the
        exit code. An engine that must first start more processes overrides it."""
        self.run(config, output_dir, events)
        return 0

    def open_session(self, events: EventEmitter) -> EngineSession:
        """The session of an engine that ``supports_sessions``; the others refuse ``--session``."""
        why = "runs its own server" if self.starts_server else "cannot keep a model loaded"
        raise UnsupportedError(f"--session: engine {self.name!r} {why}; sessions reuse a model the worker loaded")
