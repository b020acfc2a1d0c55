"""The demo's supervisor starts a process again when it dies, and stops it when told to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from totem.waiting import wait
from totem_stack import process as proc
from totem_stack import supervise

CHILD = "import os, sys, time; open(sys.argv[1], 'a').write(f'{os.getpid()}\\n'); time.sleep(60)"


def pids(path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def test_a_dead_child_is_started_again_and_a_stop_stops_both(tmp_path):
    record = tmp_path / "pids"
    supervisor = subprocess.Popen(supervise.command([sys.executable, "-c", CHILD, str(record)]))
    try:
        first = wait(lambda: pids(record)[:1], 10, 0.05, what="the child started")[0]
        assert proc.runs_program(supervisor.pid, supervise.PROGRAM)
        os.kill(first, signal.SIGKILL)
        second = wait(lambda: pids(record)[1:2], 10, 0.05, what="the child started again")[0]
        assert second != first and proc.is_alive(second)
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(10) == 128 + signal.SIGTERM  # the child's own end, passed on
        assert not proc.is_alive(second) and len(pids(record)) == 2
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
