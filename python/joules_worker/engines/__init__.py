"""The door to the engines: ``ENGINES`` registers each by name, explicitly; ``engine_for`` imports
an engine's module only when it is used. The worker's entry point (cli.py) reaches an engine only
through here, and no engine imports another (tests/test_import_graph.py)."""

from __future__ import annotations

import importlib

from joules_worker.engines.base import Engine

ENGINES: dict[str, tuple[str, str]] = {
    "transformers": ("joules_worker.engines.transformers.engine", "TransformersEngine"),
    "server": ("joules_worker.engines.server.engine", "ServerEngine"),
}


def engine_for(name: str) -> Engine:
    if name not in ENGINES:
        raise KeyError(f"unknown engine {name!r} (known: {', '.join(ENGINES)})")
    module, cls = ENGINES[name]
    return getattr(importlib.import_module(module), cls)()


__all__ = ["ENGINES", "Engine", "engine_for"]
