"""The 2015 check and host rules with real Docker containers, yoda-discover and yoda-proxy/HAProxy:
an app with no HTTP health endpoint and an empty `check.path` is discovered (TCP) and PROMOTED,
served under each of its comma-separated host names; its host's x-frame-options is in etcd."""

from __future__ import annotations

import uuid

import pytest

from tests.fixtures.deployer import images
from tests.fixtures.deployer.harness import DeployerStack, deploy_request
from totem.contracts import yoda
from totem.contracts.labels import HEALTH

pytest_plugins = ["tests.images.fixtures"]  # docker_client


@pytest.fixture(scope="module")
def stack(docker_client):
    stack = DeployerStack(docker_client, drain=1.0, discover_timeout=20.0).start()
    yield stack
    stack.stop()


def test_an_app_without_a_health_endpoint_and_an_empty_check_path_is_promoted(stack, docker_client):
    """2015 _check_deployment: no path → no HTTP check, discovery only. Totem: the same, and the
    instance still registers through yoda-discover's TCP check (empty totem.health label); the proxy
    checks it over TCP (no health/uri)."""
    image = images.build(docker_client, "nohealth2015", healthy=False)  # GET /health answers 404
    app = f"nh-{uuid.uuid4().hex[:8]}"
    host = f"{app}.localhost"
    request = deploy_request(app, "v1", image, host)
    request["deployment"]["check"].update(path="")
    request["proxy"]["upstreams"]["8080"]["health"].pop("uri")
    public = request["proxy"]["hosts"]["public"]
    public.update(hostname=f"{host}, alt-{host},", aliases=[], **{"x-frame-options": "SAMEORIGIN"})
    answer = stack.deploy(request)
    assert answer.status_code == 202, answer.get_json()
    record = stack.wait_finished(answer.get_json()["deployment"]["id"])
    assert record["state"] == "PROMOTED", record
    details = {e["type"]: e["details"] for e in record["timeline"]}
    assert len(details["NODES_DISCOVERED"]["endpoints"]) == 2
    assert details["CHECK_PASSED"] == {"skipped": "check.path is empty"}
    assert all(c.labels[HEALTH] == "" for c in stack.containers(deployment=record["id"]))
    for name in (host, f"alt-{host}"):
        served = stack.get(name)
        assert served.status_code == 200 and served.text.strip() == "version=nohealth2015"
    assert stack.get(host, "/health").status_code == 404  # it really has no health endpoint
    assert stack.store.get(yoda.host_prefix(stack.base, host) + yoda.X_FRAME_OPTIONS) == "SAMEORIGIN"
    assert stack.store.get(yoda.upstream_key(stack.base, record["upstream"], yoda.HEALTH_URI)) == ""
