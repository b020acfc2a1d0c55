"""The rig's network: a bridge in the root namespace and one network namespace per host, joined
by a veth pair. Every call is idempotent; addresses exist only on the bridge and inside the hosts."""

from __future__ import annotations

import ctypes
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

BRIDGE = "totem-br0"
GATEWAY = "10.213.0.1"  # the root namespace's address on the bridge
PREFIX = 24
CLONE_NEWNET = 0x40000000


class NetworkError(RuntimeError):
    pass


def address(index: int) -> str:
    return f"10.213.0.{10 + index}"


def netns_name(index: int) -> str:
    return f"totem-h{index}"


def veth_name(index: int) -> str:
    """The root side of host `index`'s link; the host side is its eth0."""
    return f"totem-h{index}-v"


def netns_path(name: str) -> str:
    return f"/run/netns/{name}"


def _ip(*args: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise NetworkError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def link_exists(name: str, netns: str | None = None) -> bool:
    where = ["-n", netns] if netns else []
    return subprocess.run(["ip", *where, "link", "show", name], capture_output=True).returncode == 0


def _ensure_address(device: str, cidr: str, netns: str | None = None) -> None:
    where = ["-n", netns] if netns else []
    if cidr.split("/")[0] not in _ip(*where, "-o", "-4", "addr", "show", "dev", device):
        _ip(*where, "addr", "add", cidr, "dev", device)


def ensure_bridge() -> bool:
    """The bridge with the gateway address, up; True when it was created now."""
    created = not link_exists(BRIDGE)
    if created:
        _ip("link", "add", BRIDGE, "type", "bridge")
    _ensure_address(BRIDGE, f"{GATEWAY}/{PREFIX}")
    _ip("link", "set", BRIDGE, "up")
    return created


def ensure_host(index: int) -> bool:
    """Host `index`: its namespace, lo up, eth0 with its address, the root side on the bridge, up.
    True when something had to be made."""
    ns, veth = netns_name(index), veth_name(index)
    made = False
    if not Path(netns_path(ns)).exists():
        _ip("netns", "add", ns)
        made = True
    if link_exists(veth) and not link_exists("eth0", ns):  # half made: start the pair again
        _ip("link", "del", veth)
    if not link_exists(veth):
        _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
        made = True
    _ip("link", "set", veth, "master", BRIDGE)
    _ip("link", "set", veth, "up")
    _ip("-n", ns, "link", "set", "lo", "up")
    _ensure_address("eth0", f"{address(index)}/{PREFIX}", ns)
    _ip("-n", ns, "link", "set", "eth0", "up")
    return made


def host_ready(index: int) -> bool:
    ns = netns_name(index)
    if not Path(netns_path(ns)).exists() or not link_exists(veth_name(index)):
        return False
    state = _ip("-br", "link", "show", veth_name(index), check=False).split()
    return len(state) > 1 and state[1] in {"UP", "UNKNOWN"} and address(index) in _ip("-n", ns, "-4", "addr")


def set_link(index: int, up: bool) -> None:
    _ip("link", "set", veth_name(index), "up" if up else "down")


def netns_pids(name: str) -> set[int]:
    if not Path(netns_path(name)).exists():
        return set()
    return {int(pid) for pid in _ip("netns", "pids", name, check=False).split() if pid.isdigit()}


def remove_host(index: int) -> None:
    if link_exists(veth_name(index)):
        _ip("link", "del", veth_name(index))  # takes its peer (eth0) with it
    if Path(netns_path(netns_name(index))).exists():
        _ip("netns", "del", netns_name(index))


def remove_bridge() -> None:
    if link_exists(BRIDGE):
        _ip("link", "del", BRIDGE)


def call_in(path: str, fn: Callable[[], T]) -> T:
    """Run `fn` in a thread that first enters the network namespace at `path` (network namespaces
    are per thread, so the caller's own stays as it is)."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            enter(path)
            result.append(fn())
        except BaseException as exc:  # handed to the caller
            failure.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


def enter(path: str) -> None:
    """setns(2) the calling thread into the network namespace at `path`."""
    fd = os.open(path, os.O_RDONLY)
    try:
        setns(fd)
    finally:
        os.close(fd)


def setns(fd: int) -> None:
    """Python 3.11 has no os.setns: libc's, for network namespaces only."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns: {os.strerror(errno)}")
