"""The GPU guard step: GPU 0's power limit set to a value within its constraints by the guard Joules
runs around an experiment that sets ``gpu.power_limit_w`` (``python -m joules_worker.gpu_control``),
read back, then restored; NVML is read before and after in a process of its own. Without the
permission (root or CAP_SYS_ADMIN) the guard refuses: that is recorded as such, not as a pass."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

PROBE = """
import json, pynvml
pynvml.nvmlInit()
h = pynvml.nvmlDeviceGetHandleByIndex(0)
lo, hi = pynvml.nvmlDeviceGetPowerManagementLimitConstraints(h)
print(json.dumps({"limit_w": pynvml.nvmlDeviceGetPowerManagementLimit(h) / 1000,
                  "enforced_w": pynvml.nvmlDeviceGetEnforcedPowerLimit(h) / 1000,
                  "constraints_w": [lo / 1000, hi / 1000]}))
"""


def _probe(ctx: Any) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=ctx.env, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def target_w(before: dict[str, Any]) -> int:
    """A limit the GPU accepts and that differs from the current one: 80 % of it, within the constraints."""
    lo, hi = before["constraints_w"]
    return int(max(lo, min(hi, round(before["limit_w"] * 0.8))))


def check_gpu_control(ctx: Any) -> dict[str, Any]:
    """{status: pass | fail | refused, before, requested_w, read_back_w, after, message, seconds}."""
    t0 = time.monotonic()
    record: dict[str, Any] = {"status": "fail", "message": None, "requested_w": None, "read_back_w": None}
    try:
        before = _probe(ctx)
    except (subprocess.SubprocessError, OSError, ValueError, IndexError) as e:
        return {**record, "message": f"NVML could not be read: {e}", "seconds": round(time.monotonic() - t0, 3)}
    record.update(before=before, requested_w=target_w(before))
    argv = [sys.executable, "-m", "joules_worker.gpu_control", "--gpus", "0", "--power-limit-w"]
    argv += [str(record["requested_w"]), "--restore-dir", str(ctx.work / "gpu-restore")]
    guard = subprocess.Popen(argv, env=ctx.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        first = json.loads(guard.stdout.readline() or "{}")
        if first.get("event") == "applied":
            record["read_back_w"] = first["gpus"][0]["power_limit_w"]
            record["during"] = _probe(ctx)
        guard.stdin.close()
        rest = [json.loads(line) for line in guard.stdout if line.strip()]
        code = guard.wait(60)
    finally:
        if guard.poll() is None:
            guard.kill()
    record["after"] = _probe(ctx)
    record["seconds"] = round(time.monotonic() - t0, 3)
    if first.get("event") == "refused":
        return {**record, "status": "refused", "message": first.get("message")}
    restored = any(e.get("event") == "restored" for e in rest) and code == 0
    ok = record["read_back_w"] == record["requested_w"] and restored and record["after"]["limit_w"] == before["limit_w"]
    why = None if ok else f"guard exit {code}, events {[first, *rest]}"
    return {**record, "status": "pass" if ok else "fail", "message": why}
