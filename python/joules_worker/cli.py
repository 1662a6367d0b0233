"""``python -m joules_worker --config X --output-dir D``: run one rank, map failures to exit codes."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from joules_worker import CONTRACT_VERSION
from joules_worker.distributed import env_rank
from joules_worker.errors import WorkerError, to_worker_error
from joules_worker.events import EventEmitter

logger = logging.getLogger(__name__)
LOG_LEVEL_ENV = "JOULES_WORKER_LOG_LEVEL"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m joules_worker",
        description="Run one rank of a Joules experiment (contract v2, see contract/V2.md).",
    )
    parser.add_argument("--config", required=True, help="validated, effective experiment JSON")
    parser.add_argument("--output-dir", required=True, help="folder for rank-<r>.json / error-rank-<r>.json")
    parser.add_argument(
        "--session",
        action="store_true",
        help="after this experiment, run more on the loaded model: one {experiment, output_dir} JSON per stdin line",
    )
    return parser


def configure_logging(rank: int) -> None:
    """Logs go to stderr; stdout carries only NDJSON events."""
    level = os.environ.get(LOG_LEVEL_ENV, "INFO").upper()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"%(asctime)s rank{rank} %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level if isinstance(logging.getLevelName(level), int) else "INFO")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # usage errors exit 2
    events = EventEmitter(rank=env_rank())
    configure_logging(events.rank)
    from joules_worker import power_events

    power_events.install(events)
    from joules_worker.parent_watch import watch_parent

    watch_parent()
    output_dir = Path(args.output_dir)
    session = None
    try:
        from joules_worker.config import load_experiment
        from joules_worker.engines import engine_for

        config = load_experiment(args.config)
        engine = engine_for(config.engine)
        if args.session:
            session = engine.open_session(events)
            session.serve(config, output_dir)
            return 0
        return engine.start(config, args.config, output_dir, events)
    except Exception as exc:  # noqa: BLE001 - the one place every failure becomes an exit code
        err = to_worker_error(exc)
        report_failure(err, exc, session.output_dir if session is not None else output_dir, events)
        return err.exit_code


def report_failure(err: WorkerError, exc: BaseException, output_dir: Path | None, events: EventEmitter) -> None:
    """Log, write error-rank-<r>.json (unless no output folder is known), and emit the error event."""
    text = "".join(traceback.format_exception(exc))
    message = str(err)
    logger.error("%s failure: %s\n%s", err.kind, message, text)
    record = {
        "schema_version": CONTRACT_VERSION,
        "rank": events.rank,
        "kind": err.kind,
        "message": message,
        "traceback": text,
    }
    try:
        from joules_worker.atomic_files import write_json_atomic

        if output_dir is not None:
            write_json_atomic(output_dir / f"error-rank-{events.rank}.json", record)
    except OSError as e:
        logger.error("cannot write the error file into %s: %s", output_dir, e)
    events.emit("error", kind=err.kind, message=message)
