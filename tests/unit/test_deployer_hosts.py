"""No Docker host answers: the deployment fails at once with a reason naming each host, reserves no
port and leaves nothing behind (real etcd; hosts are unix sockets nobody serves)."""

from __future__ import annotations

import uuid

import pytest

from deployer.context import Context
from deployer.intake import new_record
from deployer.lifecycle import Lifecycle
from deployer.settings import DeployerSettings
from tests.fixtures.deployer.harness import deploy_request
from totem.settings import Settings


@pytest.fixture
def hosts(tmp_path) -> list[str]:
    return [f"unix://{tmp_path}/{name}.sock" for name in ("one", "two")]


@pytest.fixture
def ctx(hosts):
    root = f"/test-{uuid.uuid4().hex[:10]}/"
    env = {
        "TOTEM_CLUSTER": "unit",
        "YODA_BASE": root + "yoda",
        "TOTEM_DEPLOYER_PREFIX": root + "deployer",
        "TOTEM_DOCKER_HOSTS": ",".join(hosts),
    }
    ctx = Context(Settings.from_env(env), DeployerSettings.from_env(env))
    yield ctx
    ctx.store.delete_prefix(root)


def test_no_host_answering_fails_the_deployment_naming_them(ctx, hosts):
    record = new_record(ctx, deploy_request("nohost", "v1", "img:v1", "nohost.localhost"), "docker")
    ctx.records.create(record)
    lock = ctx.store.lock("deployer/nohost", ttl=10)
    with lock:
        done = Lifecycle(ctx, lock).run(record["id"])
    skipped = ", ".join(f"{host} (not answering)" for host in sorted(hosts))
    assert done["state"] == "FAILED"
    assert done["error"] == f"HostDown: no Docker host answers: {skipped}"
    assert done["instances"] == {} and ctx.store.list(ctx.records.root + "ports/") == {}
