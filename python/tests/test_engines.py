"""The engines behind the door: each registered name gives an Engine subclass that declares its
traits, and ``--session`` is offered only by the engines that support it."""

from __future__ import annotations

import pytest

from joules_worker.engines import ENGINES, Engine, engine_for
from joules_worker.errors import UnsupportedError
from joules_worker.events import RecordingEmitter


@pytest.mark.parametrize("name", list(ENGINES))
def test_each_engine_declares_its_traits(name: str) -> None:
    engine = engine_for(name)
    assert isinstance(engine, Engine) and type(engine).name == name
    for trait in ("starts_server", "supports_sessions"):
        assert isinstance(vars(type(engine)).get(trait), bool), f"{type(engine).__name__}.{trait} is not declared"


def test_an_unknown_engine_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown engine 'vllm' \\(known: transformers, server\\)"):
        engine_for("vllm")


@pytest.mark.parametrize("name", list(ENGINES))
def test_sessions_only_where_supported(name: str) -> None:
    engine = engine_for(name)
    if engine.supports_sessions:
        session = engine.open_session(RecordingEmitter())
        assert session.output_dir is None and callable(session.serve)
    else:
        with pytest.raises(UnsupportedError, match=f"--session: engine '{name}'"):
            engine.open_session(RecordingEmitter())
