"""Session mode (``--session``): one real worker process runs several experiments on one load.

The main check (issue 14): a reused session gives the same tokens and FLOPs as fresh runs, for
every experiment of a greedy 3-experiment sequence. The sessions start together (torch import
dominates their time); each test checks one of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from _helpers import event_lines, run_in_process, schema_errors, write_config
from conftest import base_experiment


def variants(base: dict) -> list[dict]:
    """Three greedy experiments of one model: everything but the load settings differs."""
    out = []
    for i, change in enumerate(
        [
            {"batch_size": 4, "max_output_tokens": 8, "num_input_prompts": 6},
            {
                "batch_size": 2,
                "max_output_tokens": 12,
                "num_input_prompts": 5,
                "prompt_ordering": "sorted_by_length",
                "seed": 7,
            },
            {
                "batch_size": 3,
                "max_output_tokens": 6,
                "num_input_prompts": 7,
                "warmup_iterations": 0,
                "min_output_tokens": 6,
            },
        ]
    ):
        exp = json.loads(json.dumps(base))
        exp.update(config_name=f"session-{i}", save_token_ids=True, **change)
        out.append(exp)
    return out


def start_session(first: dict, root: Path, env: dict) -> tuple[subprocess.Popen, Path]:
    config = write_config(first, root, "first.json")
    out = root / "exp-0"
    proc = subprocess.Popen(
        [sys.executable, "-m", "joules_worker", "--config", str(config), "--output-dir", str(out), "--session"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    return proc, out


def message(exp: dict | None, out: Path | None = None, **raw) -> str:
    return json.dumps(raw or {"experiment": exp, "output_dir": str(out)}) + "\n"


@pytest.fixture(scope="module")
def sessions(tiny_model_dir, tmp_path_factory, worker_env):
    base = base_experiment(str(tiny_model_dir))
    root = tmp_path_factory.mktemp("session")
    exps = variants(base)
    plans: dict[str, tuple[dict, str]] = {}
    # reuse: the three experiments, then EOF
    plans["reuse"] = (
        exps[0],
        "".join(message(e, root / "reuse" / f"exp-{i}") for i, e in enumerate(exps) if i) + message(None, end=True),
    )
    # a different precision: refused in its own folder
    other = json.loads(json.dumps(exps[1]))
    other.update(precision="bf16")
    plans["differs"] = (exps[0], message(other, root / "differs" / "exp-1"))
    # a line that is not JSON after a good experiment
    plans["garbage"] = (exps[0], "{not json\n")
    # the second experiment's dataset file is missing: exit 6, its folder only
    missing = json.loads(json.dumps(exps[1]))
    missing["dataset"].update(source="file", path=str(root / "no-such-prompts.jsonl"))
    plans["fails"] = (exps[0], message(missing, root / "fails" / "exp-1") + message(exps[2], root / "fails" / "exp-2"))
    procs = {}
    for name, (first, text) in plans.items():
        proc, _ = start_session(first, root / name, worker_env)
        proc.stdin.write(text)  # small: fits the pipe buffer while the worker still imports torch
        proc.stdin.close()
        proc.stdin = None  # closed: communicate() must not flush it
        procs[name] = proc
    results = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        results[name] = (proc.returncode, event_lines(stdout), stderr, root / name)
    fresh = [
        (run_in_process(e, root / "fresh" / f"exp-{i}")[0], root / "fresh" / f"exp-{i}") for i, e in enumerate(exps)
    ]
    return results, fresh, exps


def rank0(folder: Path) -> dict:
    return json.loads((folder / "rank-0.json").read_text())


def token_ids(folder: Path) -> list:
    return [json.loads(line) for line in (folder / "token-ids-rank-0.jsonl").read_text().splitlines()]


def test_reused_session_gives_the_tokens_and_flops_of_fresh_runs(sessions):
    results, fresh, exps = sessions
    code, events, stderr, root = results["reuse"]
    assert code == 0, stderr
    for i in range(len(exps)):
        reused = rank0(root / f"exp-{i}")
        alone, alone_dir = fresh[i]
        assert reused["tokens"] == alone["tokens"], i
        assert reused["flops"] == alone["flops"], i
        strip = lambda b: {k: v for k, v in b.items() if not k.endswith("_s")}  # noqa: E731 - times differ
        assert [strip(b) for b in reused["batches"]] == [strip(b) for b in alone["batches"]], i
        assert token_ids(root / f"exp-{i}") == token_ids(alone_dir), i
        assert reused["environment"]["model_reused"] is (i > 0)
        assert alone["environment"]["model_reused"] is False and alone["environment"]["model_load_s"] > 0
    # the three experiments really differ (the check is not vacuous)
    assert len({json.dumps(rank0(root / f"exp-{i}")["tokens"]) for i in range(3)}) == 3


def test_one_load_and_an_event_per_experiment(sessions, event_validator):
    results, _, exps = sessions
    code, events, stderr, root = results["reuse"]
    for event in events:
        assert schema_errors(event_validator, event) == [], event
    stages = [e["stage"] for e in events if e["event"] == "stage"]
    assert stages.count("loading_model") == 1 and stages.count("measuring") == 3
    done = [e for e in events if e["event"] == "experiment_done"]
    assert [(d["index"], d["model_reused"]) for d in done] == [(0, False), (1, True), (2, True)]
    assert done[0]["model_load_s"] > 0 and done[1]["model_load_s"] == done[2]["model_load_s"] == 0
    for i, d in enumerate(done):
        folder = (root / f"exp-{i}").resolve()
        assert d["output_dir"] == str(folder) and d["rank_files"] == [str(folder / "rank-0.json")]
    data = [rank0(root / f"exp-{i}") for i in range(3)]
    assert [d["environment"]["model_load_s"] for d in data] == [done[0]["model_load_s"], 0.0, 0.0]
    assert len({d["pid"] for d in data}) == 1  # one process
    # each experiment has its own log section, seed and warm-up
    for i, exp in enumerate(exps):
        assert f"=== session experiment {i}: {exp['config_name']}" in stderr
    assert [e["n"] for e in events if e["event"] == "warmup"] == [1, 1]  # exps 0 and 1 warm up once, exp 2 not


def test_differing_load_settings_are_refused_in_their_own_folder(sessions):
    results, _, _ = sessions
    code, events, stderr, root = results["differs"]
    assert code == 3, stderr
    error = json.loads((root / "exp-1" / "error-rank-0.json").read_text())
    assert error["kind"] == "bad_config"
    assert "load settings differ" in error["message"] and "precision: 'bf16' (session: 'fp32')" in error["message"]
    assert (root / "exp-0" / "rank-0.json").is_file() and not (root / "exp-0" / "error-rank-0.json").exists()
    assert events[-1]["event"] == "error" and events[-1]["kind"] == "bad_config"


def test_a_bad_line_never_touches_the_finished_experiment(sessions):
    results, _, _ = sessions
    code, events, stderr, root = results["garbage"]
    assert code == 3, stderr
    assert "session input line 1: not valid JSON" in events[-1]["message"]
    assert sorted(p.name for p in (root / "exp-0").iterdir()) == ["rank-0.json", "token-ids-rank-0.jsonl"]


def test_a_failure_ends_the_session_with_that_experiments_error(sessions):
    results, _, _ = sessions
    code, events, stderr, root = results["fails"]
    assert code == 6, stderr
    assert json.loads((root / "exp-1" / "error-rank-0.json").read_text())["kind"] == "dataset"
    assert not (root / "exp-2").exists()  # never started: the session is over
    assert [e["index"] for e in events if e["event"] == "experiment_done"] == [0]


def server_experiment() -> dict:
    from conftest import FIXTURES

    data = json.loads((FIXTURES / "experiment-minimal-greedy.json").read_text())
    data["engine"] = "server"
    data["load"].update(concurrency=1, num_requests=4)
    return data


def test_engine_server_has_no_session(tmp_path):
    """A server engine keeps its own server: refused as the first experiment and as a later one."""
    from joules_worker.config import parse_experiment
    from joules_worker.engines import engine_for
    from joules_worker.engines.transformers.session import Session
    from joules_worker.errors import UnsupportedError
    from joules_worker.events import RecordingEmitter

    with pytest.raises(UnsupportedError, match="engine 'server' runs its own server"):
        engine_for("server").open_session(RecordingEmitter())
    greedy = parse_experiment({**server_experiment(), "engine": "transformers"})
    session = Session(RecordingEmitter())
    line = json.dumps({"experiment": server_experiment(), "output_dir": str(tmp_path / "later")})
    with pytest.raises(UnsupportedError, match="engine 'server'"):
        session.accept(line, 2, greedy)
    assert session.output_dir == tmp_path / "later"  # its error file goes to its own folder
