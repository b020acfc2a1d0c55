"""A worker killed during an app's first deployment (nothing is live yet, so no load: the faults
under load, killed while v2 replaces v1, are tests/integration/test_deployer_faults.py's): the next
worker resumes from the state in etcd and the deployment ends PROMOTED, with no orphan containers.
Then reconcile brings a removed instance back and removes an orphan."""

from __future__ import annotations

import uuid

import docker
import pytest

from deployer.context import Context
from deployer.operations import reconcile
from tests.faults.deployer import stuck
from tests.fixtures.deployer import images
from tests.fixtures.deployer.harness import DeployerStack, deploy_request
from totem.contracts.labels import APP, CLUSTER, DEPLOYMENT, NODE
from totem.waiting import wait


@pytest.fixture(scope="module")
def docker_client():
    client = docker.from_env()
    yield client
    client.close()


@pytest.fixture
def stack(docker_client):
    stack = DeployerStack(docker_client, drain=4.0).start()
    yield stack
    stack.stop()


def has_event(stack, deployment_id: str, event: str) -> bool:
    return event in [e["type"] for e in stack.deployment(deployment_id)["timeline"]]


def test_killed_worker_is_resumed(stack, docker_client):
    tag = images.build(docker_client, "v1")
    app = f"rs-{uuid.uuid4().hex[:8]}"
    host = f"{app}.localhost"

    # killed right after it started working on v1
    first = stack.deploy(deploy_request(app, "v1", tag, host)).get_json()["deployment"]["id"]
    wait(lambda: has_event(stack, first, "DEPLOYMENT_STARTED"), 30, 0.02, what="v1 started")
    stack.workers[-1].kill()
    stack.start_worker()
    record = stack.wait_finished(first)
    assert record["state"] == "PROMOTED", record
    assert stuck(stack, app, first) == []  # running, registered, served, and no orphans

    # reconcile: a removed instance comes back, an orphan goes
    lost = sorted(record["instances"])[0]
    docker_client.containers.get(lost).remove(force=True)
    orphan = docker_client.containers.create(
        tag,
        name=f"{app}-ghost-1",
        network_mode="host",
        labels={CLUSTER: stack.cluster, APP: app, DEPLOYMENT: f"{app}-ghost", NODE: f"{app}-ghost-1"},
    )
    ctx = Context(stack.settings, stack.options)
    with ctx.store.lock(f"deployer/{app}") as _:
        actions = reconcile(ctx, app)
    assert {a["type"] for a in actions} >= {"INSTANCE_RESTARTED", "ORPHAN_REMOVED"}
    assert docker_client.containers.get(lost).status == "running"
    assert stack.containers(deployment=f"{app}-ghost") == []
    assert orphan.id not in {c.id for c in stack.containers(app=app)}
    wait(lambda: stack.get(host).status_code == 200, 10, what="still serving")
