"""Peak memory over the measured window: CUDA allocator peak, or the process's RSS high-water mark."""

from __future__ import annotations

import logging
import resource
import sys
from typing import Any

logger = logging.getLogger(__name__)

CLEAR_REFS = "/proc/self/clear_refs"
STATUS = "/proc/self/status"


class PeakMemory:
    """``reset()`` at window start, ``read()`` at window end -> the contract's ``memory`` block."""

    def __init__(self, device: Any) -> None:
        self.device = device
        self._rss_reset = False

    @property
    def _cuda(self) -> bool:
        return getattr(self.device, "type", None) == "cuda"

    def reset(self) -> None:
        if self._cuda:
            import torch

            torch.cuda.reset_peak_memory_stats(self.device)
            return
        try:  # "5" resets VmHWM to the current RSS (Linux >= 4.0)
            with open(CLEAR_REFS, "w") as f:
                f.write("5")
            self._rss_reset = True
        except OSError as e:
            logger.info("cannot reset the RSS peak (%s): reporting the lifetime peak", e)
            self._rss_reset = False

    def read(self) -> dict[str, Any]:
        if self._cuda:
            import torch

            return {
                "peak_bytes": int(torch.cuda.max_memory_allocated(self.device)),
                "kind": "cuda_max_allocated",
                "reserved_peak_bytes": int(torch.cuda.max_memory_reserved(self.device)),
            }
        hwm = _vm_hwm_bytes()
        if hwm is not None:
            kind = "rss_peak" if self._rss_reset else "rss_lifetime_peak"
            return {"peak_bytes": hwm, "kind": kind, "reserved_peak_bytes": None}
        # ru_maxrss is in KiB on Linux, bytes on macOS; it is always the lifetime peak
        scale = 1 if sys.platform == "darwin" else 1024
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
        return {"peak_bytes": int(peak), "kind": "rss_lifetime_peak", "reserved_peak_bytes": None}


def _vm_hwm_bytes() -> int | None:
    try:
        with open(STATUS) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # reported in kB
    except (OSError, ValueError, IndexError):
        return None
    return None
