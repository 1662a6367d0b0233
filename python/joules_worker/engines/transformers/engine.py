"""Engine "transformers": this rank joins the process world, loads the model and runs the
experiment with batched ``generate`` (experiment_run.py). A bare start of a multi-process
experiment first relaunches itself under ``accelerate launch`` (relaunch.py); ``--session`` keeps
the model loaded for the experiments that follow (session.py)."""

from __future__ import annotations

from pathlib import Path

from joules_worker.config import ExperimentConfig
from joules_worker.distributed import DistContext
from joules_worker.engines.base import Engine
from joules_worker.engines.transformers.experiment_run import load, run_one, start_rank
from joules_worker.engines.transformers.relaunch import needs_relaunch, relaunch
from joules_worker.engines.transformers.session import Session
from joules_worker.events import EventEmitter


class TransformersEngine(Engine):
    name = "transformers"
    starts_server = False
    supports_sessions = True

    def run(
        self, config: ExperimentConfig, output_dir: str | Path, events: EventEmitter, ctx: DistContext | None = None
    ) -> Path:
        """``ctx``: an already joined process world (tests run a rank in-process)."""
        ctx = start_rank(config, events, ctx)
        return run_one(config, output_dir, events, ctx, load(config, ctx, events))

    def start(self, config: ExperimentConfig, config_path: str, output_dir: Path, events: EventEmitter) -> int:
        if needs_relaunch(config):
            return relaunch(config, config_path, str(output_dir))
        self.run(config, output_dir, events)
        return 0

    def open_session(self, events: EventEmitter) -> Session:
        return Session(events)
