"""`deployment.placement` on a real swarm (a private single-node one, labelled like the rig's edge
hosts): passed to every service as its placement, honoured by the swarm (a constraint no node meets
leaves the task pending), and instances reported at the address of the node their task runs on."""

from __future__ import annotations

import uuid

import pytest

from deployer.context import Context
from deployer.intake import new_record
from tests.fixtures.deployer import images
from tests.fixtures.deployer.harness import DeployerStack, deploy_request
from tests.fixtures.deployer.private_swarm import PrivateSwarm
from totem.contracts.labels import DEPLOYMENT, selector
from totem.waiting import wait

PLACEMENT = {
    "constraints": ["node.labels.edge==true"],
    "preferences": [{"spread": "node.labels.zone"}],
}


@pytest.fixture(scope="module")
def swarm():
    swarm = PrivateSwarm().start()
    node = swarm.client.nodes.list()[0]
    node.update({**node.attrs["Spec"], "Labels": {"edge": "true", "zone": "a"}})
    yield swarm
    swarm.stop()


@pytest.fixture(scope="module")
def stack(swarm):
    stack = DeployerStack(swarm.client, drain=1.0, scheduler="swarm", swarm_host=swarm.socket, with_proxy=False)
    yield stack.start()
    stack.stop()


def request(app: str, tag: str, placement: dict, **deployment) -> dict:
    return deploy_request(app, "v1", tag, f"{app}.localhost", placement=placement, **deployment)


def test_the_placement_goes_to_each_service_and_the_node_address_to_the_record(stack, swarm):
    app = f"pl-{uuid.uuid4().hex[:8]}"
    deployment = stack.deploy(request(app, images.build(swarm.client, "v1"), PLACEMENT)).get_json()["deployment"]
    record = stack.wait_finished(deployment["id"], timeout=120)
    assert record["state"] == "PROMOTED", stack.logs()
    services = swarm.client.services.list(filters={"label": selector(DEPLOYMENT, record["id"])})
    assert len(services) == 2
    for service in services:
        assert service.attrs["Spec"]["TaskTemplate"]["Placement"] == {
            "Constraints": ["node.labels.edge==true"],
            "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}],
        }
    node = swarm.client.nodes.list()[0].attrs["Status"]["Addr"]
    assert node == "127.0.0.1"  # the address the swarm was started with
    assert {w["address"] for w in record["instances"].values()} == {node}
    started = next(e for e in record["timeline"] if e["type"] == "INSTANCES_STARTED")["details"]["instances"]
    assert started == {n: f"{node}:{w['port']}" for n, w in record["instances"].items()}
    found = Context(stack.settings, stack.options).scheduler("swarm").status(record)
    assert {(i.host, i.address, i.running) for i in found} == {(node, node, True)}


def test_a_constraint_no_node_meets_leaves_the_task_pending(stack, swarm):
    ctx = Context(stack.settings, stack.options)
    app, tag = f"pl-{uuid.uuid4().hex[:8]}", images.build(swarm.client, "v1")
    record = new_record(ctx, request(app, tag, {"constraints": ["node.labels.edge!=true"]}, nodes=1), "swarm")
    scheduler = ctx.scheduler("swarm")
    record["instances"] = scheduler.place(record)
    try:
        scheduler.deploy(record, {})
        scheduler.start(record)
        (service,) = swarm.client.services.list(filters={"label": selector(DEPLOYMENT, record["id"])})

        def pending() -> str:
            tasks = service.tasks()
            return tasks[0]["Status"].get("Err", "") if tasks and tasks[0]["Status"]["State"] == "pending" else ""

        assert "no suitable node" in wait(pending, 30, 0.2, what="the task held back")
        assert [i.running for i in scheduler.status(record)] == [False]
    finally:
        scheduler.destroy(record)
