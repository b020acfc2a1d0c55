"""The `swarm` scheduler on the rig's 3-node swarm: each instance is reached at the address of the node
its task runs on (registered by that node's yoda-discover), both edges serve it, a blue-green switch
under load through both loses nothing, constraints from the request hold, and an instance on a
drained node is rescheduled by the swarm and registered again where it now runs."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.cluster.harness import RigDeployer, edge_loads, engine, push_app, through
from totem.contracts.labels import DEPLOYMENT, selector
from totem.waiting import wait


@pytest.fixture(scope="module")
def tags(cluster):
    return {version: push_app(cluster, version) for version in ("v1", "v2")}


@pytest.fixture
def deployer(cluster):
    stack = RigDeployer(cluster, scheduler="swarm", drain=2.0, reconcile_interval=2).start()
    yield stack
    stack.stop()


def task_addresses(cluster, deployment: str) -> dict[str, str]:
    """{service name: address of the node its running task is on}, as the swarm reports them."""
    manager = engine(cluster.manager)
    nodes = {node.id: node.attrs["Status"]["Addr"] for node in manager.nodes.list()}
    nodes[manager.info()["Swarm"]["NodeID"]] = cluster.manager.address  # a manager may say 0.0.0.0
    found = {}
    for service in manager.services.list(filters={"label": selector(DEPLOYMENT, deployment)}):
        running = [t for t in service.tasks(filters={"desired-state": "running"}) if t["Status"]["State"] == "running"]
        if running:
            found[service.name] = nodes[running[0]["NodeID"]]
    return found


def test_instances_are_reached_where_the_swarm_runs_them_and_switch_under_load(cluster, deployer, tags):
    app = f"sw-{uuid.uuid4().hex[:8]}"
    vhost = f"{app}.localhost"
    first = deployer.promoted(app, "v1", tags["v1"], nodes=3)
    where = task_addresses(cluster, first["id"])
    assert len(where) == 3 and set(where.values()) <= {host.address for host in cluster.hosts}
    wait(lambda: deployer.registered(first["upstream"]) == where, 20, what="each instance registered by its node")
    assert {w["address"] for w in first["instances"].values()} == set(where.values())
    for edge in cluster.edges:
        assert through(edge, vhost).text.strip() == "version=v1"

    with edge_loads(cluster, vhost) as loads:
        second = deployer.promoted(app, "v2", tags["v2"], nodes=3)
        for load in loads:
            wait(lambda load=load: load.last == "version=v2", 20, what="v2 through every edge")

        # drain the node of one instance: the swarm runs it elsewhere, its node registers it there
        placed = sorted(task_addresses(cluster, second["id"]).items())
        moved, old = next((name, at) for name, at in placed if at != cluster.manager.address)  # a worker's
        node = next(n for n in engine(cluster.manager).nodes.list() if n.attrs["Status"]["Addr"] == old)
        drained_at = time.monotonic()
        node.update({**node.attrs["Spec"], "Availability": "drain"})
        try:
            wait(lambda: task_addresses(cluster, second["id"]).get(moved, old) != old, 60, what="rescheduled")
            new = task_addresses(cluster, second["id"])[moved]
            wait(lambda: deployer.registered(second["upstream"]).get(moved) == new, 30, what="registered again")
            for load in loads:
                load.wait_for(30, 30)
        finally:
            node.reload()
            node.update({**node.attrs["Spec"], "Availability": "active"})
    for edge, load in zip(cluster.edges, loads, strict=True):
        before = [failure for failure in load.failures if failure[0] < drained_at]
        assert load.sent > 40 and before == [], f"{edge.name}, the switch: {load.summary()}"
        # the swarm stops a drained task at once, and the test app (busybox httpd) drops what it was
        # answering: at most the one request this load had in flight there
        assert len(load.failures) - len(before) <= 1, f"{edge.name}, the drain: {load.summary()}"
    wait(lambda: deployer.deployment(first["id"])["state"] == "DECOMMISSIONED", 60, what="v1 decommissioned")
    assert engine(cluster.manager).services.list(filters={"label": selector(DEPLOYMENT, first["id"])}) == []


def test_constraints_from_the_request_hold_on_the_swarm(cluster, deployer, tags):
    app = f"swc-{uuid.uuid4().hex[:8]}"
    record = deployer.promoted(app, "v1", tags["v1"], nodes=2, placement={"constraints": ["node.labels.edge!=true"]})
    inner = {host.address for host in cluster.hosts if not host.edge}
    assert set(task_addresses(cluster, record["id"]).values()) == inner
    assert through(cluster.edges[0], f"{app}.localhost").text.strip() == "version=v1"
