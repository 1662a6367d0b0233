"""Captured raw measurements in contract/fixtures stay valid against the contract."""

import json

import pytest

from _helpers import schema_errors
from conftest import FIXTURES

RAW = sorted(FIXTURES.glob("raw-*/rank-*.json"))


def test_raw_fixtures_exist():
    assert RAW, f"no raw measurements under {FIXTURES}"


@pytest.mark.parametrize("path", RAW, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_raw_fixture_validates(path, raw_validator):
    data = json.loads(path.read_text())
    assert schema_errors(raw_validator, data) == []
    assert path.name == f"rank-{data['rank']}.json"


def test_2rank_cpu_fixture_is_one_run():
    ranks = [json.loads((FIXTURES / "raw-2rank-cpu" / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert sum(r["tokens"]["num_prompts"] for r in ranks) == 8
    assert ranks[0]["energy"]["readings"] and not ranks[1]["energy"]["readings"]
