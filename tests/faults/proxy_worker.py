"""Fault: the HAProxy worker of a yoda-proxy is killed (SIGKILL) while fresh connections arrive.

On HAProxy 2.6 the master exits with its worker, and yoda-proxy starts a new master and worker
on the listening sockets it kept open: a new master pid is the expected outcome, not a stuck one.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from tests.faults import FaultOutcome
from tests.load import Load
from totem.store import Store, connect
from yoda_proxy.haproxy import HAProxyError, ProcState, parse_show_proc
from yoda_proxy.runtime import ask
from yoda_proxy.testing import Backend, ProxyProcess, commit, local_etcd_url

FAULT = "haproxy worker SIGKILL"
HOST = "faults.localhost"


@contextmanager
def routed_proxy(store: Store | None = None) -> Iterator[ProxyProcess]:
    """A yoda-proxy of its own routing HOST to one backend; stopped and its keys removed afterwards."""
    store = store or connect(local_etcd_url())
    backend, proxy = Backend("app"), ProxyProcess().start()
    try:
        commit(
            store,
            proxy,
            {
                f"hosts/{HOST}/locations/root/path": "/",
                f"hosts/{HOST}/locations/root/upstream": "faults-v1-1",
                "upstreams/faults-v1-1/endpoints/n1": backend.address,
            },
        )
        yield proxy
    finally:
        proxy.stop()
        backend.close()
        store.delete_prefix(proxy.prefix)


def proc_state(proxy: ProxyProcess) -> ProcState | None:
    """`show proc` on this proxy's own master socket; None while no master answers."""
    try:
        return parse_show_proc(ask(proxy.work / "master.sock", "show proc", 2))
    except (OSError, HAProxyError):
        return None


def haproxy_worker_death(
    proxy: ProxyProcess, host: str, path: str = "/", after: float = 1.0, timeout: float = 10.0
) -> FaultOutcome:
    """Kill the worker of `proxy`'s HAProxy under load; wait until traffic flows again, then `after` s more."""
    before = proc_state(proxy)
    if before is None or not before.workers:
        return FaultOutcome(FAULT, 0, 0, 0.0, ["no haproxy worker to kill"])
    killed = before.workers[0]
    with Load(proxy.url(path), host, fresh_connections=True) as load:
        load.wait_for(20)
        fault_at = time.monotonic()
        os.kill(killed, signal.SIGKILL)
        deadline = fault_at + timeout
        while not _serving_again(proxy, load, killed) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(after)
    return FaultOutcome(FAULT, load.sent, load.failed, load.recovered_after(fault_at), stuck(proxy, killed))


def _serving_again(proxy: ProxyProcess, load: Load, killed: int) -> bool:
    state = proc_state(proxy)
    if state is None or not [pid for pid in state.workers if pid != killed]:
        return False
    answered = load.sent - load.failed
    load.wait_for(10, timeout=2)
    return load.sent - load.failed > answered  # a request succeeded through the new worker


def stuck(proxy: ProxyProcess, killed: int) -> list[str]:
    """What is still wrong after the fault."""
    problems = []
    if proxy.process is None or proxy.process.poll() is not None:
        problems.append("yoda-proxy exited")
    state = proc_state(proxy)
    if state is None:
        problems.append("no haproxy master answers")
    elif not [pid for pid in state.workers if pid != killed]:
        problems.append("no haproxy worker")
    try:
        healthy = requests.get(f"http://127.0.0.1:{proxy.admin}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        healthy = False
    if not healthy:
        problems.append("yoda-proxy /healthz does not answer 200")
    return problems
