"""The engines, registered explicitly by name; each module is imported only when used."""

from __future__ import annotations

import importlib

from joules_worker.engines.base import Engine

ENGINES: dict[str, tuple[str, str]] = {
    "transformers": ("joules_worker.engines.transformers_engine", "TransformersEngine"),
    "server": ("joules_worker.engines.server", "ServerEngine"),
}


def engine_for(name: str) -> Engine:
    if name not in ENGINES:
        raise KeyError(f"unknown engine {name!r} (known: {', '.join(ENGINES)})")
    module, cls = ENGINES[name]
    return getattr(importlib.import_module(module), cls)()


__all__ = ["ENGINES", "Engine", "engine_for"]
