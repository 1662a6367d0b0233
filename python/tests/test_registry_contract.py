"""The worker's registries against contract/engines.json (written by ``npm run contract`` from
@joules/config's engine and energy-backend tables): the same engines, the same backends in the same
order, ``auto``'s order, and each class's traits. A backend or engine added on one side only fails here."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import CONTRACT

from joules_worker.energy import AUTO_ORDER, BACKENDS, EnergyBackend
from joules_worker.engines import ENGINES


def contract() -> dict[str, Any]:
    return json.loads((CONTRACT / "engines.json").read_text())


def engine_class(name: str) -> type:
    entry = ENGINES[name]
    if isinstance(entry, tuple):  # (module, class name): imported only when used
        module, cls = entry
        return getattr(importlib.import_module(module), cls)
    return entry


def test_the_same_engines() -> None:
    assert list(ENGINES) == list(contract()["engines"])


@pytest.mark.parametrize("name", list(contract()["engines"]))
def test_engine_traits(name: str) -> None:
    cls = engine_class(name)
    traits = contract()["engines"][name]
    assert getattr(cls, "name", name) == name
    for trait in ("starts_server", "supports_sessions"):
        if hasattr(cls, trait):
            assert getattr(cls, trait) == traits[trait], f"{cls.__name__}.{trait}"


@pytest.mark.parametrize("name", list(contract()["engines"]))
def test_engine_side_files_are_the_ones_it_writes(name: str) -> None:
    """Each side file the tracker keeps is named in the engine's own package (where it is written)."""
    module = importlib.import_module(engine_class(name).__module__)
    package = Path(module.__file__).parent
    sources = "\n".join(p.read_text() for p in package.rglob("*.py"))
    for f in contract()["engines"][name]["side_files"]:
        assert f'"{f["worker"]}"' in sources, f"engine {name!r} does not write {f['worker']}"


def test_the_same_backends_and_auto_order() -> None:
    c = contract()
    assert list(BACKENDS) == list(c["energy_backends"])
    assert list(AUTO_ORDER) == c["auto_order"]


@pytest.mark.parametrize("name", list(contract()["energy_backends"]))
def test_backend_traits(name: str) -> None:
    cls = BACKENDS[name]
    traits = contract()["energy_backends"][name]
    assert name == cls.NAME
    assert list(cls.READS) == traits["reads"]
    assert traits["mid_span"] == cls.MID_SPAN
    assert traits["host_scoped"] == cls.HOST_SCOPED
    assert traits["needs_gpus"] == cls.NEEDS_GPUS


@pytest.mark.parametrize("name", list(BACKENDS))
def test_mid_span_is_what_totals_j_does(name: str) -> None:
    """MID_SPAN says whether the class reads its counters mid-span: it overrides ``totals_j``."""
    cls = BACKENDS[name]
    assert (cls.totals_j is not EnergyBackend.totals_j) == cls.MID_SPAN
