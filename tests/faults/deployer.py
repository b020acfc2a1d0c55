"""Faults on the deployer's side, each under load through a real yoda-proxy to an app deployed by the
real deployer on real Docker, with real yoda-discover: the Docker engine restarted (with and without
live-restore), the deployer worker killed mid-deployment, yoda-discover killed. Each returns a
`FaultOutcome` and asserts nothing (the fault tests assert, `bench/faults.py` prints)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import docker

from deployer import gating
from deployer.repair import LEASE_INTERVALS
from deployer.states import Event, State
from tests.faults import FaultOutcome
from tests.fixtures.deployer import images
from tests.fixtures.deployer.harness import DeployerStack, deploy_request
from tests.load import Load
from tests.private_docker import PrivateDocker
from totem.contracts.labels import NODE
from totem.waiting import WaitTimeout, wait

# Where a deployment is when its worker is killed: the event it has just recorded.
MOMENTS = {"accepted": Event.DEPLOYMENT_STARTED, "gate": Event.INSTANCES_RUNNING, "drain": Event.PROXIES_APPLIED}
FINISHED = (State.PROMOTED, State.FAILED, State.DECOMMISSIONED)
SETTLE = 30.0  # seconds allowed for everything to be back after a fault
AFTER = 100  # requests sent once everything is back, to see it serve


def docker_restart(source: docker.DockerClient, live_restore: bool) -> FaultOutcome:
    """The engine an app runs on restarted, on a private dockerd (never the shared one): with
    live-restore its containers keep running; without, the restart policy brings them back."""
    fault = f"docker engine restart ({'live-restore' if live_restore else 'no live-restore'})"
    engine = PrivateDocker(live_restore).start()
    stack = None
    try:
        tag = images.build(source, "v1")
        engine.load(source, tag)
        stack = DeployerStack(engine.client, docker_host=engine.socket).start()
        app = _name("dr")
        live = _deployed(stack, app, "v1", tag)
        if live["state"] != State.PROMOTED:
            return FaultOutcome(fault, 0, 0, 0.0, stuck(stack, app, live["id"]))
        with _load(stack, app) as load:
            fault_at = time.monotonic()
            engine.restart()
            left = settle(stack, app, live["id"], load)
        return FaultOutcome(fault, load.sent, load.failed, load.recovered_after(fault_at), left)
    finally:
        if stack is not None:
            stack.stop()
        engine.stop()


def worker_killed(stack: DeployerStack, moment: str) -> FaultOutcome:
    """The deployer worker SIGKILLed while v2 replaces a live v1, at `moment` (a key of MOMENTS);
    a new worker resumes it from the state in etcd."""
    fault = f"deployer worker SIGKILL ({moment})"
    app = _name("wk")
    tags = {version: images.build(stack.docker, version) for version in ("v1", "v2")}
    live = _deployed(stack, app, "v1", tags["v1"])
    if live["state"] != State.PROMOTED:
        return FaultOutcome(fault, 0, 0, 0.0, stuck(stack, app, live["id"]))
    with _load(stack, app) as load:
        second = _deploy(stack, app, "v2", tags["v2"])
        _reached(stack, second, MOMENTS[moment], 60)
        fault_at = time.monotonic()
        stack.workers[-1].kill()
        stack.start_worker()
        _finished(stack, second, 90)
        left = settle(stack, app, second, load)
    return FaultOutcome(fault, load.sent, load.failed, load.recovered_after(fault_at), left)


def sidekick_killed(stack: DeployerStack, ttl: float = 5.0) -> FaultOutcome:
    """`yoda-discover watch` SIGKILLed: its endpoints' leases run out after `ttl` seconds, the reconcile
    (the stack's TOTEM_DEPLOYER_RECONCILE_INTERVAL, short) registers them itself and renews them;
    then yoda-discover, started again, takes them over."""
    fault = "yoda-discover SIGKILL (repair)"
    app = _name("sk")
    live = _deployed(stack, app, "v1", images.build(stack.docker, "v1"))
    if live["state"] != State.PROMOTED:
        return FaultOutcome(fault, 0, 0, 0.0, stuck(stack, app, live["id"]))
    with _load(stack, app) as load:
        fault_at = time.monotonic()
        stack.discover.kill()
        repaired = _reached(stack, live["id"], Event.ENDPOINT_REPAIRED, ttl + SETTLE)
        time.sleep(LEASE_INTERVALS * stack.options.reconcile_interval + 1)  # past the repair's first lease
        left = stuck(stack, app, live["id"]) + ([] if repaired else ["no endpoint repaired by the reconcile"])
        stack.start_discover()
        time.sleep(ttl)  # yoda-discover registered them again (under its own leases)
        left += settle(stack, app, live["id"], load)
    return FaultOutcome(fault, load.sent, load.failed, load.recovered_after(fault_at), left)


def stuck(stack: DeployerStack, app: str, deployment_id: str) -> list[str]:
    """What is wrong with the app's live deployment: not PROMOTED, an instance not running, an
    endpoint not registered, a container of another deployment (an orphan), the host not served."""
    record = stack.deployment(deployment_id)
    problems = [] if record["state"] == State.PROMOTED else [f"{deployment_id} is {record['state']}"]
    wanted = set(record.get("instances") or {})
    containers = {c.labels.get(NODE): c.status for c in stack.containers(app=app)}
    registered = gating.endpoints(stack.store, stack.base, record)
    for what, nodes in (
        ("orphan containers", set(containers) - wanted),
        ("instances not running", {n for n in wanted if containers.get(n) != "running"}),
        ("endpoints not registered", wanted - set(registered)),
    ):
        if nodes:
            problems.append(f"{what}: {', '.join(sorted(nodes))}")
    served = _served(stack, app)
    if served != f"version={record['version']}":
        problems.append(f"{app} serves {served!r}")
    return problems


def settle(stack: DeployerStack, app: str, deployment_id: str, load: Load) -> list[str]:
    """Until nothing is stuck (at most SETTLE seconds), then AFTER more requests; what is left stuck."""
    try:
        wait(lambda: not stuck(stack, app, deployment_id), SETTLE, 0.1, what=f"{app} recovered")
    except WaitTimeout:
        pass
    load.wait_for(AFTER)
    return stuck(stack, app, deployment_id)


# -- helpers ------------------------------------------------------------------------------
def _name(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:8]}"


def _host(app: str) -> str:
    return f"{app}.localhost"


@contextmanager
def _load(stack: DeployerStack, app: str) -> Iterator[Load]:
    """Load on the app's host, already flowing."""
    with Load(stack.proxy.url("/"), _host(app)) as load:
        load.wait_for(20)
        yield load


def _served(stack: DeployerStack, app: str) -> str:
    response = stack.get(_host(app))
    return response.text.strip() if response.status_code == 200 else f"HTTP {response.status_code}"


def _deploy(stack: DeployerStack, app: str, version: str, tag: str) -> str:
    answer = stack.deploy(deploy_request(app, version, tag, _host(app)))
    return answer.get_json()["deployment"]["id"]


def _deployed(stack: DeployerStack, app: str, version: str, tag: str) -> dict:
    return _finished(stack, _deploy(stack, app, version, tag), 90)


def _finished(stack: DeployerStack, deployment_id: str, timeout: float) -> dict:
    """The record once its run ended, or as it is after `timeout` seconds."""
    try:
        return wait(
            lambda: (r := stack.deployment(deployment_id))["state"] in FINISHED and r,
            timeout,
            0.2,
            what=f"{deployment_id} finished",
        )
    except WaitTimeout:
        return stack.deployment(deployment_id)


def _reached(stack: DeployerStack, deployment_id: str, event: str, timeout: float) -> bool:
    """Whether the deployment recorded `event` within `timeout` seconds (polled closely)."""

    def recorded() -> bool:
        return event in [e["type"] for e in stack.deployment(deployment_id)["timeline"]]

    try:
        return wait(recorded, timeout, 0.01, what=f"{deployment_id} {event}")
    except WaitTimeout:
        return False
