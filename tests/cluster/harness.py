"""A deployer for the rig: its API (test client) and a worker in the root namespace, talking to the
rig's etcd members and to every host's engine over TLS; the hosts' own sidekicks register the
instances and the edge proxies serve them. Test apps come from the stack registry through the relay."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import docker
import requests

from tests.fixtures.deployer import images
from tests.fixtures.deployer.harness import DeployerStack, deploy_request
from tests.load import Load
from totem.contracts import yoda
from totem.contracts.labels import CLUSTER, selector
from totem.settings import Settings
from totem_cluster import engines
from totem_cluster.hosts import Host
from totem_cluster.rig import Cluster
from totem_cluster.sidekicks import HTTP_PORT

REPOSITORY = "totem-test/cluster-app"


def push_app(cluster: Cluster, version: str, healthy: bool = True) -> str:
    """The deployer test app built by the stack's engine and pushed to the registry the hosts pull from."""
    client = docker.DockerClient(base_url=Settings.from_env().docker_host, timeout=120)
    local = client.images.get(images.build(client, version, healthy))
    tag = f"{cluster.registry}/{REPOSITORY}"
    local.tag(tag, version)
    for line in client.images.push(tag, version, stream=True, decode=True):
        if "error" in line:
            raise AssertionError(f"push {tag}:{version}: {line['error']}")
    return f"{tag}:{version}"


# The host's engine over its local socket (the root namespace reaches unix sockets).
engine = engines.client


class RigDeployer(DeployerStack):
    def __init__(self, cluster: Cluster, scheduler: str = "docker", **options):
        self.rig = cluster
        environment = {**cluster.docker_env(), "YODA_BASE": cluster.base, "TOTEM_SCHEDULER": scheduler}
        super().__init__(None, with_proxy=False, with_discover=False, environment=environment, **options)

    def remove_containers(self) -> None:
        for host in self.rig.hosts:
            try:
                client = engine(host)
                for service in client.services.list(filters={"label": selector(CLUSTER, self.cluster)}):
                    service.remove()
            except docker.errors.APIError:
                pass  # a worker node has no services to list
            except (docker.errors.DockerException, requests.RequestException):
                continue  # a host the test killed
            for container in client.containers.list(all=True, filters={"label": selector(CLUSTER, self.cluster)}):
                try:
                    container.remove(force=True)
                except docker.errors.DockerException:
                    pass

    def endpoints(self, upstream: str) -> dict[str, str]:
        """The endpoints registered for `upstream`: {node: "ip:port"}."""
        prefix = yoda.endpoints_prefix(self.base, upstream)
        return {key[len(prefix) :]: value for key, value in self.store.list(prefix).items()}

    def registered(self, upstream: str) -> dict[str, str]:
        """{node: the address it is registered at} for `upstream`."""
        return {node: value.rsplit(":", 1)[0] for node, value in self.endpoints(upstream).items()}

    def promoted(self, app: str, version: str, image: str, **deployment) -> dict:
        """Deploy `app` (served as <app>.localhost) and wait until it is promoted: its record."""
        answer = self.deploy(deploy_request(app, version, image, f"{app}.localhost", **deployment))
        assert answer.status_code == 202, answer.get_json()
        record = self.wait_finished(answer.get_json()["deployment"]["id"], timeout=180)
        assert record["state"] == "PROMOTED", record
        return record


@contextmanager
def edge_loads(cluster: Cluster, vhost: str) -> Iterator[list[Load]]:
    """Load through every edge proxy (running once each has sent 20 requests), finished on the way out."""
    loads = [Load(edge_url(edge), vhost) for edge in cluster.edges]
    for load in loads:
        load.start()
    try:
        for load in loads:
            load.wait_for(20, 20)
        yield loads
    finally:
        for load in loads:
            load.finish()


def edge_url(host: Host, path: str = "/") -> str:
    return f"http://{host.address}:{HTTP_PORT}{path}"


def through(host: Host, vhost: str, path: str = "/") -> requests.Response:
    return requests.get(edge_url(host, path), headers={"Host": vhost}, timeout=5)


def revive(cluster: Cluster) -> None:
    """Everything the rig should run, running again (after a test killed a host or stopped a member)."""
    settings = Settings.from_env({**os.environ, "TOTEM_HOME": str(cluster.home.parent), "YODA_BASE": cluster.base})
    Cluster.up(settings, nodes=len(cluster.hosts), out=None)
