"""The RAPL backend on a fake powercap tree in tmp (this machine has no readable RAPL)."""

import time

import pytest

from joules_worker.config import EnergyConfig
from joules_worker.energy import BackendContext, RaplBackend
from joules_worker.energy.rapl_backend import ROOT_ENV, find_zones


def zone(root, name, label, energy_uj, max_uj=2**32 - 1):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "name").write_text(label + "\n")
    (folder / "energy_uj").write_text(f"{energy_uj}\n")
    (folder / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return folder


def set_uj(folder, value):
    (folder / "energy_uj").write_text(f"{value}\n")


@pytest.fixture
def powercap(tmp_path, monkeypatch):
    root = tmp_path / "powercap"
    zones = {
        "pkg0": zone(root, "intel-rapl:0", "package-0", 1_000_000),
        "core0": zone(root, "intel-rapl:0:0", "core", 5),
        "dram0": zone(root, "intel-rapl:0:1", "dram", 2_000_000),
        "pkg1": zone(root, "intel-rapl:1", "package-1", 2**32 - 1_000_000, max_uj=2**32 - 1),
        "psys": zone(root, "intel-rapl:2", "psys", 0),
    }
    monkeypatch.setenv(ROOT_ENV, str(root))
    return zones


def ctx(local_main=True, secs=0.05):
    return BackendContext(EnergyConfig(measure_power_secs=secs), "node-1", local_main)


def test_zones_found(powercap):
    zones = find_zones(powercap["pkg0"].parent, "h")
    assert [(z.device_id, z.scope) for z in zones] == [
        ("h/cpu/package-0", "cpu"),
        ("h/ram/package-0", "ram"),
        ("h/cpu/package-1", "cpu"),
    ]  # core is part of the package; psys is skipped


def test_counts_deltas_with_wrap_around_and_pause(powercap):
    assert RaplBackend.unavailable_reason() is None
    backend = RaplBackend(ctx())
    assert backend.expected_device_ids() == ["node-1/cpu/package-0", "node-1/ram/package-0", "node-1/cpu/package-1"]
    backend.start()
    set_uj(powercap["pkg0"], 3_000_000)  # +2 J
    set_uj(powercap["dram0"], 2_500_000)  # +0.5 J
    set_uj(powercap["pkg1"], 500_000)  # wrapped: +1.5 J (range 2**32 uJ)
    backend.pause()
    set_uj(powercap["pkg0"], 9_000_000)  # +6 J while paused: not counted
    backend.resume()
    set_uj(powercap["pkg0"], 10_000_000)  # +1 J
    result = backend.stop()
    joules = {r.device_id: r.energy_j for r in result.readings}
    assert joules == pytest.approx(
        {"node-1/cpu/package-0": 3.0, "node-1/ram/package-0": 0.5, "node-1/cpu/package-1": 1.5}
    )
    assert result.method == "counter" and not result.estimated and result.samples >= 4
    assert "intel-rapl:1: energy counter wrapped 1x" in result.note


def test_the_thread_catches_every_wrap(powercap):
    """Three wraps between start and stop: each is seen because the thread reads often."""
    backend = RaplBackend(ctx(secs=0.01))
    backend.start()
    value = 2**32 - 1_000_000
    for _ in range(3):
        value = (value + 2**31) % 2**32
        set_uj(powercap["pkg1"], value)
        deadline = time.time() + 5
        reads = backend.reads_taken
        while backend.reads_taken < reads + 2 and time.time() < deadline:
            time.sleep(0.01)
    result = backend.stop()
    pkg1 = next(r for r in result.readings if r.device_id == "node-1/cpu/package-1")
    assert pkg1.energy_j == pytest.approx(3 * 2**31 / 1e6)


def test_other_local_ranks_read_nothing(powercap):
    backend = RaplBackend(ctx(local_main=False))
    assert backend.expected_device_ids() == []
    backend.start()
    result = backend.stop()
    assert result.readings == [] and result.method == "none" and "local rank 0" in result.note


def test_unreadable_counters_make_it_unavailable(powercap):
    counter = powercap["pkg0"] / "energy_uj"
    counter.unlink()
    counter.mkdir()  # reading it fails with a real OSError, as root too (a chmod 000 would not)
    assert "are not readable" in RaplBackend.unavailable_reason()


def test_missing_root_makes_it_unavailable(tmp_path, monkeypatch):
    monkeypatch.setenv(ROOT_ENV, str(tmp_path / "nowhere"))
    assert RaplBackend.unavailable_reason() == f"no RAPL zones under {tmp_path / 'nowhere'}"
