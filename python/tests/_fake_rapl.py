"""A fake powercap tree (this host has no RAPL): one package zone whose ``energy_uj`` a background
thread advances at a known power, so the RAPL backend reads it as it reads /sys/class/powercap
(``JOULES_POWERCAP_ROOT``), mid-span readings included."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from joules_worker.energy.rapl_backend import ROOT_ENV

WRAP_UJ = 2**32 - 1


@contextlib.contextmanager
def fake_powercap(folder: Path, watts: float, step_s: float = 0.002) -> Iterator[Path]:
    """The tree under ``folder``, its counter at ``watts`` while the context lasts (env set, restored)."""
    zone = folder / "intel-rapl:0"
    zone.mkdir(parents=True, exist_ok=True)
    (zone / "name").write_text("package-0\n")
    (zone / "max_energy_range_uj").write_text(f"{WRAP_UJ}\n")
    counter = zone / "energy_uj"
    origin = time.perf_counter()
    stop = threading.Event()

    def write() -> None:
        value = int(watts * (time.perf_counter() - origin) * 1e6) % WRAP_UJ
        tmp = zone / "energy_uj.tmp"
        tmp.write_text(f"{value}\n")
        os.replace(tmp, counter)  # a reader never sees a half-written file

    def advance() -> None:
        while not stop.wait(step_s):
            write()

    write()
    thread = threading.Thread(target=advance, name="fake-rapl", daemon=True)
    thread.start()
    before = os.environ.get(ROOT_ENV)
    os.environ[ROOT_ENV] = str(folder)
    try:
        yield folder
    finally:
        stop.set()
        thread.join()
        if before is None:
            os.environ.pop(ROOT_ENV, None)
        else:
            os.environ[ROOT_ENV] = before
