"""The GPU guard process (see the package's docstring): apply, report, wait, restore."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from ..parent_watch import pid_alive
from . import restore_files
from .nvml_settings import (
    CLOCK_KEY,
    POWER_KEY,
    REFUSED_EXIT_CODE,
    Gpu,
    GpuControlRefused,
    apply,
    check_power_limit,
    handle_for,
    open_gpus,
    previous_limit_mw,
    read_back,
    undo,
)


def say(event: dict[str, Any]) -> None:
    """One JSON line on stdout; Joules may be gone (a broken pipe): then nobody reads."""
    try:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()
    except OSError:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the process


def restore_leftovers(pynvml: Any, directory: Path) -> list[dict[str, Any]]:
    """Put back what guards that are gone (SIGKILL) left changed; raise RuntimeError when that fails."""
    restored = []
    for entry in restore_files.leftovers(directory):
        gpu = handle_for(pynvml, str(entry.get("uuid", "")), int(entry["index"]))
        failed = undo(pynvml, gpu, entry.get("power_limit_mw"), bool(entry.get("reset_clocks")))
        if failed:
            raise RuntimeError(f"a GPU left changed by an earlier guard could not be restored: {'; '.join(failed)}")
        restore_files.remove(directory, int(entry["index"]))
        restored.append(entry)
    return restored


class Stop:
    """Why the guard should restore and exit: stdin closed, SIGTERM/SIGHUP, or the parent gone.
    Made first thing, so a signal while the settings are applied is not lost; SIGINT is ignored
    (Ctrl-C reaches Joules, which stops the worker, then the guard)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.why: list[str] = []
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda s, _f: self.end(signal.Signals(s).name))

    def end(self, reason: str) -> None:
        self.why.append(reason)
        self.event.set()

    def wait(self, parent: int) -> str:
        def read_stdin() -> None:
            try:
                while os.read(0, 4096):
                    pass
            except OSError:
                pass
            self.end("stdin closed")

        threading.Thread(target=read_stdin, name="gpu-guard-stdin", daemon=True).start()
        while not self.event.wait(0.2):
            if os.getppid() != parent or not pid_alive(parent):
                self.end("parent gone")
        return self.why[0]


def _apply(pynvml: Any, args: argparse.Namespace, directory: Path, key: str) -> tuple[list[Gpu], dict[int, int]]:
    indices = [int(i) for i in args.gpus.split(",") if i != ""]
    held = restore_files.held_by_others(directory, indices)
    if held:
        taken = ", ".join(f"GPU {i} (pid {p})" for i, p in sorted(held.items()))
        raise GpuControlRefused(key, f"another Joules GPU guard holds {taken}")
    gpus = open_gpus(pynvml, indices, key)
    watts, mhz = args.power_limit_w, args.sm_clock_mhz
    if watts is not None:
        check_power_limit(pynvml, gpus, watts)
    previous = {g.index: previous_limit_mw(pynvml, g) for g in gpus} if watts is not None else {}
    for g in gpus:  # the restore files first: a guard killed from here on is undone by the next one
        entry = {"index": g.index, "uuid": g.uuid, "power_limit_mw": previous.get(g.index)}
        restore_files.write(directory, {**entry, "reset_clocks": mhz is not None, "pid": os.getpid()})
    try:
        apply(pynvml, gpus, previous, watts, mhz)
    except GpuControlRefused:
        for g in gpus:
            restore_files.remove(directory, g.index)
        raise
    return gpus, previous


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m joules_worker.gpu_control", description=__doc__)
    p.add_argument("--gpus", required=True, help="NVML indices, comma-separated")
    p.add_argument("--power-limit-w", type=int, default=None)
    p.add_argument("--sm-clock-mhz", type=int, default=None)
    p.add_argument("--restore-dir", required=True, type=Path)
    p.add_argument("--parent-pid", type=int, default=None, help="restore when it is gone (default: the parent)")
    args = p.parse_args(argv)
    stop = Stop()
    key = POWER_KEY if args.power_limit_w is not None else CLOCK_KEY
    parent = args.parent_pid or os.getppid()
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception as e:  # noqa: BLE001 - no NVML here, whatever the reason
        message = f"{key}: NVML is not available here ({e}): it needs an NVIDIA GPU and its driver"
        say({"event": "refused", "key": key, "message": message})
        return REFUSED_EXIT_CODE
    try:
        restored = restore_leftovers(pynvml, args.restore_dir)
        if restored:
            say({"event": "leftover_restored", "gpus": [e["index"] for e in restored]})
        gpus, previous = _apply(pynvml, args, args.restore_dir, key)
    except GpuControlRefused as e:
        say({"event": "refused", "key": e.key, "message": f"{e}; nothing was left changed"})
        return REFUSED_EXIT_CODE
    except RuntimeError as e:
        say({"event": "error", "message": str(e)})
        return 1
    say({"event": "applied", "gpus": [read_back(pynvml, g) for g in gpus]})
    reason = stop.wait(parent)
    failed = [f for g in gpus for f in undo(pynvml, g, previous.get(g.index), args.sm_clock_mhz is not None)]
    if failed:
        say({"event": "restore_failed", "message": "; ".join(failed), "restore_dir": str(args.restore_dir)})
        return 1
    for g in gpus:
        restore_files.remove(args.restore_dir, g.index)
    say({"event": "restored", "gpus": [g.index for g in gpus], "reason": reason})
    return 0


if __name__ == "__main__":
    sys.exit(main())
