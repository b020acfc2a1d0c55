"""Keep one process running: `python .../totem_stack/supervise.py ARGV...`.

Starts ARGV and starts it again whenever it exits, until told to stop (SIGTERM or SIGINT, passed on
to it; the supervisor exits with it). What compose's `restart: unless-stopped` does for the
containers, for the demo's processes: a Celery worker can die when it loses its broker (kombu gives
up restoring unacknowledged messages on a torn-down connection), and must come back by itself.
A process that keeps dying is started again less and less often (up to every 30 s).

Run by path, not `-m`, so that /proc/<pid>/cmdline names it (`PROGRAM`) for pid-file checks.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

PROGRAM = Path(__file__).name
STEADY_S = 10.0  # a run this long resets the backoff
MAX_BACKOFF_S = 30.0


def command(argv: list[str]) -> list[str]:
    """`argv` under the supervisor."""
    return [sys.executable, str(Path(__file__).resolve()), *argv]


def supervise(argv: list[str]) -> int:
    stopping: list[int] = []
    child: subprocess.Popen | None = None

    def stop(signum: int, _frame) -> None:
        stopping.append(signum)
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    backoff = 1.0
    while True:
        started = time.monotonic()
        child = subprocess.Popen(argv)
        if stopping:  # a stop that came while it was being started
            child.send_signal(stopping[0])
        code = child.wait()
        code = code if code >= 0 else 128 - code  # killed by a signal: the shell's 128 + signal number
        if stopping:
            return code
        backoff = 1.0 if time.monotonic() - started > STEADY_S else min(backoff * 2, MAX_BACKOFF_S)
        print(f"supervise: {argv[0]} exited ({code}); starting it again in {backoff:g} s", file=sys.stderr, flush=True)
        deadline = time.monotonic() + backoff
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.1)
        if stopping:
            return code


if __name__ == "__main__":
    sys.exit(supervise(sys.argv[1:]) if len(sys.argv) > 1 else 2)
