"""``python -m joules_worker.doctor``: each registered backend answers for itself."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from test_rapl import zone

from joules_worker import doctor
from joules_worker.energy import BACKENDS
from joules_worker.energy.rapl_backend import ROOT_ENV


def test_every_backend_answers(monkeypatch: Any, tmp_path: Any) -> None:
    monkeypatch.setenv(ROOT_ENV, str(tmp_path))  # an empty powercap tree
    out = doctor.probe()
    assert set(out["backends"]) == set(BACKENDS)
    for b in out["backends"].values():
        assert isinstance(b["ok"], bool) and isinstance(b["detail"], str)
    assert out["backends"]["none"]["ok"] is True
    assert out["backends"]["rapl"] == {"ok": False, "detail": f"no {tmp_path} zones", "hint": None, "zones": 0}


def test_nvml_and_rapl_say_what_they_found(fake_nvml: Any, monkeypatch: Any, tmp_path: Any) -> None:
    fake_nvml.configure(devices=[{}, {}])
    zone(tmp_path, "intel-rapl:0", "package-0", 1_000)
    monkeypatch.setenv(ROOT_ENV, str(tmp_path))
    backends = doctor.probe()["backends"]
    assert backends["nvml"]["ok"] is True
    assert backends["nvml"]["detail"] == "driver 550.54.15-fake, 2 device(s): GPU energy from hardware counters"
    assert backends["rapl"]["detail"] == "1 powercap zone(s) readable: CPU energy from counters"


def test_a_broken_probe_is_one_line(monkeypatch: Any) -> None:
    def broken(cls: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(BACKENDS["zeus"], "doctor", classmethod(broken))
    assert doctor.probe()["backends"]["zeus"] == {
        "ok": False,
        "detail": "probe failed (RuntimeError: boom)",
        "hint": None,
    }


def test_prints_one_json_line() -> None:
    run = subprocess.run([sys.executable, "-m", "joules_worker.doctor"], capture_output=True, text=True, check=True)
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert {"python", "packages", "backends"} <= set(out)
