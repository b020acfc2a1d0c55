"""Encrypted variables on the 3-host rig: with the `docker` scheduler every host's engine (reached over
TLS, the Docker API alone) gets the instance's files on its tmpfs, never the plaintext in
`docker inspect`, and loses them with the instance; with the `swarm` scheduler the value is a Swarm
secret the swarm hands to whichever node runs the task, removed with the app."""

from __future__ import annotations

import json
import os
import secrets
import uuid

import pytest

from tests.cluster.harness import RigDeployer, engine, push_app
from tests.fixtures.deployer.harness import deploy_request
from tests.integration.test_secrets_delivery import ENV, Answers, exec_text, swarm_secret_checks
from totem.contracts.labels import DEPLOYMENT, selector
from totem.waiting import wait


@pytest.fixture(scope="module")
def tag(cluster):
    return push_app(cluster, "v1")


def test_docker_hosts_get_the_files_through_the_api_alone(cluster, tag):
    stack = RigDeployer(cluster, drain=1.0).start()
    sources: list[str] = []
    try:
        app = f"hsec-{uuid.uuid4().hex[:8]}"
        secret = "h-" + secrets.token_urlsafe(24)
        api = Answers(stack)
        token = api.call("POST", f"/secrets/{ENV}/encrypt", {"value": secret})["value"]
        request = deploy_request(app, "v1", tag, f"{app}.localhost", nodes=3)
        request["environment"] = {"API_KEY": {"value": token, "encrypted": True}}
        record = stack.wait_finished(api.call("POST", "/apps", request, expect=202)["deployment"]["id"], timeout=180)
        assert record["state"] == "PROMOTED", (record, stack.logs())
        owned = {"label": selector(DEPLOYMENT, record["id"])}
        for host in cluster.hosts:
            (container,) = engine(host).containers.list(filters=owned)
            assert exec_text(container, "/bin/busybox cat /run/secrets/API_KEY") == secret
            assert secret not in json.dumps(container.attrs)
            sources += [m["Source"] for m in container.attrs["Mounts"] if m["Destination"] == "/run/secrets"]
        api.call("DELETE", f"/apps/{app}", expect=202)
        left = lambda: any(engine(h).containers.list(all=True, filters=owned) for h in cluster.hosts)  # noqa: E731
        wait(lambda: not left(), 60, what="the instances removed")
        # the hosts' engines share this machine's /dev/shm: each directory is now an empty file
        wait(lambda: all(os.path.isfile(s) for s in sources), 10, what="the secret files removed")
        for text in [*api.texts, stack.logs()]:
            assert secret not in text
    finally:
        stack.stop()
        for source in sources:
            if os.path.isfile(source):
                os.remove(source)


def test_swarm_nodes_get_a_swarm_secret(cluster, tag):
    stack = RigDeployer(cluster, scheduler="swarm", drain=1.0).start()
    try:
        swarm_secret_checks(stack, engine(cluster.manager), [engine(h) for h in cluster.hosts], tag)
    finally:
        stack.stop()
