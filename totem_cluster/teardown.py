"""Ending a host's processes at once (power loss, or what `down` finds left) and its mounts."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from totem.waiting import WaitTimeout, wait
from totem_cluster import network
from totem_cluster.hosts import Host
from totem_stack import process


def kill_all(host: Host) -> list[int]:
    """SIGKILL every process in the host's namespace and their descendants, until none is left."""
    killed: set[int] = set()
    for _ in range(50):
        found = network.netns_pids(host.netns)
        alive = {pid for pid in found | process.descendants(found) if process.is_alive(pid)}
        if not alive:
            break
        for pid in alive:
            _signal(pid)
        killed |= alive
        _gone(alive)
    return sorted(killed)


def kill(pid: int) -> None:
    """SIGKILL `pid` and wait until it is gone (or a zombie)."""
    _signal(pid)
    _gone({pid})


def _signal(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _gone(pids: set[int]) -> None:
    try:
        wait(lambda: not any(process.is_alive(pid) for pid in pids), 5, 0.02, what="killed processes gone")
    except WaitTimeout:
        pass  # the next round sees them


def unmount(root: Path) -> None:
    process.unmount_under(str(root))
    for point in process.mounts_under(str(root)):  # busy a moment ago: detach it
        subprocess.run(["umount", "-l", point], capture_output=True)
