"""Starting the rig's processes detached (they outlive `totem cluster up`), recording their pids,
and waiting until each is healthy; one line printed per process."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from totem.waiting import Deadline, WaitAborted, WaitTimeout, wait
from totem_cluster.hosts import Proc
from totem_cluster.state import State, runs
from totem_stack import process

SETTLE = 1.0  # seconds a process without a health check must stay up to count as started


class StartFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Pending:
    where: str  # "h1", or "root" for the root namespace
    proc: Proc
    pid: int
    started: bool  # False: it was already running
    log: Path
    deadline: Deadline


def start(state: State, key: str, argv: list[str], log: Path, cwd: Path, prefix: tuple[str, ...] = (), env=None) -> int:
    """Spawn `prefix + argv` in a session of its own and record it under `key`."""
    cwd.mkdir(parents=True, exist_ok=True, mode=0o700)
    child = process.spawn([*prefix, *argv], log, cwd, env)
    state.record(key, child.pid, argv)
    return child.pid


def ensure(
    state: State, where: str, proc: Proc, log: Path, cwd: Path, prefix: tuple[str, ...] = (), env: Mapping | None = None
) -> Pending:
    key = f"{where}/{proc.name}"
    pid = state.running(key)
    if pid is not None:
        return Pending(where, proc, pid, False, log, Deadline(proc.timeout))
    for path, text in proc.files.items():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(text)
    deadline = Deadline(proc.timeout)
    return Pending(where, proc, start(state, key, proc.argv, log, cwd, prefix, env), True, log, deadline)


def await_all(pending: list[Pending], out: TextIO | None) -> None:
    for item in pending:
        _await(item, out)


def _await(item: Pending, out: TextIO | None) -> None:
    proc = item.proc
    healthy = proc.healthy or (lambda: not item.started or item.deadline.elapsed() >= SETTLE)
    exited = lambda: None if runs(item.pid, proc.argv) else "exited"  # noqa: E731
    try:
        wait(healthy, item.deadline.remaining(), interval=0.1, abort=exited, what=f"{item.where} {proc.name}")
    except WaitAborted as stopped:
        problem = str(stopped.reason)
    except WaitTimeout:
        problem = f"not healthy after {item.deadline.seconds:.0f}s"
    else:
        pid = f"pid {item.pid}"
        done = f"started ({pid})  {item.deadline.elapsed():.1f}s" if item.started else f"running ({pid})"
        say(out, item.where, proc.name, proc.address, done)
        return
    tail = process.log_tail(item.log).replace("\n", "\n    ")
    raise StartFailed(f"{item.where} {proc.name}: {problem}; log: {item.log}\n    {tail}")


def say(out: TextIO | None, where: str, name: str, address: str, message: str) -> None:
    if out is not None:
        print(f"{where:<5} {name:<18} {address:<26} {message}", file=out, flush=True)
