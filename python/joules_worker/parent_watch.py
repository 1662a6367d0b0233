"""Exit when the Joules process that launched us is gone (it was SIGKILLed, or its node rebooted).

`joules` sets JOULES_PARENT_PID and JOULES_PARENT_HOST for its workers. A rank on the same host
polls that pid; if it disappears, the rank exits instead of holding a GPU as an orphan. Ranks on
other hosts (Slurm, multi-machine) cannot see the pid and do not watch.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

logger = logging.getLogger(__name__)
PID_ENV = "JOULES_PARENT_PID"
HOST_ENV = "JOULES_PARENT_HOST"
ORPHAN_EXIT_CODE = 143  # as if terminated by SIGTERM


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (another user's counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def watch_parent(interval_s: float = 1.0) -> threading.Thread | None:
    """Start the watcher thread when the environment names a parent on this host."""
    raw = os.environ.get(PID_ENV)
    host = os.environ.get(HOST_ENV)
    if not raw or not raw.isdigit() or (host and host != socket.gethostname()):
        return None
    pid = int(raw)

    def loop() -> None:
        while True:
            time.sleep(interval_s)
            if not pid_alive(pid):
                logger.error("the launching joules process (pid %d) is gone: exiting", pid)
                os._exit(ORPHAN_EXIT_CODE)

    thread = threading.Thread(target=loop, name="joules-parent-watch", daemon=True)
    thread.start()
    return thread
