"""Blue-green through a real yoda-proxy/HAProxy with real Docker containers and yoda-discover:
v1 live; v2 switched in under load with no errors; a broken v3 fails while v2 keeps serving;
rollback brings v1 back; another app's route on the same host is never touched."""

from __future__ import annotations

import uuid

import pytest

from deployer.secrets import encrypt
from tests.fixtures.deployer import images
from tests.fixtures.deployer.harness import DeployerStack, deploy_request
from tests.load import Load
from totem.contracts import yoda
from totem.waiting import wait

pytest_plugins = ["tests.images.fixtures"]  # docker_client


@pytest.fixture(scope="module")
def stack(docker_client):
    stack = DeployerStack(docker_client, drain=1.0, discover_timeout=8.0).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def app_images(docker_client):
    return {v: images.build(docker_client, v, healthy=(v != "v3")) for v in ("v1", "v2", "v3")}


def served(stack: DeployerStack, host: str) -> str:
    response = stack.get(host)
    return response.text.strip() if response.status_code == 200 else f"HTTP {response.status_code}"


def test_blue_green_lifecycle(stack, app_images):
    app = f"bg-{uuid.uuid4().hex[:8]}"
    host = f"{app}.localhost"
    other = yoda.location_prefix(stack.base, host, "other-app_home")
    stack.store.put(other + "path", "/other")
    stack.store.put(other + "upstream", "other-app-1-8080")

    # v1, with an encrypted variable
    v1 = deploy_request(app, "v1", app_images["v1"], host)
    v1["environment"]["GREETING"] = {"value": encrypt(stack.key, "s3cret-greeting"), "encrypted": True}
    answer = stack.deploy(v1, key=f"job-{app}-1")
    assert answer.status_code == 202, answer.get_json()
    first = answer.get_json()["deployment"]["id"]
    assert answer.headers["Location"] == f"/deployments/{first}"
    again = stack.deploy(v1, key=f"job-{app}-1")
    assert again.get_json()["deployment"]["id"] == first
    record = stack.wait_finished(first)
    assert record["state"] == "PROMOTED", record
    events = [e["type"] for e in record["timeline"]]
    order = [
        "NEW_DEPLOYMENT",
        "DEPLOYMENT_STARTED",
        "INSTANCES_STARTED",
        "INSTANCES_RUNNING",
        "NODES_DISCOVERED",
        "CHECK_PASSED",
        "WIRED",
        "PROXIES_APPLIED",
        "DRAINED",
        "DEPLOYMENT_PROMOTED",
    ]
    assert [e for e in events if e in order] == order
    assert served(stack, host) == "version=v1"
    assert stack.get(f"www.{host}").text.strip() == "version=v1"
    assert stack.get(host, "/env.txt").text.strip() == "greeting=s3cret-greeting"
    assert "s3cret-greeting" not in str(record)
    assert record["request"]["environment"]["GREETING"] == {"value": "***", "encrypted": True}
    assert len(stack.containers(deployment=first)) == 2

    # v2 under load
    with Load(stack.proxy.url("/"), host) as load:
        load.wait_for(20, 10)
        second = stack.deploy(deploy_request(app, "v2", app_images["v2"], host)).get_json()["deployment"]["id"]
        record = stack.wait_finished(second)
        wait(lambda: load.last == "version=v2", 10, what="v2 served")
        load.wait_for(20, 10)  # traffic after the switch
    assert record["state"] == "PROMOTED", record
    assert load.failures == []
    assert {"version=v1", "version=v2"} <= set(load.bodies)
    assert stack.deployment(first)["state"] == "DECOMMISSIONED"
    assert stack.containers(deployment=first) == []
    assert stack.store.list(yoda.upstream_prefix(stack.base, f"{app}-v1-8080")) == {}

    # broken v3: FAILED, v2 untouched and still serving
    third = stack.deploy(deploy_request(app, "v3", app_images["v3"], host)).get_json()["deployment"]["id"]
    record = stack.wait_finished(third)
    assert record["state"] == "FAILED"
    assert record["timeline"][-1]["type"] == "DEPLOYMENT_FAILED"
    assert "WIRED" not in [e["type"] for e in record["timeline"]]
    assert served(stack, host) == "version=v2"
    assert stack.containers(deployment=third) == []
    assert stack.deployment(second)["state"] == "PROMOTED"
    assert stack.store.get(yoda.location_key(stack.base, host, f"{app}_home", yoda.UPSTREAM)) == f"{app}-v2-8080"

    # rollback: the previous promoted version (v1) comes back
    answer = stack.client.post(f"/apps/{app}/rollback", headers=stack.headers())
    assert answer.status_code == 202, answer.get_json()
    record = stack.wait_finished(answer.get_json()["deployment"]["id"])
    assert record["state"] == "PROMOTED" and record["version"] == "v1"
    assert served(stack, host) == "version=v1"
    assert stack.get(host, "/env.txt").text.strip() == "greeting=s3cret-greeting"
    assert stack.deployment(second)["state"] == "DECOMMISSIONED"

    # the other app's location on the shared host was never touched
    assert stack.store.get(other + "path") == "/other"
    assert stack.store.get(other + "upstream") == "other-app-1-8080"

    # API views
    shown = stack.client.get(f"/apps/{app}").get_json()
    assert shown["live"] == record["id"]
    versions = stack.client.get(f"/apps/{app}/versions").get_json()["versions"]
    assert set(versions) == {"v1", "v2", "v3"}
    assert stack.client.get(f"/apps/{app}/versions/v3").get_json()["deployments"][0]["state"] == "FAILED"
    assert stack.client.delete(f"/apps/{app}/versions/v1", headers=stack.headers()).status_code == 409

    # undeploy: routes gone (other app's kept), containers gone
    assert stack.client.delete(f"/apps/{app}", headers=stack.headers()).status_code == 202
    wait(lambda: stack.deployment(record["id"])["state"] == "DECOMMISSIONED", 30, what="undeployed")
    assert stack.store.list(yoda.location_prefix(stack.base, host, f"{app}_home")) == {}
    assert stack.store.get(other + "upstream") == "other-app-1-8080"
    assert stack.containers(app=app) == []
