"""Live ``power`` events: the NVML sampler's latest watts per device on stdout, rate-limited."""

from __future__ import annotations

import json

from _helpers import event_lines, finish, schema_errors, start_worker, write_config
from conftest import FAKE_PYNVML_DIR, base_experiment

from joules_worker import power_events
from joules_worker.events import RecordingEmitter


def test_publish_rate_limits_per_device_and_skips_unread_power():
    emitter = RecordingEmitter(rank=1)
    power_events.install(emitter, min_interval_s=3600)
    try:
        power_events.publish(
            [{"device_id": "h/gpu/GPU-a", "power_w": 100.0}, {"device_id": "h/gpu/GPU-b", "power_w": None}]
        )
        power_events.publish(
            [{"device_id": "h/gpu/GPU-a", "power_w": 120.0}, {"device_id": "h/gpu/GPU-b", "power_w": 50}]
        )
    finally:
        power_events.uninstall()
    power_events.publish([{"device_id": "h/gpu/GPU-c", "power_w": 1.0}])  # nothing installed: no event
    got = [(e["event"], e["rank"], e["host"], e["device"], e["watts"]) for e in emitter.events]
    assert got == [("power", 1, "h", "h/gpu/GPU-a", 100.0), ("power", 1, "h", "h/gpu/GPU-b", 50.0)]


def test_the_worker_prints_power_events_of_a_faked_gpu(tiny_model_dir, tmp_path, worker_env, event_validator):
    """The real ``python -m joules_worker`` with the faked NVML: power events during the window, valid per the contract."""
    fake = tmp_path / "fake-nvml.json"
    fake.write_text(json.dumps({"devices": [{"uuid": "GPU-fake-0", "name": "NVIDIA H200", "power_w": 250.0}], "t0": 0}))
    exp = base_experiment(str(tiny_model_dir))
    exp.update(
        gpu_ids=[0], num_input_prompts=8, batch_size=1, max_output_tokens=16, min_output_tokens=16, warmup_iterations=0
    )
    exp["energy"].update(backend="nvml", idle_baseline_s=0, measure_power_secs=0.05)
    env = {
        **worker_env,
        "PYTHONPATH": f"{FAKE_PYNVML_DIR}:{worker_env['PYTHONPATH']}",
        "FAKE_PYNVML_CONFIG": str(fake),
        "JOULES_WORKER_CPU_WITH_GPU_IDS": "1",
    }
    code, stdout, stderr = finish(start_worker(write_config(exp, tmp_path), tmp_path / "out", env), timeout=180)
    assert code == 0, stderr[-3000:]
    events = event_lines(stdout)
    for event in events:
        assert schema_errors(event_validator, event) == [], event
    power = [e for e in events if e["event"] == "power"]
    assert power, "no power event"
    assert all(
        e["watts"] == 250.0 and e["device"].endswith("/gpu/GPU-fake-0") and e["device"].startswith(e["host"] + "/")
        for e in power
    )
    stages = [e["event"] if e["event"] != "stage" else e["stage"] for e in events]
    assert stages.index("measuring") < stages.index("power") < stages.index("result")
