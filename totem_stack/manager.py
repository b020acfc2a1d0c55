"""`up`, `down` and `status` of the local stack."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO, cast

from totem.waiting import Deadline, WaitAborted, WaitTimeout, wait
from totem_stack import packages, process
from totem_stack.services import Service, StackHome


@dataclass(frozen=True)
class State:
    service: Service
    pid: int | None  # from our pid file
    ours: bool  # that pid is alive and runs the service's program
    healthy: bool

    @property
    def owner(self) -> str | None:
        if self.ours:
            return "totem"
        if self.healthy:
            return "external"
        return "totem" if self.pid else None

    def as_dict(self, home: StackHome) -> dict:
        return {
            "name": self.service.name,
            "address": self.service.address,
            "pid": self.pid,
            "pid_alive": self.ours,
            "owner": self.owner,
            "health": "up" if self.healthy else "down",
            "log": str(home.log(self.service.name)),
        }


def probe(service: Service, home: StackHome) -> State:
    pid = process.read_pid(home.pid(service.name))
    ours = pid is not None and process.runs_program(pid, service.program)
    return State(service, pid, ours, service.healthy())


def status(services: list[Service], home: StackHome) -> list[State]:
    return [probe(service, home) for service in services]


def format_status(states: list[State]) -> str:
    lines = [_columns("SERVICE", "ADDRESS", f"{'PID':<13} {'OWNER':<9} HEALTH")]
    for state in states:
        pid = "-" if state.pid is None else f"{state.pid}" + ("" if state.ours else " (dead)")
        health = "up" if state.healthy else "down"
        lines.append(_columns(state.service.name, state.service.address, f"{pid:<13} {state.owner or '-':<9} {health}"))
    return "\n".join(lines)


def up(services: list[Service], home: StackHome, out: TextIO, timeout: float | None = None) -> int:
    required = {s.package: s.program for s in services if s.package} | packages.TOOLS
    if not packages.ensure(required, out, as_root=os.geteuid() == 0):
        return 1
    failures = 0
    with _locked(home):
        waiting: list[tuple[Service, int, subprocess.Popen | None, Deadline]] = []
        for service in services:
            state = probe(service, home)
            if state.ours and state.healthy:
                _say(out, service, f"running (pid {state.pid})")
            elif state.ours:  # ours implies the pid file named a pid
                waiting.append((service, cast(int, state.pid), None, Deadline(timeout or service.timeout)))
            elif state.healthy:
                home.pid(service.name).unlink(missing_ok=True)
                _say(out, service, "external (reused)")
            elif problem := _cannot_start(service):
                _say(out, service, f"FAILED: {problem}")
                failures += 1
            else:
                deadline = Deadline(timeout or service.timeout)
                started = _start(service, home)
                waiting.append((service, started.pid, started, deadline))
        for service, pid, child, deadline in waiting:
            failures += not _await_health(service, home, pid, child, deadline, out)
    return 1 if failures else 0


def down(services: list[Service], home: StackHome, out: TextIO) -> int:
    failures = 0
    with _locked(home):
        for service in reversed(services):
            pid_file = home.pid(service.name)
            pid = process.read_pid(pid_file)
            started = time.monotonic()
            if pid is not None and process.runs_program(pid, service.program):
                stopped = process.stop(pid)
                failures += not stopped
                message = (
                    f"stopped (pid {pid})  {time.monotonic() - started:.1f}s"
                    if stopped
                    else f"FAILED: pid {pid} still running after SIGKILL"
                )
            elif pid is not None:
                message = f"not running (stale pid {pid})"
            else:
                message = "external (left running)" if service.healthy() else "not running"
            _clean_leftovers(service)
            pid_file.unlink(missing_ok=True)
            _say(out, service, message)
    return 1 if failures else 0


def _cannot_start(service: Service) -> str | None:
    if not service.local:
        return f"not answering, and not on loopback: start it yourself at {service.address}"
    if not _executable(service):
        hint = "" if service.package else " (pip install 'moto[server]')"
        return f"{service.argv[0]} not found{hint}"
    if service.tcp and _port_taken(*service.tcp):
        return f"port {service.tcp[1]} is taken by a program that does not answer as {service.name}"
    return None


def _executable(service: Service) -> str | None:
    program = service.argv[0]
    if os.path.isabs(program):
        return program if os.access(program, os.X_OK) else None
    return packages.find_binary(program)


def _port_taken(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _start(service: Service, home: StackHome) -> subprocess.Popen:
    for directory in service.dirs:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for path, text in service.files.items():
        path.write_text(text)
    # Only started once _cannot_start found the executable.
    argv = [cast(str, _executable(service)), *service.argv[1:]]
    child = process.spawn(argv, home.log(service.name), cwd=home.root)
    process.write_pid(home.pid(service.name), child.pid)
    return child


def _await_health(
    service: Service, home: StackHome, pid: int, child: subprocess.Popen | None, deadline: Deadline, out: TextIO
) -> bool:
    """Until healthy (True), or until it exits or `deadline` (set when it was started) passes."""

    def exited() -> str | None:
        if child is not None and child.poll() is not None:
            return f"exited with code {child.returncode}"
        return None if process.runs_program(pid, service.program) else "exited"

    try:
        wait(service.healthy, deadline.remaining(), interval=0.1, abort=exited, what=f"{service.name} healthy")
    except WaitAborted as stopped:
        problem = stopped.reason
    except WaitTimeout:
        problem = f"not healthy after {deadline.seconds:.0f}s"
    else:
        verb = "started" if child is not None else "running"
        _say(out, service, f"{verb} (pid {pid})  {deadline.elapsed():.1f}s")
        return True
    if process.runs_program(pid, service.program):
        process.stop(pid)
    _clean_leftovers(service)
    home.pid(service.name).unlink(missing_ok=True)
    log = home.log(service.name)
    _say(out, service, f"FAILED: {problem}; log: {log}")
    tail = process.log_tail(log)
    if tail:
        print("    " + tail.replace("\n", "\n    "), file=out)
    return False


def _clean_leftovers(service: Service) -> None:
    """What outlives a stopped dockerd: containerd (it runs in its own session), its shims,
    and mounts, all found by the exec-root they live under."""
    if service.leftovers_under:
        for pid in process.find_processes(service.leftovers_under, "containerd"):
            process.stop(pid)
        process.unmount_under(service.leftovers_under)


@contextlib.contextmanager
def _locked(home: StackHome) -> Iterator[None]:
    """One `up` or `down` at a time per $TOTEM_HOME."""
    home.lock.parent.mkdir(parents=True, exist_ok=True)
    with open(home.lock, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _columns(name: str, address: str, rest: str) -> str:
    return f"{name:<9} {address:<28} {rest}"


def _say(out: TextIO, service: Service, message: str) -> None:
    print(_columns(service.name, service.address, message), file=out, flush=True)
