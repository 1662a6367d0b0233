"""``python -m joules_worker`` as a subprocess: exit codes, files and stdout, as the launcher sees them.

Each scenario is one real worker process on the tiny model; they start together (torch import
dominates their time) and each test checks one of them.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from _helpers import event_lines, finish, schema_errors, start_worker, write_config
from conftest import base_experiment


def scenario(base: dict, **changes) -> dict:
    exp = json.loads(json.dumps(base))
    for key, value in changes.items():
        exp[key] = value
    return exp


@pytest.fixture(scope="module")
def runs(tiny_model_dir, tmp_path_factory, worker_env):
    base = base_experiment(str(tiny_model_dir))
    root = tmp_path_factory.mktemp("cli")
    cases = {
        "none": (scenario(base), {}),
        "codecarbon": (scenario(base, energy={**base["energy"], "backend": "codecarbon"}), {}),
        "no_cuda": (scenario(base, gpu_ids=[0]), {}),
        "missing_model": (scenario(base, model_name=str(root / "no-such-model")), {}),
        "no_prompt_fits": (scenario(base, max_input_tokens=1), {}),
        "oom": (scenario(base), {"JOULES_WORKER_FAULT": "oom"}),
    }
    procs = {}
    for name, (exp, extra_env) in cases.items():
        config = write_config(exp, root / name)
        procs[name] = (start_worker(config, root / name / "out", {**worker_env, **extra_env}), root / name / "out")
    results = {}
    for name, (proc, out_dir) in procs.items():
        code, stdout, stderr = finish(proc, timeout=180)
        results[name] = {"code": code, "stdout": stdout, "stderr": stderr, "out": out_dir}
    return results


def check_success(run, raw_validator, event_validator):
    assert run["code"] == 0, run["stderr"][-3000:]
    files = sorted(p.name for p in run["out"].iterdir())
    assert files == ["rank-0.json"]
    data = json.loads((run["out"] / "rank-0.json").read_text())
    assert schema_errors(raw_validator, data) == []
    events = event_lines(run["stdout"])
    assert events, "no events on stdout"
    for event in events:
        assert schema_errors(event_validator, event) == [], event
    assert len(events) == len(run["stdout"].splitlines()), "stdout holds only events; logs go to stderr"
    assert events[-1] == {**events[-1], "event": "result", "path": str(run["out"].resolve() / "rank-0.json")}
    return data


def test_success_with_energy_none(runs, raw_validator, event_validator):
    data = check_success(runs["none"], raw_validator, event_validator)
    assert data["energy"]["method"] == "none" and data["world_size"] == 1


def test_success_with_codecarbon(runs, raw_validator, event_validator):
    data = check_success(runs["codecarbon"], raw_validator, event_validator)
    energy = data["energy"]
    assert energy["backend"] == "codecarbon" and energy["backend_version"]
    assert {r["scope"] for r in energy["readings"]} >= {"cpu", "ram"}
    assert all(r["energy_j"] > 0 for r in energy["readings"])
    assert (
        energy["start_unix_s"] <= data["window"]["start_unix_s"] < data["window"]["end_unix_s"] <= energy["end_unix_s"]
    )


def check_failure(run, code, kind, event_validator, match):
    assert run["code"] == code, run["stderr"][-3000:]
    assert not (run["out"] / "rank-0.json").exists()
    error = json.loads((run["out"] / "error-rank-0.json").read_text())
    assert error["schema_version"] == 2 and error["rank"] == 0 and error["kind"] == kind
    assert match in error["message"] and "Traceback" in error["traceback"]
    events = event_lines(run["stdout"])
    assert events[-1]["event"] == "error" and events[-1]["kind"] == kind
    for event in events:
        assert schema_errors(event_validator, event) == []


def test_gpu_ids_without_cuda_is_unsupported_exit_8(runs, event_validator):
    check_failure(runs["no_cuda"], 8, "unsupported", event_validator, "CUDA is not available")


def test_missing_model_exits_4(runs, event_validator):
    check_failure(runs["missing_model"], 4, "model_not_found", event_validator, "no-such-model")


def test_no_prompt_fits_exits_6(runs, event_validator):
    check_failure(runs["no_prompt_fits"], 6, "dataset", event_validator, "no prompt fits")


def test_oom_exits_5(runs, event_validator):
    check_failure(runs["oom"], 5, "oom", event_validator, "out of memory")


def test_bad_config_exits_3(tmp_path, worker_env, event_validator):
    exp = base_experiment("/nowhere")
    exp["decoding"]["top_p"] = 1.5  # the schema: at most 1
    config = write_config(exp, tmp_path)
    code, stdout, _ = finish(start_worker(config, tmp_path / "out", worker_env))
    run = {"code": code, "stdout": stdout, "stderr": "", "out": tmp_path / "out"}
    check_failure(run, 3, "bad_config", event_validator, "decoding.top_p")


def test_usage_error_exits_2(worker_env):
    proc = subprocess.run([sys.executable, "-m", "joules_worker"], capture_output=True, text=True, env=worker_env)
    assert proc.returncode == 2 and "--config" in proc.stderr


def test_unknown_failure_exits_1_in_process(tmp_path, monkeypatch, capsys):
    """Anything unexpected is kind "other", exit 1 (called in-process: no torch needed)."""
    import logging

    from joules_worker import cli

    monkeypatch.setattr(logging.getLogger(), "handlers", list(logging.getLogger().handlers))  # main() sets its own

    def boom(*_args, **_kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr("joules_worker.config.load_experiment", boom)
    assert cli.main(["--config", str(tmp_path / "x.json"), "--output-dir", str(tmp_path)]) == 1
    error = json.loads((tmp_path / "error-rank-0.json").read_text())
    assert error["kind"] == "other" and "KeyError" in error["message"]
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["kind"] == "other"
