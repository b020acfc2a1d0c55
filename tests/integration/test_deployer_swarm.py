"""The same blue-green flow on a single-node Docker Swarm (a private engine, never the shared one):
v1 live through the real proxy, v2 switched in under load with no errors, v1's services removed."""

from __future__ import annotations

import uuid

import pytest

from tests.fixtures.deployer import images
from tests.fixtures.deployer.harness import DeployerStack, deploy_request
from tests.fixtures.deployer.private_swarm import PrivateSwarm
from tests.load import Load
from totem.contracts.labels import DEPLOYMENT, selector
from totem.waiting import wait


@pytest.fixture(scope="module")
def swarm():
    swarm = PrivateSwarm().start()
    yield swarm
    swarm.stop()


@pytest.fixture
def stack(swarm):
    stack = DeployerStack(swarm.client, drain=1.0, scheduler="swarm", swarm_host=swarm.socket).start()
    yield stack
    stack.stop()


def test_blue_green_on_swarm(stack, swarm):
    tags = {v: images.build(swarm.client, v) for v in ("v1", "v2")}
    app = f"sw-{uuid.uuid4().hex[:8]}"
    host = f"{app}.localhost"

    first = stack.deploy(deploy_request(app, "v1", tags["v1"], host)).get_json()["deployment"]["id"]
    record = stack.wait_finished(first, timeout=120)
    assert record["state"] == "PROMOTED", record
    services = swarm.client.services.list(filters={"label": selector(DEPLOYMENT, first)})
    assert sorted(s.name for s in services) == sorted(record["instances"])
    assert stack.get(host).text.strip() == "version=v1"

    with Load(stack.proxy.url("/"), host) as load:
        load.wait_for(20, 10)
        second = stack.deploy(deploy_request(app, "v2", tags["v2"], host)).get_json()["deployment"]["id"]
        record = stack.wait_finished(second, timeout=120)
        wait(lambda: load.last == "version=v2", 10, what="v2 served")
    assert record["state"] == "PROMOTED", record
    assert load.failures == []
    assert stack.deployment(first)["state"] == "DECOMMISSIONED"
    assert swarm.client.services.list(filters={"label": selector(DEPLOYMENT, first)}) == []
