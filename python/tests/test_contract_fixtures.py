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


def ranks(folder):
    return [json.loads((FIXTURES / folder / f"rank-{r}.json").read_text()) for r in (0, 1)]


def test_2rank_cpu_fixture_is_one_v3_run():
    r0, r1 = ranks("raw-2rank-cpu")
    assert [r["schema_version"] for r in (r0, r1)] == [3, 3] and [r["world_size"] for r in (r0, r1)] == [2, 2]
    assert r0["energy"]["complete"] and r1["energy"]["complete"]
    assert all(
        r["energy_j"] is not None and r["missing_reason"] is None and r["active_s"] > 0
        for r in r0["energy"]["readings"]
    )
    assert r0["tokens"]["num_prompts"] + r1["tokens"]["num_prompts"] == 8
    assert r0["energy"]["readings"] and not r1["energy"]["readings"]  # machine-level: local rank 0 only
    assert all(r["idle_power_w"] is not None for r in r0["energy"]["readings"]) and r0["energy"]["idle"]


def test_2rank_fake_gpu_fixture_reports_one_device_twice():
    r0, r1 = ranks("raw-2rank-fake-gpu")
    (a,), (b,) = r0["energy"]["readings"], r1["energy"]["readings"]
    assert a["device_id"] == b["device_id"] and a["scope"] == b["scope"] == "gpu"
    for r in (r0, r1):
        name = r["energy"]["timeseries_file"]
        rows = [json.loads(line) for line in (FIXTURES / "raw-2rank-fake-gpu" / name).read_text().splitlines()]
        assert rows and {row["device_id"] for row in rows} == {a["device_id"]}
