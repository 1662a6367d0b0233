import math
import time

import pytest

from joules_worker.config import EnergyConfig
from joules_worker.energy import BACKENDS, CodeCarbonBackend, NoneBackend, get_backend


def test_registry():
    assert get_backend("codecarbon") is CodeCarbonBackend
    assert get_backend("none") is NoneBackend
    assert set(BACKENDS) == {"codecarbon", "none"}
    with pytest.raises(ValueError, match="unknown energy backend 'rapl'"):
        get_backend("rapl")


def test_none_backend():
    backend = NoneBackend(EnergyConfig(), "h", True)
    backend.start()
    result = backend.stop()
    assert (result.backend, result.method, result.estimated, result.readings) == ("none", "none", False, [])
    assert result.end_unix_s >= result.start_unix_s


def test_codecarbon_available_here():
    assert CodeCarbonBackend.available()


def test_codecarbon_reports_nothing_on_other_local_ranks():
    backend = CodeCarbonBackend(EnergyConfig(), "node-1", is_local_main=False)
    backend.start()
    result = backend.stop()
    assert result.backend == "codecarbon" and result.readings == [] and result.method == "none"
    assert "local rank 0" in result.note


def test_codecarbon_on_local_rank_0():
    backend = CodeCarbonBackend(EnergyConfig(measure_power_secs=1), "node-1", is_local_main=True)
    backend.start()
    t = time.time()
    while time.time() - t < 0.3:
        pass
    result = backend.stop()
    scopes = {r.scope: r for r in result.readings}
    assert {"cpu", "ram"} <= set(scopes)
    assert scopes["cpu"].device_id == "node-1/cpu" and scopes["ram"].device_id == "node-1/ram"
    assert all(math.isfinite(r.energy_j) and r.energy_j > 0 for r in result.readings)
    assert scopes["ram"].estimated
    assert result.carbon_intensity_g_per_kwh is not None and result.carbon_intensity_g_per_kwh > 0
    assert result.backend_version and result.note
    if scopes["cpu"].estimated:
        assert result.method == "estimate" and "CPU power modelled by CodeCarbon" in result.note
