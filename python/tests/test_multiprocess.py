"""Two real ranks through ``accelerate launch`` on CPU (gloo), as the TS launcher starts them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from _helpers import event_lines, schema_errors, write_config
from conftest import base_experiment

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accelerate_launch(config: Path, out_dir: Path, env: dict[str, str], processes: int = 2) -> subprocess.CompletedProcess:
    accelerate = Path(sys.executable).parent / "accelerate"
    cmd = [
        str(accelerate), "launch", "--multi_gpu", "--num_processes", str(processes), "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(free_port()),
        "-m", "joules_worker", "--config", str(config), "--output-dir", str(out_dir),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, env={**env, "ACCELERATE_USE_CPU": "true"}, timeout=240)


@pytest.fixture(scope="module")
def two_ranks(tiny_model_dir, tmp_path_factory, worker_env):
    exp = base_experiment(str(tiny_model_dir))
    exp.update(num_input_prompts=7, num_processes=2, save_outputs=True,
               energy={"backend": "codecarbon", "country_iso_code": "USA", "measure_power_secs": 1})
    root = tmp_path_factory.mktemp("two-ranks")
    proc = accelerate_launch(write_config(exp, root), root / "out", worker_env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    ranks = [json.loads((root / "out" / f"rank-{r}.json").read_text()) for r in (0, 1)]
    return proc, ranks, root / "out"


def test_each_rank_writes_its_file(two_ranks, raw_validator):
    _, ranks, out_dir = two_ranks
    assert sorted(p.name for p in out_dir.iterdir()) == ["rank-0.json", "rank-1.json"]
    for r, data in enumerate(ranks):
        assert schema_errors(raw_validator, data) == []
        assert (data["rank"], data["local_rank"], data["world_size"]) == (r, r, 2)
    assert ranks[0]["pid"] != ranks[1]["pid"]


def test_only_local_rank_0_reads_machine_energy(two_ranks):
    _, ranks, _ = two_ranks
    assert {r["scope"] for r in ranks[0]["energy"]["readings"]} >= {"cpu", "ram"}
    assert ranks[1]["energy"]["readings"] == [] and ranks[1]["energy"]["backend"] == "codecarbon"


def test_each_rank_measures_its_own_prompts(two_ranks):
    _, ranks, _ = two_ranks
    assert [r["tokens"]["num_prompts"] for r in ranks] == [4, 3]  # 7 prompts: contiguous 4 + 3
    prompts = ranks[0]["outputs"]["prompts"] + ranks[1]["outputs"]["prompts"]
    assert len(set(prompts)) == 7
    for data in ranks:
        assert data["tokens"]["input_tokens"] == sum(b["input_tokens"] for b in data["batches"])


def test_windows_overlap_after_the_barrier(two_ranks):
    _, ranks, _ = two_ranks
    w0, w1 = ranks[0]["window"], ranks[1]["window"]
    assert abs(w0["start_unix_s"] - w1["start_unix_s"]) < 1.0
    assert abs(w0["end_unix_s"] - w1["end_unix_s"]) < 1.0
    energy = ranks[0]["energy"]  # the reader's span covers the measured window
    assert energy["start_unix_s"] <= w0["start_unix_s"] and energy["end_unix_s"] >= w0["end_unix_s"]


def test_both_ranks_emit_events(two_ranks, event_validator):
    proc, _, _ = two_ranks
    events = event_lines(proc.stdout)
    for event in events:
        assert schema_errors(event_validator, event) == []
    assert {e["rank"] for e in events if e["event"] == "result"} == {0, 1}
