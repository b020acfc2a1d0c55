"""Start, check and stop the demo's processes: detached, each under `totem_stack.supervise` (started
again when it dies), pid files and logs under $TOTEM_HOME."""

from __future__ import annotations

import time
from typing import TextIO

import requests
from celery import Celery

from totem.waiting import WaitAborted, WaitTimeout, wait
from totem_demo.layout import DemoHome
from totem_demo.services import Process
from totem_stack import process as proc
from totem_stack import supervise

READY_TIMEOUT = 90.0


def running_pid(home: DemoHome, service: Process) -> int | None:
    pid = proc.read_pid(home.pid(service.name))
    return pid if pid and proc.runs_program(pid, supervise.PROGRAM) else None


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _pings(redis_url: str, task: str, queue: str) -> bool:
    client = Celery(broker=redis_url, backend=redis_url)
    try:
        return client.send_task(task, queue=queue).get(timeout=5) == "pong"
    except Exception:  # not ready yet (timeout, broker hiccup)
        return False
    finally:
        client.close()


def wait_ready(service: Process, pid: int, redis_url: str, timeout: float = READY_TIMEOUT) -> bool:
    if not service.health_url and not service.queue:
        if not proc.is_alive(pid):
            return False
        time.sleep(1.0)  # no readiness probe: alive after a moment is ready
        return proc.is_alive(pid)

    def ready() -> bool:
        return proc.is_alive(pid) and bool(
            service.health_url
            and _answers(service.health_url)
            or service.queue
            and service.ping
            and _pings(redis_url, service.ping, service.queue)
        )

    try:
        return wait(ready, timeout, interval=0.3, abort=lambda: not proc.is_alive(pid), what=f"{service.name} ready")
    except (WaitAborted, WaitTimeout):
        return False


def start_all(services: list[Process], home: DemoHome, env: dict[str, str], redis_url: str, out: TextIO) -> bool:
    """Start what is not running yet (a running one is reused), then wait for each to be ready."""
    started = []
    for service in services:
        pid = running_pid(home, service)
        if pid is None:
            pid = proc.spawn(supervise.command(list(service.argv)), home.log(service.name), home.root, env).pid
            proc.write_pid(home.pid(service.name), pid)
        started.append((service, pid))
    ok = True
    for service, pid in started:
        ready = wait_ready(service, pid, redis_url)
        out.write(f"  {service.name:<24} pid {pid:<8} {'ready' if ready else 'NOT READY'}\n")
        if not ready:
            ok = False
            out.write(f"    log {home.log(service.name)}:\n")
            tail = proc.log_tail(home.log(service.name), 10)
            out.write("".join(f"    | {line}\n" for line in tail.splitlines()))
    out.flush()
    return ok


def stop_all(services: list[Process], home: DemoHome, out: TextIO) -> bool:
    """Stop, in reverse start order, every process whose pid file names one of ours."""
    ok = True
    for service in reversed(services):
        pid = running_pid(home, service)
        if pid is not None:
            stopped = proc.stop(pid, timeout=30)
            ok = ok and stopped
            out.write(f"  {service.name:<24} {'stopped' if stopped else 'STILL RUNNING'}\n")
        home.pid(service.name).unlink(missing_ok=True)
    out.flush()
    return ok
