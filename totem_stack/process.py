"""Pid files, detached spawning, liveness and stopping of the stack's processes (Linux /proc)."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from totem.waiting import WaitTimeout, wait


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def write_pid(path: Path, pid: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(f"{pid}\n")
    partial.replace(path)


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state, ppid, pgrp, ...)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def is_alive(pid: int) -> bool:
    """Running, not a zombie waiting for a parent that never reaps it."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in {"Z", "X"}


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    args = [arg.decode(errors="replace") for arg in raw.split(b"\0") if arg]
    # Some programs (redis-server) rewrite their title as one space-separated string.
    return args[0].split() if len(args) == 1 else args


def runs_program(pid: int, program: str) -> bool:
    """`pid` is alive and is `program`, directly or as a script run by its interpreter."""
    return is_alive(pid) and any(Path(arg).name == program for arg in cmdline(pid)[:2])


def _live_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit() and is_alive(int(entry))]


def group_alive(pgid: int) -> bool:
    return any(fields[2] == str(pgid) for pid in _live_pids() if (fields := _stat(pid)))


def descendants(pids: set[int]) -> set[int]:
    """Live children of `pids`, their children, and so on (not `pids` themselves)."""
    parents = {pid: int(fields[1]) for pid in _live_pids() if (fields := _stat(pid))}
    found: set[int] = set()
    frontier = set(pids)
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier and pid not in found | pids}
        found |= frontier
    return found


def find_processes(marker: str, program_prefix: str) -> list[int]:
    """Live processes named `program_prefix*` whose command line mentions `marker`."""
    found = []
    for pid in _live_pids():
        args = cmdline(pid)
        named = args and Path(args[0]).name.startswith(program_prefix)
        if named and any(marker in arg for arg in args):
            found.append(pid)
    return found


def spawn(argv: list[str], log_path: Path, cwd: Path, env: Mapping[str, str] | None = None) -> subprocess.Popen:
    """Start `argv` detached in its own session (environment `env`, default ours), stdout and
    stderr appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} {shlex.join(argv)}\n".encode())
        log.flush()
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )


def stop(pid: int, timeout: float = 20.0) -> bool:
    """SIGTERM `pid`, wait for it (and its process group if it leads one), then SIGKILL.
    True once all of them are gone."""
    fields = _stat(pid)
    leads_group = fields is not None and fields[2] == str(pid)
    gone = (lambda: not group_alive(pid)) if leads_group else (lambda: not is_alive(pid))
    _signal(pid, signal.SIGTERM)
    if _gone_within(gone, timeout, pid):
        return True
    if leads_group:
        _signal_group(pid, signal.SIGKILL)
    else:
        _signal(pid, signal.SIGKILL)
    return _gone_within(gone, 5.0, pid)


def _gone_within(gone: Callable[[], bool], timeout: float, pid: int) -> bool:
    try:
        return wait(gone, timeout, interval=0.1, what=f"pid {pid} to exit")
    except WaitTimeout:
        return False


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def mounts_under(root: str) -> list[str]:
    """Mount points below `root`, deepest first."""
    with open("/proc/self/mountinfo") as mountinfo:
        points = [re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), line.split()[4]) for line in mountinfo]
    return sorted((p for p in points if p.startswith(root.rstrip("/") + "/")), reverse=True)


def unmount_under(root: str) -> None:
    """Unmount what a stopped daemon left mounted below `root` (dockerd's netns/default)."""
    for point in mounts_under(root):
        subprocess.run(["umount", point], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
