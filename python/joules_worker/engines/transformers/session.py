"""Session mode (``--session``): load the model once, run consecutive experiments on it.

``python -m joules_worker --config first.json --output-dir D --session`` runs the first experiment
into D, then reads further experiments from stdin, one JSON object per line:
``{"experiment": {...}, "output_dir": "/abs/dir"}``; EOF or ``{"end": true}`` ends the session
(exit 0). Under accelerate only rank 0 reads stdin and broadcasts each line to the other ranks
(``broadcast_object_list`` on a gloo group, so a wait between experiments never hits an NCCL
timeout). Every experiment must have the session's load settings (``load_settings``); one that
differs is a ``bad_config`` failure naming the fields.

Each experiment still gets its own output folder, log section, seed, idle baseline, warm-up,
peak-memory reset and energy window (``experiment_run.run_one``); the allocator cache is emptied between
experiments. After every rank wrote its file, rank 0 emits ``experiment_done`` with the rank files,
``model_reused`` and ``model_load_s``. The first failure ends the process (the caller starts a
fresh session: CUDA state after an OOM is not trusted). The wire format is described for the
TypeScript side in packages/launcher/src/session/README.md.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import sys
from pathlib import Path
from typing import Any, TextIO

from joules_worker.config import ExperimentConfig, parse_experiment
from joules_worker.distributed import DistContext
from joules_worker.engines.transformers.experiment_run import LoadedModel, load, run_one, start_rank
from joules_worker.engines.transformers.relaunch import needs_relaunch
from joules_worker.errors import BadConfigError, UnsupportedError
from joules_worker.events import EventEmitter

logger = logging.getLogger(__name__)


def load_settings(c: ExperimentConfig) -> dict[str, Any]:
    """What decides the loaded model (and the process world): experiments of a session share it."""
    return {
        "model_name": c.model_name,
        "model": dataclasses.asdict(c.model),  # revision, quantization, attn_implementation, ...
        "precision": c.precision,
        "num_processes": c.num_processes,
        "gpu_ids": list(c.gpu_ids),
        "launch.launcher": c.launch.launcher,
        "sharding.strategy": c.sharding.strategy,
    }


def load_settings_diff(a: ExperimentConfig, b: ExperimentConfig) -> list[str]:
    sa, sb = load_settings(a), load_settings(b)
    diff = []
    for key in sa:
        if key == "model":
            diff += [f"model.{k}" for k in sa["model"] if sa["model"][k] != sb["model"][k]]
        elif sa[key] != sb[key]:
            diff.append(key)
    return diff


class Channel:
    """The runner's messages: rank 0 reads a stdin line, every rank gets the same text."""

    def __init__(self, ctx: DistContext, stdin: TextIO | None) -> None:
        self.ctx = ctx
        self.stdin = stdin
        self.line_no = 0
        self.group = None
        if ctx.world_size > 1:
            import torch.distributed as dist

            self.group = dist.new_group(backend="gloo")  # collective: every rank makes it

    def next_line(self) -> str | None:
        text: str | None = None
        if self.ctx.rank == 0:
            stream = self.stdin if self.stdin is not None else sys.stdin
            while True:
                raw = stream.readline()
                self.line_no += 1
                if raw == "" or raw.strip():
                    break
            text = raw.strip() or None
        if self.group is not None:
            import torch.distributed as dist

            box = [text, self.line_no]
            dist.broadcast_object_list(box, src=0, group=self.group)
            text, self.line_no = box
        return text


