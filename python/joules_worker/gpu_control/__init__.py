"""The GPU guard: a GPU's power limit and locked SM clock as experiment factors (``gpu.power_limit_w``,
``gpu.sm_clock_mhz``).

``python -m joules_worker.gpu_control --gpus 0,1 --power-limit-w 300 --sm-clock-mhz 1400 --restore-dir D``
runs beside one experiment (the launcher starts it before the worker and stops it after):

1. restores what a guard killed earlier left (``D/gpu-<index>.json`` of a pid that is gone);
2. reads each GPU's power management limit and writes it to ``D/gpu-<index>.json`` (atomically),
   before changing anything;
3. sets the power limit (mW, checked against the GPU's constraints) and locks the SM clock
   (min = max), then reads back what NVML enforces (``nvmlDeviceGetEnforcedPowerLimit``,
   ``nvmlDeviceGetClockInfo(NVML_CLOCK_SM)``) and prints it as one JSON line (``applied``);
4. waits until its stdin closes (Joules stopped it, or Joules died: the kernel closes the pipe),
   SIGTERM or SIGHUP, or its parent is gone; SIGINT is ignored (Ctrl-C reaches Joules, which stops
   the worker first);
5. restores the previous limit, unlocks the clock (``nvmlDeviceResetGpuLockedClocks``: NVML cannot
   read a lock someone else set, so a guard that locked a clock leaves it unlocked), removes the
   restore files, prints ``restored`` and exits 0.

When NVML refuses a setting (no permission, not supported, out of range) it undoes what it already
set, removes its restore files, prints ``refused`` naming the key and the permission needed, and
exits 2. Module layout: ``nvml_settings`` (NVML calls), ``restore_files``, ``__main__`` (the process).
pynvml is imported only when the guard runs.
"""

from __future__ import annotations
