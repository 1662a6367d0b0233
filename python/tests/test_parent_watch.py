"""A worker whose launching joules process dies exits instead of running on as an orphan."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from joules_worker.parent_watch import ORPHAN_EXIT_CODE

CHILD = """
import sys, time
from joules_worker.parent_watch import watch_parent
assert watch_parent(interval_s=0.1) is not None
print("watching", flush=True)
time.sleep(30)
"""


def test_exits_when_the_parent_pid_disappears():
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    env = {**os.environ, "JOULES_PARENT_PID": str(parent.pid), "JOULES_PARENT_HOST": socket.gethostname()}
    child = subprocess.Popen([sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "watching"
        time.sleep(0.3)
        assert child.poll() is None  # parent alive: keeps running
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert child.wait(timeout=10) == ORPHAN_EXIT_CODE
    finally:
        for p in (parent, child):
            if p.poll() is None:
                p.kill()


@pytest.mark.parametrize("env", [{}, {"JOULES_PARENT_PID": "1", "JOULES_PARENT_HOST": "another-host"}])
def test_does_not_watch_without_a_local_parent(monkeypatch, env):
    from joules_worker.parent_watch import watch_parent

    monkeypatch.delenv("JOULES_PARENT_PID", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert watch_parent() is None
