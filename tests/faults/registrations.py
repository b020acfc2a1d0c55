"""Faults on endpoint registrations, under load through a real yoda-proxy to busybox app containers
that a real `yoda-discover watch` registers: yoda-discover SIGKILLed (its leases run out after the
TTL), etcd paused past the TTL (every lease runs out at once when it runs again). yoda-proxy keeps
the vanished endpoints while HAProxy's checks report them UP; yoda-discover registers them again
(restarted, or on its next pass). Each returns a `FaultOutcome` and asserts nothing (the fault tests
assert, `bench/faults.py` prints)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.faults import FaultOutcome
from tests.images import busybox_httpd
from tests.load import Load
from tests.support import PrivateEtcd, discover_watch_args, terminate
from totem.contracts import yoda
from totem.contracts.labels import CLUSTER
from totem.net import free_port
from totem.store import Store, StoreError, connect
from totem.waiting import WaitTimeout, wait
from yoda_proxy.testing import ProxyProcess

REPO = Path(__file__).resolve().parents[2]
DISCOVER_TTL = 5  # the endpoints' lease of yoda-discover (tests.support.discover_watch_args)
SETTLE = 20.0  # seconds allowed for the endpoints to be registered again after a fault
AFTER = 1.0  # seconds of load once everything is back, to see it serve
HOST = "registrations.localhost"
PATH = "/health"  # busybox httpd answers 200 there while the app is healthy
UPSTREAM = "regs-1-80"


class Discover:
    """`yoda-discover watch` of one cluster's containers, as a process a scenario may kill."""

    def __init__(self, etcd_url: str, base: str, cluster: str, log: Path):
        self.argv = [sys.executable, "-m", "yoda_discover", *discover_watch_args(etcd_url, base, cluster)]
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> Discover:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL (its own pid): nothing is deregistered, the leases just stop being renewed."""
        if self.process is not None and self.running:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process)


@dataclass
class App:
    """Busybox instances of one upstream behind a yoda-proxy of their own, registered by yoda-discover."""

    store: Store
    proxy: ProxyProcess
    discover: Discover
    endpoints: dict[str, str] = field(default_factory=dict)  # endpoint key -> ip:port before any fault

    def registered(self) -> dict[str, str]:
        return self.store.list(yoda.endpoints_prefix(self.proxy.base, UPSTREAM))

    def status(self) -> dict:
        return self.proxy.status()


@contextmanager
def registered_app(docker_client, etcd_url: str, instances: int = 2) -> Iterator[App]:
    """`instances` containers wired to HOST under a fresh base of `etcd_url`, each registered, each
    served; removed afterwards with the proxy, yoda-discover and the keys."""
    busybox_httpd.build(docker_client)
    tag = uuid.uuid4().hex[:10]
    root, cluster = f"/test-{tag}/", f"rf{tag}"
    base, store, work = root + "yoda", connect(etcd_url), Path(tempfile.mkdtemp(prefix="registrations-"))
    proxy, discover = ProxyProcess(etcd_url, base), Discover(etcd_url, base, cluster, work / "discover.log")
    containers: list = []
    try:
        for index in range(instances):
            port = free_port()
            labels = busybox_httpd.labels(UPSTREAM, f"regs-{tag}-{index}", port, **{CLUSTER: cluster})
            containers.append(busybox_httpd.run(docker_client, port, labels))
        wire(store, base)
        app = App(store, proxy.start(), discover.start())

        def registrations() -> dict[str, str] | None:
            found = app.registered()
            return found if len(found) == instances else None

        app.endpoints = wait(registrations, 30, what=f"{instances} registrations")
        wait(lambda: serving(app), 30, what=f"{HOST} served by {instances} instances")
        yield app
    finally:
        discover.stop()
        proxy.stop()
        for container in containers:
            busybox_httpd.remove(container)
        store.delete_prefix(root)
        shutil.rmtree(work, ignore_errors=True)


def wire(store: Store, base: str) -> None:
    """The keys a deployer writes: the upstream with its health check, then the location."""
    for key, value in {
        yoda.upstream_key(base, UPSTREAM, yoda.MODE): "http",
        yoda.upstream_key(base, UPSTREAM, yoda.HEALTH_URI): PATH,
        yoda.upstream_key(base, UPSTREAM, yoda.HEALTH_INTERVAL): "2s",
        yoda.location_key(base, HOST, "regs_root", yoda.PATH): "/",
        yoda.location_key(base, HOST, "regs_root", yoda.UPSTREAM): UPSTREAM,
    }.items():
        store.put(key, value)


def serving(app: App) -> bool:
    try:
        counted = app.status()["counts"].get("endpoints") == len(app.endpoints)
        return counted and app.proxy.get(HOST, PATH).status_code == 200
    except requests.RequestException:
        return False


def discover_killed(app: App, ttl: float = DISCOVER_TTL) -> FaultOutcome:
    """yoda-discover SIGKILLed: its endpoints' leases run out after `ttl` s; 2 x `ttl` s after the
    kill it is started again and registers them anew."""
    held = app.status()["endpoints_held_total"]
    with Load(app.proxy.url(PATH), HOST) as load:
        load.wait_for(20)
        fault_at = time.monotonic()
        app.discover.kill()
        time.sleep(2 * ttl)
        app.discover.start()
        settle(app, held)
        time.sleep(AFTER)
    return FaultOutcome(
        "yoda-discover SIGKILL", load.sent, load.failed, load.recovered_after(fault_at), stuck(app, held)
    )


def etcd_paused(app: App, etcd: PrivateEtcd, seconds: float = 8.0) -> FaultOutcome:
    """The etcd `app` runs on SIGSTOPped for `seconds` (more than the TTL), then SIGCONT: every lease
    expires at once, and yoda-discover registers the endpoints again on its next pass."""
    return _etcd_away(app, etcd, f"etcd paused {seconds:g} s", etcd.pause, etcd.resume, seconds, True)


def etcd_restarted(app: App, etcd: PrivateEtcd, seconds: float = 15.0) -> FaultOutcome:
    """The etcd `app` runs on SIGKILLed, started again `seconds` later on the same data: the proxy
    serves what it last read meanwhile, and every client reconnects (a restarted etcd renews the leases
    it kept, so the endpoints need not vanish at all)."""
    fault = f"etcd killed, back after {seconds:g} s"
    return _etcd_away(app, etcd, fault, etcd.kill, etcd.start, seconds, False)


def _etcd_away(app: App, etcd: PrivateEtcd, fault: str, away, back, seconds: float, grace: bool) -> FaultOutcome:
    """`away()`, `seconds` of it under load, `back()`; `grace`: the leases must have run out meanwhile."""
    held = app.status()["endpoints_held_total"]
    with Load(app.proxy.url(PATH), HOST) as load:
        load.wait_for(20)
        fault_at = time.monotonic()
        away()
        try:
            time.sleep(seconds)
        finally:
            back()
        settle(app, held if grace else None)
        time.sleep(AFTER)
    left = stuck(app, held if grace else None)
    if etcd.process is None or etcd.process.poll() is not None:
        left.append("etcd not running")
    return FaultOutcome(fault, load.sent, load.failed, load.recovered_after(fault_at), left)


def settle(app: App, held_before: int | None) -> None:
    """Until the endpoints went to grace (when `held_before` is given) and came back: registered
    again, nothing left in grace."""

    def back() -> bool:
        status = app.status()
        went = held_before is None or status["endpoints_held_total"] > held_before
        return went and not status["endpoints_in_grace"] and app.registered() == app.endpoints

    try:
        wait(back, SETTLE, 0.1, ignoring=(requests.RequestException, StoreError))
    except WaitTimeout:
        pass  # stuck() says what is left


def stuck(app: App, held_before: int | None) -> list[str]:
    """What is still wrong after the fault."""
    problems = []
    if not app.discover.running:
        problems.append("yoda-discover not running")
    if app.proxy.process is None or app.proxy.process.poll() is not None:
        problems.append("yoda-proxy exited")
    try:
        status = app.status()
    except requests.RequestException:
        return [*problems, "yoda-proxy /status does not answer"]
    if held_before is not None and status["endpoints_held_total"] == held_before:
        problems.append("no endpoint went to grace (the registrations did not vanish, or the proxy did not hold them)")
    if status["endpoints_in_grace"]:
        problems.append(f"{status['endpoints_in_grace']} endpoints still in grace")
    try:
        registered = app.registered()
    except StoreError as exc:
        return [*problems, f"etcd does not answer: {exc}"]
    problems += [f"{key} not registered again" for key, value in app.endpoints.items() if registered.get(key) != value]
    return problems
