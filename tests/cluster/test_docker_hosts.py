"""The `docker` scheduler on the 3-host rig: instances spread over the hosts' engines (TLS), served by
both edge proxies, and switched blue-green under load through both without losing a request; an
engine named over plain tcp is refused by the deployer, and by the engine itself when forced."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import docker
import pytest

from deployer.engines import Access, connect, refusal
from tests.cluster.harness import RigDeployer, edge_loads, engine, push_app, through
from totem.contracts.labels import DEPLOYMENT, selector
from totem.waiting import wait

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tags(cluster):
    return {version: push_app(cluster, version) for version in ("v1", "v2")}


@pytest.fixture
def deployer(cluster):
    stack = RigDeployer(cluster, drain=2.0).start()
    yield stack
    stack.stop()


def test_three_instances_land_on_three_hosts_and_switch_under_load_through_both_edges(cluster, deployer, tags):
    app = f"spread-{uuid.uuid4().hex[:8]}"
    vhost = f"{app}.localhost"
    first = deployer.promoted(app, "v1", tags["v1"], nodes=3)

    assert {where["host"] for where in first["instances"].values()} == {host.docker_url for host in cluster.hosts}
    for host in cluster.hosts:  # one container on each engine
        assert len(engine(host).containers.list(filters={"label": selector(DEPLOYMENT, first["id"])})) == 1
    registered = set(deployer.registered(first["upstream"]).values())
    assert registered == {host.address for host in cluster.hosts}  # each registered by its own host
    for edge in cluster.edges:
        assert through(edge, vhost).text.strip() == "version=v1"

    with edge_loads(cluster, vhost) as loads:
        deployer.promoted(app, "v2", tags["v2"], nodes=3)
        for load in loads:
            wait(lambda load=load: load.last == "version=v2", 20, what="v2 served through every edge")
            load.wait_for(20, 20)
    for edge, load in zip(cluster.edges, loads, strict=True):
        assert load.sent > 40 and load.failures == [], f"{edge.name}: {load.summary()}"
    wait(lambda: deployer.deployment(first["id"])["state"] == "DECOMMISSIONED", 60, what="v1 decommissioned")
    for host in cluster.hosts:
        assert engine(host).containers.list(all=True, filters={"label": selector(DEPLOYMENT, first["id"])}) == []


def test_a_rig_engine_over_plain_tcp_is_refused_by_the_deployer_and_by_the_engine(cluster):
    host = cluster.hosts[1]
    plain = host.docker_url  # tcp://<address>:2376, given without the certificates
    env = {**os.environ, **cluster.docker_env(), "TOTEM_DOCKER_HOSTS": plain, "TOTEM_DOCKER_CERTS": ""}
    env["PYTHONPATH"] = str(REPO)
    argv = [sys.executable, "-m", "celery", "-A", "deployer.worker", "worker", "-Q", "refused", "--pool", "solo"]
    done = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"deployer: configuration error: {refusal(plain, Access())}"]
    # forced with TOTEM_DOCKER_INSECURE=1, the engine itself still lets no plain client in
    with pytest.raises(docker.errors.DockerException, match="HTTP request to an HTTPS server"):
        connect(plain, Access(insecure=True), timeout=10)
