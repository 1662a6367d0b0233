"""The GPU guard (python -m joules_worker.gpu_control) against the faked NVML, its device state in a
file shared across processes: set, read back, restore on stop, on parent death, after SIGKILL (the
next guard), and a refusal that leaves nothing changed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import FAKE_PYNVML_DIR

UUID = "GPU-aaaaaaaa-fake"
UUID_B = "GPU-bbbbbbbb-fake"


@pytest.fixture
def nvml(tmp_path: Path) -> dict[str, Any]:
    """Two faked GPUs (700 W limit, range 100-700 W), the config and state files, a restore folder."""
    devices = [
        {"uuid": UUID, "power_limit_w": 700, "sm_clock_step_mhz": 15},
        {"uuid": UUID_B, "power_limit_w": 700},
    ]
    config = tmp_path / "fake-nvml.json"
    config.write_text(json.dumps({"devices": devices, "t0": 0}))
    return {"config": config, "state": tmp_path / "fake-nvml-state.json", "dir": tmp_path / "restore"}


def _rewrite(nvml: dict[str, Any], **device_keys: Any) -> None:
    data = json.loads(nvml["config"].read_text())
    data["devices"][0].update(device_keys)
    nvml["config"].write_text(json.dumps(data))


def start(nvml: dict[str, Any], *args: str, parent: int | None = None) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(FAKE_PYNVML_DIR), os.environ.get("PYTHONPATH", "")]),
        "FAKE_PYNVML_CONFIG": str(nvml["config"]),
        "FAKE_PYNVML_STATE": str(nvml["state"]),
    }
    argv = [sys.executable, "-m", "joules_worker.gpu_control", "--restore-dir", str(nvml["dir"]), *args]
    if parent is not None:
        argv += ["--parent-pid", str(parent)]
    return subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def event(proc: subprocess.Popen) -> dict[str, Any]:
    line = proc.stdout.readline()
    assert line, f"guard ended without a line (exit {proc.wait(10)})"
    return json.loads(line)


def state(nvml: dict[str, Any]) -> dict[str, Any]:
    return json.loads(nvml["state"].read_text()) if nvml["state"].exists() else {}


def unchanged(nvml: dict[str, Any]) -> bool:
    """Every GPU at its configured limit (700 W) with its clocks unlocked."""
    return all(s.get("power_limit_mw", 700_000) == 700_000 and not s.get("locked_sm_mhz") for s in state(nvml).values())


def test_sets_reads_back_and_restores_when_stdin_closes(nvml):
    guard = start(nvml, "--gpus", "0,1", "--power-limit-w", "300", "--sm-clock-mhz", "1410")
    try:
        applied = event(guard)
        assert applied["event"] == "applied"
        assert [g["index"] for g in applied["gpus"]] == [0, 1]
        assert applied["gpus"][0] == {"index": 0, "uuid": UUID, "power_limit_w": 300.0, "sm_clock_mhz": 1410}
        assert state(nvml)[UUID] == {"power_limit_mw": 300_000, "locked_sm_mhz": [1410, 1410]}
        assert sorted(p.name for p in nvml["dir"].iterdir()) == ["gpu-0.json", "gpu-1.json"]
        restore = json.loads((nvml["dir"] / "gpu-0.json").read_text())
        assert restore == {"index": 0, "uuid": UUID, "power_limit_mw": 700_000, "reset_clocks": True, "pid": guard.pid}
        guard.stdin.close()
        assert event(guard) == {"event": "restored", "gpus": [0, 1], "reason": "stdin closed"}
        assert guard.wait(10) == 0
    finally:
        guard.kill()
    assert unchanged(nvml) and state(nvml)[UUID_B] == {"power_limit_mw": 700_000, "locked_sm_mhz": None}
    assert list(nvml["dir"].iterdir()) == []


def test_reads_back_what_the_gpu_enforces(nvml):
    guard = start(nvml, "--gpus", "0", "--sm-clock-mhz", "1400")  # 15 MHz steps: 1395 MHz runs
    try:
        assert event(guard)["gpus"][0]["sm_clock_mhz"] == 1395
        assert state(nvml)[UUID] == {"locked_sm_mhz": [1400, 1400]}  # the power limit untouched
    finally:
        guard.stdin.close()
        guard.wait(10)
    assert unchanged(nvml)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_restores_on_a_signal_but_not_on_sigint(nvml, sig):
    guard = start(nvml, "--gpus", "0", "--power-limit-w", "250")
    try:
        assert event(guard)["event"] == "applied"
        guard.send_signal(signal.SIGINT)  # Ctrl-C goes to Joules, which stops the worker, then the guard
        time.sleep(0.3)
        assert guard.poll() is None and state(nvml)[UUID]["power_limit_mw"] == 250_000
        guard.send_signal(sig)
        assert event(guard)["reason"] == sig.name
        assert guard.wait(10) == 0
    finally:
        guard.kill()
    assert unchanged(nvml)


def test_restores_when_its_parent_dies(nvml):
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    guard = start(nvml, "--gpus", "0", "--power-limit-w", "250", parent=parent.pid)
    try:
        assert event(guard)["event"] == "applied"
        parent.kill()
        parent.wait()
        assert event(guard)["reason"] == "parent gone"  # stdin still open: the pid alone told it
        assert guard.wait(10) == 0
    finally:
        guard.kill()
        parent.kill()
    assert unchanged(nvml)


def test_refusal_undoes_what_it_set_and_exits_2(nvml):
    _rewrite(nvml, deny=["clocks"])  # the power limit may be set, the clocks not
    guard = start(nvml, "--gpus", "0,1", "--power-limit-w", "300", "--sm-clock-mhz", "1410")
    refused = event(guard)
    assert guard.wait(10) == 2
    assert refused["event"] == "refused" and refused["key"] == "gpu.sm_clock_mhz"
    assert refused["message"].startswith("gpu.sm_clock_mhz: NVML refused to lock the SM clock on GPU 0")
    assert "root or CAP_SYS_ADMIN" in refused["message"] and "nvidia-smi -acp" in refused["message"]
    assert refused["message"].endswith("nothing was left changed")
    assert unchanged(nvml)  # both power limits were set, then put back
    assert list(nvml["dir"].iterdir()) == []


def test_power_limit_refused_without_permission(nvml):
    _rewrite(nvml, deny=True)
    guard = start(nvml, "--gpus", "0", "--power-limit-w", "300")
    refused = event(guard)
    assert guard.wait(10) == 2
    assert refused["key"] == "gpu.power_limit_w" and "root or CAP_SYS_ADMIN" in refused["message"]
    assert state(nvml) == {}


def test_out_of_range_refused_before_anything_is_set(nvml):
    guard = start(nvml, "--gpus", "0", "--power-limit-w", "900", "--sm-clock-mhz", "1410")
    refused = event(guard)
    assert guard.wait(10) == 2
    assert refused["message"] == (
        "gpu.power_limit_w: 900 W is outside GPU 0's range, 100 to 700 W; nothing was left changed"
    )
    assert state(nvml) == {} and not any(nvml["dir"].glob("*"))


def test_a_killed_guard_is_undone_by_the_next_one(nvml):
    guard = start(nvml, "--gpus", "0", "--power-limit-w", "200", "--sm-clock-mhz", "1410")
    assert event(guard)["event"] == "applied"
    guard.kill()  # SIGKILL: no restore
    guard.wait()
    assert state(nvml)[UUID] == {"power_limit_mw": 200_000, "locked_sm_mhz": [1410, 1410]}
    nxt = start(nvml, "--gpus", "1", "--power-limit-w", "400")
    try:
        assert event(nxt) == {"event": "leftover_restored", "gpus": [0]}
        assert state(nvml)[UUID] == {"power_limit_mw": 700_000, "locked_sm_mhz": None}
        assert event(nxt)["event"] == "applied"
    finally:
        nxt.stdin.close()
        nxt.wait(10)
    assert unchanged(nvml)
    assert list(nvml["dir"].iterdir()) == []