class Session:
    """One rank's session. ``output_dir`` is the folder of the experiment running now (or last
    read from the runner): a failure's error file goes there."""

    def __init__(self, events: EventEmitter, ctx: DistContext | None = None, stdin: TextIO | None = None) -> None:
        self.events = events
        self.ctx = ctx
        self.stdin = stdin
        self.output_dir: Path | None = None
        self.index = 0

    def serve(self, config: ExperimentConfig, output_dir: str | Path) -> int:
        """Run the first experiment, then every one the runner sends; returns how many ran."""
        self.output_dir = Path(output_dir)
        if needs_relaunch(config):
            raise UnsupportedError(
                "--session with num_processes > 1 needs accelerate launch (RANK and WORLD_SIZE unset)"
            )
        ctx = start_rank(config, self.events, self.ctx)
        channel = Channel(ctx, self.stdin)
        first = config
        loaded = load(config, ctx, self.events)
        freeze_long_lived()
        try:
            while True:
                self.run_experiment(config, ctx, loaded)
                release_cache(ctx)
                message = channel.next_line()
                if message is None:
                    logger.info("session: end of input after %d experiment(s)", self.index)
                    return self.index
                config = self.accept(message, channel.line_no, first)
                if config is None:
                    return self.index
                loaded = dataclasses.replace(loaded, reused=True)
        finally:
            gc.unfreeze()  # an embedding process (tests) gets its collector back as it was

    def run_experiment(self, config: ExperimentConfig, ctx: DistContext, loaded: LoadedModel) -> None:
        assert self.output_dir is not None
        logger.info(
            "=== session experiment %d: %s -> %s (model %s)",
            self.index,
            config.config_name,
            self.output_dir,
            "reused" if loaded.reused else f"loaded in {loaded.load_s:.3f} s",
        )
        run_one(config, self.output_dir, self.events, ctx, loaded)
        ctx.barrier()  # every rank has written its file
        if ctx.rank == 0:
            out = self.output_dir.resolve()
            self.events.emit(
                "experiment_done",
                index=self.index,
                output_dir=str(out),
                rank_files=[str(out / f"rank-{r}.json") for r in range(ctx.world_size)],
                model_reused=loaded.reused,
                model_load_s=0.0 if loaded.reused else round(loaded.load_s, 6),
            )
        self.index += 1

    def accept(self, text: str, line_no: int, first: ExperimentConfig) -> ExperimentConfig | None:
        """Parse one runner message: the next experiment, or None for the end."""
        where = f"session input line {line_no}"
        self.output_dir = None  # the last experiment succeeded: a bad message never writes into its folder
        try:
            message = json.loads(text)
        except json.JSONDecodeError as e:
            raise BadConfigError(f"{where}: not valid JSON: {e}") from e
        if not isinstance(message, dict):
            raise BadConfigError(f"{where}: expected an object, got {type(message).__name__}")
        if message.get("end") is True and set(message) == {"end"}:
            return None
        unknown = sorted(set(message) - {"experiment", "output_dir"})
        if unknown:
            raise BadConfigError(f"{where}: {unknown[0]}: unknown key (known keys: experiment, output_dir, end)")
        out = message.get("output_dir")
        if not isinstance(out, str) or not out:
            raise BadConfigError(f"{where}: output_dir: expected a non-empty string")
        self.output_dir = Path(out)  # from here on a failure is this experiment's
        if "experiment" not in message:
            raise BadConfigError(f"{where}: experiment: missing")
        config = parse_experiment(message["experiment"])
        if config.engine != first.engine:
            raise UnsupportedError(
                f"{where}: engine {config.engine!r}: a session runs only its first experiment's engine ({first.engine!r})"
            )
        diff = load_settings_diff(first, config)
        if diff:
            sa, sb = load_settings(first), load_settings(config)
            detail = ", ".join(f"{k}: {_get(sb, k)!r} (session: {_get(sa, k)!r})" for k in diff)
            raise BadConfigError(f"{where}: load settings differ from the session's: {detail}; run it in a new session")
        return config


def _get(settings: dict[str, Any], key: str) -> Any:
    if key.startswith("model."):
        return settings["model"][key.removeprefix("model.")]
    return settings[key]


def freeze_long_lived() -> None:
    """After the load: what lives now (imports, model, tokenizer) lives for the whole session.
    gc.freeze moves it out of the collector's sight, so the collection between experiments scans
    only what experiments made (0.3 s per experiment otherwise, on a tiny model, for nothing)."""
    gc.collect()
    gc.freeze()


def release_cache(ctx: DistContext) -> None:
    """Between experiments: drop garbage and give the allocator's cached blocks back."""
    gc.collect()
    if getattr(ctx.device, "type", None) == "cuda":
        import torch

        torch.cuda.empty_cache()
