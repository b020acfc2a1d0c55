"""deploy/stack.yml on the rig's Swarm (totem_cluster/on_swarm.py): Totem's image built here and pushed
to the registry every host pulls from, secrets as Swarm secrets, one `docker stack deploy`; then the
sample app pushed through it is live behind the stack's own proxy on every edge host. The stack is
removed afterwards; the rig stays up for the other tests."""

from __future__ import annotations

import json
import sys
import uuid

import pytest

from totem.settings import Settings
from totem.store import connect
from totem.swarm_node import resolve
from totem_cluster import engines, on_swarm
from totem_demo import follow

SECRET_VARIABLES = ("TOTEM_HOOK_SECRET", "TOTEM_API_TOKEN", "TOTEM_ENCRYPTION_KEY")
DIAGNOSED = ("image-factory-worker", "orchestrator-worker", "deployer-worker", "yoda-discover")


@pytest.fixture(scope="module")
def totem_stack(cluster):
    try:
        yield on_swarm.deploy_totem(cluster, Settings.from_env(), sys.stdout)
    finally:
        on_swarm.remove_totem(cluster, sys.stdout)


def logs(cluster) -> str:
    """The last lines of the services that move a push along, for a failure's message."""
    found = []
    for service in DIAGNOSED:
        args = ["service", "logs", "--no-task-ids", "--tail", "25", f"{on_swarm.STACK}_{service}"]
        try:
            found.append(on_swarm.docker_cli(cluster, args, {}, timeout=60)[-3000:])
        except RuntimeError as exc:
            found.append(str(exc))
    return "\n".join(found)


def test_host_ip_swarm_is_the_address_each_node_advertises_in_the_swarm(cluster):
    for host in cluster.hosts:
        assert resolve("swarm", host.docker_socket, "--host-ip") == host.address
    with pytest.raises(ValueError, match="not an active swarm node"):
        resolve("swarm", Settings.from_env().docker_host, "--host-ip")  # the stack's engine is in no swarm


def test_no_secret_is_in_any_service_or_container_environment(totem_stack, cluster):
    values = [totem_stack.secret(name) for name in on_swarm.GENERATED]
    values.append((on_swarm._client_certs(cluster) / "key.pem").read_text().strip())
    manager = engines.client(cluster.manager)
    try:
        services = manager.services.list(filters={"label": f"{on_swarm.NAMESPACE}={totem_stack.name}"})
        specs = {s.name: s.attrs["Spec"]["TaskTemplate"]["ContainerSpec"] for s in services}
        assert len(specs) == 9, sorted(specs)
        for name, spec in specs.items():
            env = spec.get("Env") or []
            assert not [line for line in env if line.split("=", 1)[0] in SECRET_VARIABLES], name
            assert not [value for value in values if any(value in line for line in env)], name
        deployer = specs[f"{totem_stack.name}_deployer"]
        assert {s["SecretName"] for s in deployer["Secrets"]} == {*on_swarm.GENERATED, *on_swarm.CERTIFICATES}
        assert "TOTEM_ENCRYPTION_KEY_FILE=/run/secrets/totem_encryption_key" in deployer["Env"]
    finally:
        manager.close()
    for host in cluster.hosts:  # what the tasks actually run with
        engine = engines.client(host)
        try:
            for container in engine.containers.list(filters={"label": f"{on_swarm.NAMESPACE}={totem_stack.name}"}):
                env = container.attrs["Config"]["Env"] or []
                assert not [value for value in values if any(value in line for line in env)], container.name
        finally:
            engine.close()


def test_the_stack_deploys_the_sample_app_live_behind_its_own_proxy_on_every_edge(totem_stack, cluster):
    version = f"swarm-{uuid.uuid4().hex[:8]}"
    outcome = on_swarm.deploy_sample_app(totem_stack, version)
    assert outcome.status == "live", f"{outcome.reason}\n{logs(cluster)}"
    assert outcome.deployment["state"] == "PROMOTED"
    for edge in range(len(totem_stack.edges)):
        assert follow.page(on_swarm.HELLO, proxy=totem_stack.proxy(edge)) == (200, f"hello from {version}")
    # registered by the stack's own yoda-discover, at the address of the node the task runs on
    registered = connect(cluster.etcd_url).list(f"{totem_stack.variables['YODA_BASE']}/upstreams/")
    endpoints = [value.rsplit(":", 1)[0] for key, value in registered.items() if "/endpoints/" in key]
    assert endpoints and set(endpoints) <= {host.address for host in cluster.hosts}, registered
    # each proxy announces its node's address (what yoda-route53 publishes), not the 0.0.0.0 it binds
    nodes = connect(cluster.etcd_url).list(f"{totem_stack.variables['YODA_BASE']}/proxy-nodes/")
    announced = {json.loads(value)["address"] for key, value in nodes.items() if key.endswith("/info")}
    assert announced == set(totem_stack.edges), nodes
