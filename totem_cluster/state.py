"""cluster.json: the rig's layout and every process it started ("<host>/<name>" -> pid and argv),
so that `status` and `down` work from a fresh process. Written atomically, under a lock."""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from pathlib import Path

from totem_stack import process


class State:
    def __init__(self, home: Path):
        self.path = home / "cluster.json"
        self._lock = home / "state.lock"

    def exists(self) -> bool:
        return self.path.exists()

    def read(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def write(self, data: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps(data, indent=2, default=str) + "\n")
        partial.replace(self.path)

    @contextlib.contextmanager
    def changing(self) -> Iterator[dict]:
        """Read, let the caller change, write back; one writer at a time."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self._lock, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self.read()
            yield data
            self.write(data)

    def record(self, key: str, pid: int, argv: list[str]) -> None:
        with self.changing() as data:
            data.setdefault("processes", {})[key] = {"pid": pid, "argv": argv}

    def processes(self) -> dict[str, dict]:
        return self.read().get("processes", {})

    def running(self, key: str) -> int | None:
        """The pid recorded under `key` when it still runs that argv (not a reused pid)."""
        entry = self.processes().get(key)
        return entry["pid"] if entry and runs(entry["pid"], entry["argv"]) else None


def runs(pid: int, argv: list[str]) -> bool:
    # nsenter execs the program in place, so the pid shows `argv` (with nsenter's prefix until then).
    return process.is_alive(pid) and process.cmdline(pid)[-len(argv) :] == argv


@contextlib.contextmanager
def exclusive(home: Path) -> Iterator[None]:
    """One `up` or `down` at a time."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(home / "rig.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
